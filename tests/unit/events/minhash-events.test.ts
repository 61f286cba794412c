import { describe, expect, it } from 'vitest';
import {
  bandKeys,
  BANDS,
  decodeSignature,
  encodeSignature,
  estimatedJaccard,
  exactJaccard,
  minhash,
  normalizeForShingles,
  PERMUTATIONS,
} from '../../../core/events/minhash.js';
import { decideCluster, eventHeat, hourOf, type ClusterCandidate } from '../../../core/events/cluster.js';

const WINDOW = 72 * 3_600_000;
const T0 = Date.parse('2026-11-20T08:00:00Z');

/** Short-post variants the way they spread: reposts with prefixes, punctuation, a changed word or two. */
const story = '青山县城关镇城管在菜市场暴力执法，把卖菜老人的摊子掀翻了，视频已经传开';
const variants = [
  '转发：青山县城关镇城管在菜市场暴力执法，把卖菜老人的摊子掀翻了，视频已经传开！！',
  '青山县城关镇城管在菜市场暴力执法,把卖菜老人的摊子掀翻了,视频已经传开了',
  '【扩散】青山县城关镇城管在菜市场暴力执法，把卖菜的老人摊子掀翻了，视频传开',
  '青山县城关镇城管在菜市场暴力执法，把卖菜老大爷的摊子掀翻了，视频已经传开',
  '青山县 城关镇 城管 在 菜市场 暴力执法 把 卖菜老人 的摊子 掀翻了 视频已经传开 #青山县#',
];
const unrelated = [
  '县教育局发布今年秋季学期中小学招生入学工作的通知，请家长按时登记',
  '城关镇菜市场改造工程今天开工，预计明年三月完工，期间临时市场设在北街',
  '青山县第十七届运动会开幕，全县三十多支代表队参加比赛',
  '今天天气很好，我们去青山公园散步，看到很多人在放风筝',
  '城管部门提醒：近期将开展占道经营专项整治，请商户文明经营',
];

function candidate(postId: string, text: string, at = T0, eventId = `ev-${postId}`): ClusterCandidate {
  return { postId, eventId, signature: minhash(text), at };
}

describe('MinHash on character bigrams', () => {
  it('folds case, full-width forms, spaces and punctuation before shingling', () => {
    expect(normalizeForShingles('Ａｂｃ，ＤＥＦ  城管！😀')).toBe('abcdef城管');
  });

  it('has 128 permutations and the same signature in every process (deterministic seeds)', () => {
    const sig = minhash(story);
    expect(sig).toHaveLength(PERMUTATIONS);
    expect(Array.from(sig)).toEqual(Array.from(minhash(story)));
    expect(Array.from(decodeSignature(encodeSignature(sig)))).toEqual(Array.from(sig));
  });

  it('estimates Jaccard close to the exact bigram Jaccard', () => {
    for (const v of [...variants, ...unrelated]) {
      expect(Math.abs(estimatedJaccard(minhash(story), minhash(v)) - exactJaccard(story, v))).toBeLessThan(0.15);
    }
  });

  it('gives 32 band keys, shared by near-duplicates and (almost never) by unrelated posts', () => {
    const keys = new Set(bandKeys(minhash(story)));
    expect(keys.size).toBe(BANDS);
    for (const v of variants) expect(bandKeys(minhash(v)).some((k) => keys.has(k))).toBe(true);
    for (const u of unrelated) expect(bandKeys(minhash(u)).some((k) => keys.has(k))).toBe(false);
  });

  it('gives no band keys for a text with nothing to compare (only punctuation)', () => {
    expect(bandKeys(minhash('！！！……'))).toEqual([]);
  });
});

describe('decideCluster', () => {
  it.each([
    // [what, candidates, post time offset, expected kind, expected reason]
    ['nothing shares a band', [], 0, 'new', 'no-candidates'],
    ['a variant within the window', [candidate('p1', story)], 3_600_000, 'join', 'near-duplicate'],
    ['the same story four days later', [candidate('p1', story)], 4 * 24 * 3_600_000, 'new', 'outside-window'],
    ['a band mate that is not similar enough', [candidate('p1', unrelated[1]!)], 0, 'new', 'below-threshold'],
  ] as const)('%s → %s (%s)', (_what, candidates, offset, kind, reason) => {
    const d = decideCluster({ signature: minhash(variants[0]!), at: T0 + offset }, candidates, WINDOW);
    expect(d.kind).toBe(kind);
    expect(d.reason).toBe(reason);
  });

  it('every short-post variant joins the story and no unrelated post does', () => {
    const seed = [candidate('p0', story)];
    for (const v of variants) expect(decideCluster({ signature: minhash(v), at: T0 }, seed, WINDOW)).toMatchObject({ kind: 'join', eventId: 'ev-p0' });
    for (const u of unrelated) expect(decideCluster({ signature: minhash(u), at: T0 }, seed, WINDOW).kind).toBe('new');
  });

  it('joins the most similar candidate, and breaks ties by the earlier post so every worker agrees', () => {
    const d = decideCluster({ signature: minhash(story), at: T0 }, [candidate('far', variants[4]!), candidate('near', variants[1]!)], WINDOW);
    expect(d).toMatchObject({ kind: 'join', matchedPostId: 'near' });
    const tie = decideCluster({ signature: minhash(story), at: T0 }, [candidate('b', story, T0 + 10, 'ev-b'), candidate('a', story, T0, 'ev-a')], WINDOW);
    expect(tie).toMatchObject({ kind: 'join', eventId: 'ev-a' });
  });
});

describe('eventHeat', () => {
  const base = { postCount: 10, commentCount: 0, negativeCount: 0, lastHourCount: 0 };
  it.each([
    // [what changes, input, should be hotter than base]
    ['more posts', { ...base, postCount: 100 }],
    ['posts arriving in the last hour', { ...base, lastHourCount: 8 }],
    ['comments', { ...base, commentCount: 30 }],
    ['a negative share', { ...base, negativeCount: 8 }],
  ])('rises with %s', (_what, input) => {
    expect(eventHeat(input)).toBeGreaterThan(eventHeat(base));
  });

  it('stays within 0–100 and is 0 for nothing', () => {
    expect(eventHeat({ postCount: 0, commentCount: 0, negativeCount: 0, lastHourCount: 0 })).toBe(0);
    expect(eventHeat({ postCount: 1e9, commentCount: 1e9, negativeCount: 1e9, lastHourCount: 1e9 })).toBeLessThanOrEqual(100);
  });

  it('buckets timelines by UTC hour', () => {
    expect(hourOf(Date.parse('2026-11-20T08:59:59Z'))).toBe('2026-11-20T08');
  });
});
