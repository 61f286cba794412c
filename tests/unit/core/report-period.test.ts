import { describe, expect, it } from 'vitest';
import { lastCompletePeriod, parsePeriod, previousPeriod } from '../../../core/reports/period.js';
import { comparedWithPrevious, humanDuration, quantile } from '../../../core/reports/stats.js';

describe('reporting periods in Shanghai time', () => {
  it.each([
    ['2026-Q3', '2026年第三季度', '2026-06-30T16:00:00.000Z', '2026-09-30T16:00:00.000Z'],
    ['2026-Q4', '2026年第四季度', '2026-09-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2026-11', '2026年11月', '2026-10-31T16:00:00.000Z', '2026-11-30T16:00:00.000Z'],
    ['2026-12', '2026年12月', '2026-11-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2026', '2026年', '2025-12-31T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2026-H1', '2026年上半年', '2025-12-31T16:00:00.000Z', '2026-06-30T16:00:00.000Z'],
    ['2026-W48', '2026年第48周（11月23日—11月29日）', '2026-11-22T16:00:00.000Z', '2026-11-29T16:00:00.000Z'], // Monday 23 Nov 2026
    ['2026-W01', '2026年第1周（12月29日—1月4日）', '2025-12-28T16:00:00.000Z', '2026-01-04T16:00:00.000Z'], // ISO week 1 starts in the old year
    ['2026-07-01..2026-07-31', '2026年7月1日至2026年7月31日', '2026-06-30T16:00:00.000Z', '2026-07-31T16:00:00.000Z'],
  ])('%s is %s', (text, label, from, to) => {
    const p = parsePeriod(text);
    expect(p.label).toBe(label);
    expect(p.from.toISOString()).toBe(from);
    expect(p.to.toISOString()).toBe(to);
  });

  it.each([['2026-Q5'], ['2026-13'], ['2026-W54'], ['2026-02-30..2026-03-01'], ['2026-03-02..2026-03-01'], ['last quarter'], ['']])('refuses %j with a message that lists the forms', (text) => {
    expect(() => parsePeriod(text)).toThrow(/period/);
  });

  it.each([
    ['2026-Q1', '2025-Q4'],
    ['2026-Q3', '2026-Q2'],
    ['2026-01', '2025-12'],
    ['2026', '2025'],
    ['2026-H1', '2025-H2'],
  ])('the period before %s is %s', (text, prev) => {
    expect(previousPeriod(parsePeriod(text)).key).toBe(prev);
  });

  it('compares a week and a custom range with the same number of days just before', () => {
    const prev = previousPeriod(parsePeriod('2026-W48'));
    expect(prev.from.toISOString()).toBe('2026-11-15T16:00:00.000Z');
    expect(prev.to.toISOString()).toBe('2026-11-22T16:00:00.000Z');
    const custom = previousPeriod(parsePeriod('2026-07-11..2026-07-20'));
    expect(custom.key).toBe('2026-07-01..2026-07-10');
  });
});

describe('report statistics', () => {
  it('interpolates quantiles and says nothing for no data', () => {
    expect(quantile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1);
    expect(quantile([], 0.5)).toBeUndefined();
  });

  it.each([
    [12, 10, '较上期增加 2（+20.0%）'],
    [5, 10, '较上期减少 5（-50.0%）'],
    [3, 0, '上期为0，本期新增 3'],
    [0, 0, '与上期持平'],
  ])('compares %i with %i as %s', (cur, prev, text) => {
    expect(comparedWithPrevious(cur, prev)).toBe(text);
  });

  it.each([
    [30, '30秒'],
    [600, '10分钟'],
    [5 * 3600, '5.0小时'],
    [3 * 86_400, '3.0天'],
    [undefined, '—'],
  ])('reads %s seconds as %s', (s, text) => {
    expect(humanDuration(s)).toBe(text);
  });
});

describe('the period a scheduled report covers', () => {
  it.each([
    ['week', '2026-11-23T00:00:00Z', '2026-W47'], // Monday 08:00 Shanghai → the week that just ended
    ['week', '2026-01-05T00:00:00Z', '2026-W01'],
    ['week', '2027-01-04T00:00:00Z', '2026-W53'],
    ['month', '2026-12-01T00:00:00Z', '2026-11'],
    ['month', '2026-01-01T00:00:00Z', '2025-12'],
    ['quarter', '2026-10-01T00:00:00Z', '2026-Q3'],
    ['quarter', '2026-01-01T00:00:00Z', '2025-Q4'],
    ['year', '2027-01-01T00:00:00Z', '2026'],
  ] as const)('a %s report run at %s covers %s', (kind, now, key) => {
    expect(lastCompletePeriod(kind, new Date(now)).key).toBe(key);
  });
});
