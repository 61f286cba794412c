/**
 * Shapes the dashboard reads from /api. The domain types come from core, imported type-only (they
 * erase at build, so no server code reaches the bundle); what is declared here is what only the
 * API's answers or the browser add.
 */
import type { Alert as StoredAlert } from '../../../core/alerts/alert.js';
import type { IndexedPost } from '../../../core/posts/post.js';

export type { AlertLevel as Level } from '../../../core/rules/rule-pack.js';
export type { AlertHit, EvidenceRef, FiredClock, NotificationRecord, PlanChecklist, PlanStepState, TimelineEntry } from '../../../core/alerts/alert.js';
export type { EscalationPolicy, LevelPolicy } from '../../../core/escalation/policy.js';
export type { AuditRecord } from '../../../core/audit/audit-log.js';
export type { EventRecord } from '../../../core/events/event.js';
export type { LedgerItem } from '../../../core/ledger/ledger-item.js';

export interface User {
  username: string;
  displayName: string;
  section?: string;
  roles: string[];
}

export interface Me {
  user: User;
  permissions: string[];
}

/** One SLA clock (签收 / 回应 / 办结) of an alert or a plan step, as the countdowns show it. */
export interface SlaClock {
  kind: string;
  dueAt: string;
  /** When the clock starts warning (amber); defaults to 80 % of its span. */
  warnAt?: string;
  startedAt?: string;
  metAt?: string;
}

/** An alert as `GET /api/alerts/:id` sends it: the stored alert with its optimistic-concurrency token. */
export type Alert = StoredAlert & { version?: string };

/** A post as the API sends it (`GET /api/alerts/:id`, search hits). */
export type Post = IndexedPost;
