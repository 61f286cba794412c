import type { Alert } from '../alerts/alert.js';

export interface LateFiring {
  alertId: string;
  level: Alert['level'];
  clockId: string;
  dueAt: string;
  firedAt: string;
  lateMs: number;
}

/**
 * The escalation auditor's finding: every clock that fired more than `toleranceMs` after its due
 * time, latest first. A clock that is overdue and has not fired at all shows as `firedAt: ''`.
 */
export function lateFirings(alerts: readonly Alert[], toleranceMs: number, now: Date, overdue: (alert: Alert) => { id: string; dueAt: string }[]): LateFiring[] {
  const out: LateFiring[] = [];
  for (const alert of alerts) {
    for (const f of alert.firedClocks ?? []) {
      if (f.lateMs > toleranceMs) out.push({ alertId: alert.id, level: alert.level, clockId: f.clockId, dueAt: f.dueAt, firedAt: f.firedAt, lateMs: f.lateMs });
    }
    for (const c of overdue(alert)) {
      const late = now.getTime() - Date.parse(c.dueAt);
      if (late > toleranceMs) out.push({ alertId: alert.id, level: alert.level, clockId: c.id, dueAt: c.dueAt, firedAt: '', lateMs: late });
    }
  }
  return out.sort((a, b) => b.lateMs - a.lateMs);
}
