import { describe, expect, it } from 'vitest';
import { decideSignal, DEFAULT_SIGNAL_THRESHOLDS, isNegative, signalKeysOf, type BucketCount } from '../../../core/signals/early-signal.js';

const flat = (count: number, negative = 0, n = 24): BucketCount[] => Array.from({ length: n }, () => ({ count, negative }));
const noisy: BucketCount[] = Array.from({ length: 24 }, (_, i) => ({ count: [2, 9, 1, 8, 3, 10][i % 6]!, negative: 1 }));

describe('decideSignal (defaults: min 5 posts, z ≥ 3 and ratio ≥ 3; negative share ≥ 0.5 and +0.3 over baseline)', () => {
  it.each([
    // [what, current, previous buckets, history buckets, reason]
    ['a key seen for the first time has no baseline', { count: 40, negative: 0 }, flat(0), 0, 'warming-up'],
    ['a surge of 2 posts is below the minimum', { count: 2, negative: 0 }, flat(0), 24, 'below-minimum'],
    ['20 posts where 2 an hour is usual', { count: 20, negative: 2 }, flat(2, 0), 24, 'volume-surge'],
    ['5 posts on a quiet key (mean 0.2)', { count: 5, negative: 0 }, [...flat(0, 0, 19), ...flat(1, 0, 5)], 24, 'volume-surge'],
    ['usual volume', { count: 6, negative: 1 }, flat(5, 1), 24, 'within-baseline'],
    ['twice the usual: not well above', { count: 10, negative: 1 }, flat(5, 1), 24, 'within-baseline'],
    ['12 on a key that swings between 1 and 10', { count: 12, negative: 1 }, noisy, 24, 'within-baseline'],
    ['usual volume but 5 of 6 negative where 1 in 5 was', { count: 6, negative: 5 }, flat(5, 1), 24, 'negative-shift'],
    ['mostly negative as always', { count: 6, negative: 5 }, flat(5, 4), 24, 'within-baseline'],
    ['both: volume wins', { count: 30, negative: 30 }, flat(2, 0), 24, 'volume-surge'],
  ] as const)('%s → %s', (_what, current, previous, historyBuckets, reason) => {
    const d = decideSignal({ current, previous, historyBuckets }, DEFAULT_SIGNAL_THRESHOLDS);
    expect(d.reason).toBe(reason);
    expect(d.signal).toBe(reason === 'volume-surge' || reason === 'negative-shift');
  });

  it('reports the figures behind the decision', () => {
    const d = decideSignal({ current: { count: 20, negative: 2 }, previous: flat(2), historyBuckets: 24 });
    expect(d).toMatchObject({ baselineMean: 2, ratio: 10, negativeShare: 0.1 });
    expect(d.zScore).toBeCloseTo(18 / Math.SQRT2, 2);
  });
});

describe('signal keys', () => {
  it('counts a post towards its position, its terms and categories, and its domain', () => {
    expect(signalKeysOf({ sourceId: 'site', terms: ['暴力执法', '暴力执法'], categories: ['敏感词'], domain: '政治' })).toEqual([
      { scope: 'position', key: 'site' },
      { scope: 'term', key: '暴力执法' },
      { scope: 'category', key: '敏感词' },
      { scope: 'domain', key: '政治' },
    ]);
  });

  it.each([
    [{ sentiment: { label: 'negative', score: -0.8 } }, true],
    [{ sentiment: 'negative' }, true],
    [{ sentiment: { label: 'neutral' } }, false],
    [{}, false],
  ])('reads negativity defensively: %j → %s', (post, negative) => {
    expect(isNegative(post)).toBe(negative);
  });
});
