import type { Calendar } from '../calendar/sensitive-periods.js';
import type { EscalationPolicy } from '../escalation/policy.js';
import type { AlertLevel } from '../rules/rule-pack.js';
import type { Alert, AlertExplanation, AlertHit } from './alert.js';
import { decideLevel } from './decide-level.js';
import { startNewCycle } from './lifecycle.js';

/** What evaluation found in one post for one rule pack: the input to creating or merging an alert. */
export interface AlertSignal {
  /** Deterministic: rule pack + group key, so duplicates and re-crawls land on the same alert. */
  id: string;
  packId: string;
  category: string;
  ruleLevel: AlertLevel;
  /** The event id once events exist, else the content key of the post. */
  groupKey: string;
  eventId?: string;
  sourceId: string;
  /** 领域 of the post, when the classifier gave one. */
  domain?: string;
  title: string;
  postId: string;
  postAt: string;
  hits: AlertHit[];
  terms: string[];
  explanation: AlertExplanation;
  sentiment?: number;
  /** Heat reported by the event clustering; else the alert counts its posts. */
  eventHeat?: number;
}

export interface RaiseContext {
  now: Date;
  policy: EscalationPolicy;
  calendar: Calendar;
  timeZone: string;
}

function mean(a: number | undefined, n: number, b: number | undefined): number | undefined {
  if (b === undefined) return a;
  if (a === undefined) return b;
  return (a * n + b) / (n + 1);
}

/** A new alert from its first signal; the policy in force now is snapshotted on it. */
export function newAlert(signal: AlertSignal, ctx: RaiseContext): Alert {
  const at = ctx.now.toISOString();
  const heat = signal.eventHeat ?? 1;
  const levelExplanation = decideLevel(
    { ruleLevel: signal.ruleLevel, category: signal.category, heat, ...(signal.sentiment !== undefined ? { sentiment: signal.sentiment } : {}), at: ctx.now },
    ctx.policy.leveling,
    ctx.calendar,
    ctx.timeZone,
  );
  return {
    id: signal.id,
    packId: signal.packId,
    category: signal.category,
    level: levelExplanation.level,
    status: 'new',
    title: signal.title,
    sourceId: signal.sourceId,
    ...(signal.domain ? { domain: signal.domain } : {}),
    groupKey: signal.groupKey,
    ...(signal.eventId ? { eventId: signal.eventId } : {}),
    postIds: [signal.postId],
    terms: signal.terms,
    hits: signal.hits,
    heat,
    ...(signal.sentiment !== undefined ? { sentiment: signal.sentiment } : {}),
    levelExplanation,
    explanation: signal.explanation,
    evidence: [{ kind: 'post', ref: signal.postId, addedAt: at, addedBy: 'system' }],
    timeline: [{ at, kind: 'created', actor: 'system', postId: signal.postId, note: `${signal.postAt} 首条帖文` }],
    cycleStartedAt: at,
    reopenCount: 0,
    escalationStep: 0,
    policy: ctx.policy,
    firedClocks: [],
    notifications: [],
    createdAt: at,
    updatedAt: at,
  };
}

export type MergeOutcome = 'unchanged' | 'merged' | 'reopened';

/**
 * Folds a further signal (another post of the same event and rule) into the alert: posts, hits,
 * terms, heat and the event timeline grow; the level can only rise here (people lower it); a closed
 * alert whose event grows again is reopened. The alert keeps the policy it was created under.
 */
export function mergeSignal(alert: Alert, signal: AlertSignal, ctx: RaiseContext): { alert: Alert; outcome: MergeOutcome; levelRaised: boolean } {
  if (alert.postIds.includes(signal.postId)) return { alert, outcome: 'unchanged', levelRaised: false };
  const at = ctx.now.toISOString();
  const heat = Math.max(signal.eventHeat ?? 0, alert.postIds.length + 1);
  const sentiment = mean(alert.sentiment, alert.postIds.length, signal.sentiment);
  const decided = decideLevel(
    { ruleLevel: Math.min(alert.levelExplanation.ruleLevel, signal.ruleLevel) as AlertLevel, category: alert.category, heat, ...(sentiment !== undefined ? { sentiment } : {}), at: ctx.now },
    alert.policy.leveling,
    ctx.calendar,
    ctx.timeZone,
  );
  const levelRaised = decided.level < alert.level;
  const termsByKey = new Map(alert.explanation.terms.map((t) => [`${t.packId}\u0000${t.term}`, { ...t }]));
  for (const t of signal.explanation.terms) {
    const key = `${t.packId}\u0000${t.term}`;
    const known = termsByKey.get(key);
    if (known) known.count += t.count;
    else termsByKey.set(key, { ...t });
  }
  const next: Alert = {
    ...alert,
    postIds: [...alert.postIds, signal.postId],
    hits: [...alert.hits, ...signal.hits],
    terms: [...new Set([...alert.terms, ...signal.terms])],
    heat,
    ...(sentiment !== undefined ? { sentiment } : {}),
    ...(signal.eventId && !alert.eventId ? { eventId: signal.eventId } : {}),
    level: levelRaised ? decided.level : alert.level,
    levelExplanation: levelRaised ? { ...decided, reasons: [...alert.levelExplanation.reasons, ...decided.reasons.slice(1)] } : alert.levelExplanation,
    explanation: {
      terms: [...termsByKey.values()],
      schemes: [...alert.explanation.schemes, ...signal.explanation.schemes.filter((s) => !alert.explanation.schemes.some((x) => x.id === s.id))],
      exclusionsChecked: [...new Set([...alert.explanation.exclusionsChecked, ...signal.explanation.exclusionsChecked])],
      ...(alert.explanation.groups || signal.explanation.groups ? { groups: alert.explanation.groups ?? signal.explanation.groups } : {}),
      ...(alert.explanation.exclusions || signal.explanation.exclusions ? { exclusions: alert.explanation.exclusions ?? signal.explanation.exclusions } : {}),
    },
    evidence: [...alert.evidence, { kind: 'post', ref: signal.postId, addedAt: at, addedBy: 'system' }],
    timeline: [...alert.timeline, { at, kind: 'post-added', actor: 'system', postId: signal.postId, note: `${signal.postAt} 新增帖文，热度 ${heat}` }],
    updatedAt: at,
  };
  if (levelRaised) next.timeline.push({ at, kind: 'level-raised', actor: 'system', from: alert.level, to: decided.level, note: decided.reasons.slice(1).join('；') });
  if (alert.status === 'closed') {
    next.status = 'new';
    startNewCycle(next, alert, at);
    next.timeline.push({ at, kind: 'reopen', actor: 'system', from: 'closed', to: 'new', note: '事件再次发酵，自动重新打开' });
    return { alert: next, outcome: 'reopened', levelRaised };
  }
  return { alert: next, outcome: 'merged', levelRaised };
}
