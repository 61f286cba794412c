import { z } from 'zod';
import { AlertLevelSchema, type AlertLevel } from '../rules/rule-pack.js';
import type { EscalationPolicy } from '../escalation/policy.js';

export const AlertStatusSchema = z.enum(['new', 'acknowledged', 'handling', 'responded', 'closed', 'false_positive']);
export type AlertStatus = z.infer<typeof AlertStatusSchema>;

/** Statuses in which nothing more is expected of anyone: no clock runs. */
export const TERMINAL_STATUSES: readonly AlertStatus[] = ['closed', 'false_positive'];

/** Why an alert fired: the matched terms with their offsets in the post they were found in. */
export const AlertHitSchema = z.object({
  postId: z.string(),
  term: z.string(),
  packId: z.string(),
  category: z.string(),
  level: AlertLevelSchema,
  start: z.number().int(),
  end: z.number().int(),
  field: z.enum(['title', 'text']),
  suggestion: z.string().optional(),
});
export type AlertHit = z.infer<typeof AlertHitSchema>;

/** Who an alert is assigned to: a person (username) or a section (科室). */
export interface Assignee {
  kind: 'person' | 'section';
  id: string;
  name?: string;
}

/** One line of the alert's history as staff read it (the audit chain holds the tamper-evident copy). */
export interface TimelineEntry {
  at: string;
  kind: string;
  /** Username or system component. */
  actor: string;
  note?: string;
  postId?: string;
  from?: unknown;
  to?: unknown;
}

export interface EvidenceRef {
  /** `post` (a collected post id), `snapshot` (a stored page capture), `file`, `link`. */
  kind: 'post' | 'snapshot' | 'file' | 'link';
  ref: string;
  note?: string;
  addedAt: string;
  addedBy: string;
}

/** Why the alert has its level: the rule's level and each step that raised or lowered it. */
export interface LevelExplanation {
  ruleLevel: AlertLevel;
  level: AlertLevel;
  reasons: string[];
}

/** What the classifier said: the matched terms, the scheme groups that fired, the exclusions checked. */
export interface AlertExplanation {
  terms: { term: string; packId: string; category: string; level: AlertLevel; count: number; suggestion?: string }[];
  schemes: { id: string; name?: string; groups?: unknown }[];
  exclusionsChecked: string[];
  /** Scheme word groups (地域词, 主体词, 事件词 …) flattened for display: which were satisfied, by which words. */
  groups?: { name: string; terms: string[]; fired: boolean }[];
  /** Exclusion expressions checked, and whether they occurred. */
  exclusions?: { term: string; fired: boolean }[];
}

/** A timer that fired (or was judged), kept so none fires twice and the auditor can report lateness. */
export interface FiredClock {
  key: string;
  clockId: string;
  dueAt: string;
  firedAt: string;
  lateMs: number;
  outcome: string;
}

export interface NotificationRecord {
  at: string;
  /** What prompted it: `created`, `escalation-step-2`, `warning-acknowledge`, `level-raised`, … */
  trigger: string;
  recipients: string[];
  channels: string[];
  decision: 'send' | 'defer' | 'suppress';
  /** Named reason: `first`, `repeat-due`, `quiet-hours`, `inhibited`, `grouped`, … */
  reason: string;
  /** Shown to staff, e.g. 未发送：静默时段，将于 07:00 发送. */
  summary: string;
  sendAt?: string;
  jobIds: string[];
  /** Deferred notifications are sent by a clock with this id. */
  clockId?: string;
  delivered?: { jobId: string; channelId: string; status: string; at: string; error?: string }[];
}

export interface PlanStepState {
  id: string;
  title: string;
  role: string;
  assignee?: string;
  dueAt: string;
  evidenceRequired: boolean;
  completedAt?: string;
  completedBy?: string;
  note?: string;
  evidence: EvidenceRef[];
}

/** A triggered 预案: the checklist made from a template, each step with an owner and a deadline. */
export interface PlanChecklist {
  templateId: string;
  name: string;
  triggeredAt: string;
  triggeredBy: string;
  steps: PlanStepState[];
}

export interface Alert {
  id: string;
  packId: string;
  category: string;
  level: AlertLevel;
  status: AlertStatus;
  title: string;
  sourceId: string;
  /** 领域 of the first post (政治, 民生经济和社会 …), so a domain's report counts its own alerts. */
  domain?: string;
  /** What alerts are grouped by: the event id once events exist, else the content key. */
  groupKey: string;
  eventId?: string;
  postIds: string[];
  terms: string[];
  hits: AlertHit[];
  /** Posts in the alert (or the event's heat when the pipeline provides one). */
  heat: number;
  /** Mean sentiment of the posts, −1 (negative) … 1, when the classifier provides it. */
  sentiment?: number;
  levelExplanation: LevelExplanation;
  explanation: AlertExplanation;
  evidence: EvidenceRef[];
  timeline: TimelineEntry[];
  assignee?: Assignee;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  respondedAt?: string;
  pressConferenceAt?: string;
  closedAt?: string;
  falsePositiveReason?: string;
  /** Start of the current cycle: creation, or the last reopen. Escalation steps count from here. */
  cycleStartedAt: string;
  reopenCount: number;
  /** Highest escalation step reached in this cycle (0 = only the duty officer was told). */
  escalationStep: number;
  /** The escalation policy in force when the alert was created (a snapshot; later edits do not apply). */
  policy: EscalationPolicy;
  firedClocks: FiredClock[];
  /** Earliest pending clock, for the reconciler's query; absent when none runs. */
  nextDueAt?: string;
  notifications: NotificationRecord[];
  lastNotifiedAt?: string;
  plan?: PlanChecklist;
  createdAt: string;
  updatedAt: string;
  /**
   * Receipts of the last writes that stored the alert, newest first, kept by the store: how a write
   * whose answer was lost is recognised as landed (see pipeline/elasticsearch/write-receipts.ts).
   */
  writes?: string[];
}

/** An alert with its optimistic-concurrency token (`<seq_no>:<primary_term>`). */
export interface VersionedAlert {
  alert: Alert;
  version: string;
}

