import { describe, expect, it } from 'vitest';
import { clockState, clocksOf } from '../../../dashboards/src/format/clocks.js';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (min: number) => new Date(t0 + min * 60_000).toISOString();

describe('clockState: amber before a deadline, red after', () => {
  it.each([
    // 100-minute clock, now at 10 min: plenty of time
    [{ kind: 'respond', startedAt: at(0), dueAt: at(100) }, 10, 'ok'],
    // past 80 % of the span: amber
    [{ kind: 'respond', startedAt: at(0), dueAt: at(100) }, 85, 'warning'],
    // an explicit warning time wins over the 80 % default
    [{ kind: 'respond', startedAt: at(0), dueAt: at(100), warnAt: at(50) }, 60, 'warning'],
    // at the deadline: red
    [{ kind: 'acknowledge', startedAt: at(0), dueAt: at(15) }, 15, 'overdue'],
    // met late is still met: the clock stops
    [{ kind: 'acknowledge', startedAt: at(0), dueAt: at(15), metAt: at(20) }, 30, 'met'],
    // no start known: amber in the last ten minutes
    [{ kind: 'close', dueAt: at(100) }, 89, 'ok'],
    [{ kind: 'close', dueAt: at(100) }, 91, 'warning'],
  ] as const)('%o at minute %d → %s', (clock, minute, expected) => {
    expect(clockState({ ...clock }, t0 + minute * 60_000)).toBe(expected);
  });
});

describe('clocksOf', () => {
  it('reads a keyed object and starts clocks at the alert creation when they carry no start', () => {
    const clocks = clocksOf({ createdAt: at(0), clocks: { acknowledge: { dueAt: at(15) }, respond: { dueAt: at(300), metAt: at(20) } } });
    expect(clocks).toEqual([
      { kind: 'acknowledge', dueAt: at(15), startedAt: at(0) },
      { kind: 'respond', dueAt: at(300), metAt: at(20), startedAt: at(0) },
    ]);
  });

  it('returns nothing for an alert without clocks', () => {
    expect(clocksOf({ createdAt: at(0) })).toEqual([]);
  });
});
