import { z } from 'zod';
import type { AlertLevel } from '../rules/rule-pack.js';

/** The responsibility chain, bottom to top: 值班员 → 科室负责人 → 分管领导 → 第一责任人. */
export const ChainRoleSchema = z.enum(['duty', 'section_chief', 'leader', 'first_responsible']);
export type ChainRole = z.infer<typeof ChainRoleSchema>;
export const CHAIN_ROLE_NAMES: Record<ChainRole, string> = { duty: '值班员', section_chief: '科室负责人', leader: '分管领导', first_responsible: '第一责任人' };

const seconds = z.number().positive();

export const EscalationStepSchema = z.object({
  /** Seconds after the alert was raised (or reopened) at which this step fires if nobody signed for it. */
  afterSeconds: seconds,
  role: ChainRoleSchema,
});
export type EscalationStep = z.infer<typeof EscalationStepSchema>;

/** SLA clocks of one level, in seconds from the start of the alert's cycle. */
export const LevelPolicySchema = z.object({
  acknowledgeSeconds: seconds,
  /** First response with authoritative information (2016 State Council rule: 5 h for red and orange). */
  respondSeconds: seconds,
  /** Press conference (24 h for red); absent = no such clock. */
  pressConferenceSeconds: seconds.optional(),
  closeSeconds: seconds,
  steps: z.array(EscalationStepSchema).default([]),
});
export type LevelPolicy = z.infer<typeof LevelPolicySchema>;

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const Level = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);

export const NotificationPolicySchema = z.object({
  /** Notifications for these levels wait until the end of quiet hours (red and orange never wait). */
  quietHours: z.object({ from: ClockTime, to: ClockTime, levels: z.array(Level).default([3, 4]) }).optional(),
  /** New posts merged into an alert within this window after a notification do not notify again. */
  groupWindowSeconds: z.number().nonnegative().default(300),
  /** After this long, growth of an alert notifies again (`repeat-due`). */
  repeatIntervalSeconds: z.number().positive().default(4 * 3600),
  /** A higher-level open alert on the same event mutes lower-level ones (`inhibited`). */
  inhibitLowerLevelsOfSameEvent: z.boolean().default(true),
});
export type NotificationPolicy = z.infer<typeof NotificationPolicySchema>;

export const LevelingSchema = z.object({
  /** An alert whose heat (posts in it) reaches this is raised one level. */
  heatRaisesAt: z.number().int().positive().default(20),
  /** Mean sentiment at or below this (−1 … 1) raises one level. */
  negativeSentimentRaisesAt: z.number().min(-1).max(1).default(-0.6),
  /** …but only once that many posts carry it: one angry comment is not yet a swing of opinion. */
  negativeSentimentMinHeat: z.number().int().positive().default(5),
  /** At most this many levels above the rule's own level. */
  maxRaise: z.number().int().min(0).max(3).default(2),
});
export type Leveling = z.infer<typeof LevelingSchema>;

export const EscalationPolicySchema = z.object({
  id: z.string().min(1),
  version: z.number().int().positive(),
  /** Percent of an SLA clock at which a warning goes out before the deadline. */
  warnAtPercent: z.number().min(1).max(99).default(80),
  /** Levels that notify the whole chain, up to 第一责任人, the moment they arise (重大事件亲自处置). */
  topOfChainAtOnce: z.array(Level).default([1, 2]),
  /** Levels that cannot be closed without a triggered response plan. */
  requirePlanForLevels: z.array(Level).default([1]),
  levels: z.object({ red: LevelPolicySchema, orange: LevelPolicySchema, yellow: LevelPolicySchema, blue: LevelPolicySchema }),
  notifications: NotificationPolicySchema.default({ groupWindowSeconds: 300, repeatIntervalSeconds: 14400, inhibitLowerLevelsOfSameEvent: true }),
  leveling: LevelingSchema.default({ heatRaisesAt: 20, negativeSentimentRaisesAt: -0.6, negativeSentimentMinHeat: 5, maxRaise: 2 }),
});
export type EscalationPolicy = z.infer<typeof EscalationPolicySchema>;

export const EscalationConfigSchema = z.object({ policy: EscalationPolicySchema });

const LEVEL_KEYS = { 1: 'red', 2: 'orange', 3: 'yellow', 4: 'blue' } as const;

export function levelPolicy(policy: EscalationPolicy, level: AlertLevel): LevelPolicy {
  return policy.levels[LEVEL_KEYS[level]];
}

/** The role one above `role` in the chain (the top stays the top). */
export function roleAbove(role: ChainRole): ChainRole {
  const chain = ChainRoleSchema.options;
  return chain[Math.min(chain.indexOf(role) + 1, chain.length - 1)]!;
}
