import type { Alert, SlaClock } from '../api/types.js';

export type ClockState = 'met' | 'ok' | 'warning' | 'overdue';

/** The alert's SLA clocks as a list, whichever shape (array or keyed object) the API sends. */
export function clocksOf(alert: Pick<Alert, 'clocks' | 'createdAt'>): SlaClock[] {
  const c = alert.clocks;
  if (!c) return [];
  const list = Array.isArray(c) ? c : Object.entries(c).map(([kind, v]) => ({ ...v, kind }));
  return list.filter((x) => typeof x?.dueAt === 'string').map((x) => ({ ...x, startedAt: x.startedAt ?? alert.createdAt }));
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
