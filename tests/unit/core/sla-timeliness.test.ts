import { describe, expect, it } from 'vitest';
import { isOverdue, slaTimeliness, type SlaFacts } from '../../../core/alerts/sla-timeliness.js';

const start = '2026-11-25T01:00:00.000Z';
const plus = (s: number) => new Date(Date.parse(start) + s * 1000).toISOString();
const facts = (over: Partial<SlaFacts> = {}): SlaFacts => ({ status: 'new', cycleStartedAt: start, ackDeadlineSeconds: 900, respondDeadlineSeconds: 18_000, ...over });

describe('SLA timeliness (超时预警)', () => {
  it('deadlines count from the start of the cycle', () => {
    expect(slaTimeliness(facts())).toEqual({ ackDueAt: plus(900), respondDueAt: plus(18_000), ackLate: false, respondLate: false });
  });

  it.each([
    ['unsigned, before the deadline', facts(), plus(899), false],
    ['unsigned, past the deadline', facts(), plus(901), true],
    ['signed in time, response not yet due', facts({ status: 'acknowledged', acknowledgedAt: plus(600) }), plus(3600), false],
    ['signed late: overdue even when asked about an earlier moment', facts({ status: 'acknowledged', acknowledgedAt: plus(1200) }), plus(60), true],
    ['signed in time, no response past its deadline', facts({ status: 'handling', acknowledgedAt: plus(600) }), plus(18_001), true],
    ['responded late', facts({ status: 'responded', acknowledgedAt: plus(600), respondedAt: plus(20_000) }), plus(20_001), true],
    ['closed without a response does not wait for one', facts({ status: 'closed', acknowledgedAt: plus(600), closedAt: plus(7200) }), plus(99_999), false],
    ['a false positive is never overdue', facts({ status: 'false_positive' }), plus(99_999), false],
  ])('%s', (_name, f, now, expected) => {
    expect(isOverdue(f, new Date(now))).toBe(expected);
  });
});
