import { describe, expect, it } from 'vitest';
import { EscalationPolicySchema } from '../../../core/escalation/policy.js';
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

describe('clocksOf: SLA clocks from the escalation policy the alert carries', () => {
  const lp = (ack: number, respond: number, close: number, press?: number) => ({ acknowledgeSeconds: ack, respondSeconds: respond, closeSeconds: close, ...(press ? { pressConferenceSeconds: press } : {}), steps: [] });
  const policy = EscalationPolicySchema.parse({ id: 'p', version: 1, warnAtPercent: 80, levels: { red: lp(600, 18000, 86400, 86400), orange: lp(900, 18000, 172800), yellow: lp(1800, 172800, 604800), blue: lp(3600, 172800, 604800) } });

  it('an orange alert has 签收, 回应 and 办结 clocks from its cycle start; signing stops the first', () => {
    const clocks = clocksOf({ createdAt: at(0), cycleStartedAt: at(0), level: 2, status: 'acknowledged', policy, acknowledgedAt: at(5) });
    expect(clocks.map((c) => [c.kind, c.dueAt, c.metAt])).toEqual([
      ['acknowledge', at(15), at(5)],
      ['respond', at(300), undefined],
      ['close', at(2880), undefined],
    ]);
    expect(clocks[1]!.warnAt).toBe(at(240));
  });

  it('a red alert also has the press-conference clock', () => {
    expect(clocksOf({ createdAt: at(0), level: 1, status: 'new', policy }).map((c) => c.kind)).toEqual(['acknowledge', 'respond', 'press_conference', 'close']);
  });

  it('a closed alert has no running clock', () => {
    expect(clocksOf({ createdAt: at(0), level: 3, status: 'closed', closedAt: at(50), policy }).every((c) => c.metAt)).toBe(true);
  });

  it('returns nothing for an alert without a policy or clocks', () => {
    expect(clocksOf({ createdAt: at(0) })).toEqual([]);
  });
});
