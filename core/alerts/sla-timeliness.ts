import { levelPolicy } from '../escalation/policy.js';
import type { Alert } from './alert.js';

/** What deciding "acknowledged and answered in time" needs of an alert. */
export interface SlaFacts {
  status: string;
  /** The clocks count from the start of the current cycle (creation, or the last reopen). */
  cycleStartedAt: string;
  acknowledgedAt?: string;
  respondedAt?: string;
  closedAt?: string;
  ackDeadlineSeconds: number;
  respondDeadlineSeconds: number;
}

/** The two deadlines and whether a past acknowledgement or response missed them. */
export interface SlaTimeliness {
  ackDueAt: string;
  respondDueAt: string;
  /** Acknowledged after its deadline. */
  ackLate: boolean;
  /** Responded after its deadline. */
  respondLate: boolean;
}

function after(start: string, seconds: number): string {
  return new Date(Date.parse(start) + seconds * 1000).toISOString();
}

export function slaTimeliness(a: SlaFacts): SlaTimeliness {
  const ackDueAt = after(a.cycleStartedAt, a.ackDeadlineSeconds);
  const respondDueAt = after(a.cycleStartedAt, a.respondDeadlineSeconds);
  return {
    ackDueAt,
    respondDueAt,
    ackLate: a.acknowledgedAt !== undefined && Date.parse(a.acknowledgedAt) > Date.parse(ackDueAt),
    respondLate: a.respondedAt !== undefined && Date.parse(a.respondedAt) > Date.parse(respondDueAt),
  };
}

/**
 * 超时预警: acknowledged or responded late, or still waiting past a deadline at `now` (a closed
 * alert no longer waits for a response). False positives are never overdue. The report's count and
 * the alert list's 只看超时 filter (`EsAlertStore`'s query over the stored `sla` fields) are this rule.
 */
export function isOverdue(a: SlaFacts, now: Date): boolean {
  if (a.status === 'false_positive') return false;
  const t = slaTimeliness(a);
  if (t.ackLate || t.respondLate) return true;
  if (!a.acknowledgedAt && now.getTime() > Date.parse(t.ackDueAt)) return true;
  return !a.respondedAt && !a.closedAt && now.getTime() > Date.parse(t.respondDueAt);
}

export function slaFactsOf(alert: Alert): SlaFacts {
  const policy = levelPolicy(alert.policy, alert.level);
  return {
    status: alert.status,
    cycleStartedAt: alert.cycleStartedAt,
    ...(alert.acknowledgedAt ? { acknowledgedAt: alert.acknowledgedAt } : {}),
    ...(alert.respondedAt ? { respondedAt: alert.respondedAt } : {}),
    ...(alert.closedAt ? { closedAt: alert.closedAt } : {}),
    ackDeadlineSeconds: policy.acknowledgeSeconds,
    respondDeadlineSeconds: policy.respondSeconds,
  };
}

/** The alert as stored: with its deadlines and lateness beside it, so a list can filter by them. */
export function alertDocument(alert: Alert): Alert & { sla: SlaTimeliness } {
  return { ...alert, sla: slaTimeliness(slaFactsOf(alert)) };
}
