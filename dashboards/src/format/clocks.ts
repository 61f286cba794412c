import type { Alert, Level, LevelPolicy, SlaClock } from '../api/types.js';

export type ClockState = 'met' | 'ok' | 'warning' | 'overdue';

const LEVEL_KEYS: Record<Level, 'red' | 'orange' | 'yellow' | 'blue'> = { 1: 'red', 2: 'orange', 3: 'yellow', 4: 'blue' };
const TERMINAL = ['closed', 'false_positive'];

/**
 * The alert's SLA clocks (签收, 回应, 发布会, 办结) from the escalation policy it carries: each runs from
 * the start of the alert's cycle, warns at the policy's percentage, and stops when met.
 */
export function clocksOf(
  alert: Partial<Pick<Alert, 'policy' | 'level' | 'status' | 'cycleStartedAt' | 'acknowledgedAt' | 'respondedAt' | 'pressConferenceAt' | 'closedAt'>> & {
    createdAt: string;
    /** Explicit clocks instead of a policy (a plan step's deadline). */
    clocks?: SlaClock[];
  },
): SlaClock[] {
  if (alert.policy && alert.level) {
    const lp: LevelPolicy | undefined = alert.policy.levels[LEVEL_KEYS[alert.level]];
    if (!lp) return [];
    const start = alert.cycleStartedAt ?? alert.createdAt;
    const t0 = Date.parse(start);
    const warn = (alert.policy.warnAtPercent ?? 80) / 100;
    const terminal = alert.status !== undefined && TERMINAL.includes(alert.status);
    const make = (kind: string, seconds: number, metAt: string | undefined): SlaClock => ({
      kind,
      startedAt: start,
      dueAt: new Date(t0 + seconds * 1000).toISOString(),
      warnAt: new Date(t0 + seconds * warn * 1000).toISOString(),
      ...(metAt ? { metAt } : terminal ? { metAt: alert.closedAt ?? start } : {}),
    });
    const out = [make('acknowledge', lp.acknowledgeSeconds, alert.acknowledgedAt), make('respond', lp.respondSeconds, alert.respondedAt)];
    if (lp.pressConferenceSeconds) out.push(make('press_conference', lp.pressConferenceSeconds, alert.pressConferenceAt));
    out.push(make('close', lp.closeSeconds, alert.closedAt));
    return out;
  }
  const c = alert.clocks;
  if (!Array.isArray(c)) return [];
  return c.filter((x) => typeof x?.dueAt === 'string').map((x) => ({ ...x, startedAt: x.startedAt ?? alert.createdAt }));
}

/**
 * Amber from the clock's warning time (or 80 % of its span when it has none) until the deadline,
 * red after it; a clock that was met is done whatever the time.
 */
export function clockState(clock: SlaClock, now: number): ClockState {
  if (clock.metAt) return 'met';
  const due = Date.parse(clock.dueAt);
  if (Number.isNaN(due)) return 'ok';
  if (now >= due) return 'overdue';
  const start = clock.startedAt ? Date.parse(clock.startedAt) : NaN;
  const warn = clock.warnAt ? Date.parse(clock.warnAt) : Number.isNaN(start) ? due - 10 * 60_000 : start + 0.8 * (due - start);
  return now >= warn ? 'warning' : 'ok';
}
