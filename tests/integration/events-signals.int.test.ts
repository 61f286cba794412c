import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { isolation } from '../support/isolation.js';
import { adoptLegacyBandSets, BUCKET_IDS_KEPT, RedisEventClusterer, type ClusterablePost } from '../../pipeline/events/redis-event-clusterer.js';
import { bandKeys, minhash } from '../../core/events/minhash.js';
import { RedisSignalTracker } from '../../pipeline/signals/redis-signal-tracker.js';
import { eventHeat } from '../../core/events/cluster.js';
import { DEFAULT_SIGNAL_THRESHOLDS, type SignalThresholds } from '../../core/signals/early-signal.js';

const story = '青山县城关镇城管在菜市场暴力执法，把卖菜老人的摊子掀翻了，视频已经传开';
const T0 = Date.parse('2026-11-20T08:00:00Z');

function post(id: string, text: string, minutes = 0, over: Partial<ClusterablePost> = {}): ClusterablePost {
  return { id, title: '', text, sourceId: 'demo-board', kind: 'comment', at: new Date(T0 + minutes * 60_000).toISOString(), negative: false, ...over };
}

describe('events and early signals with the band index and counters in Redis', () => {
  const iso = isolation();
  const redis = new Redis(iso.redisUrl);
  // Two workers share one Redis: each has its own connection and clusterer.
  const redis2 = new Redis(iso.redisUrl);
  const workerA = new RedisEventClusterer(redis, iso.redisPrefix, { windowMs: 72 * 3_600_000 });
  const workerB = new RedisEventClusterer(redis2, iso.redisPrefix, { windowMs: 72 * 3_600_000 });

  afterAll(async () => {
    redis.disconnect();
    redis2.disconnect();
    await iso.cleanup();
  });

  it('near-duplicate variants seen by different workers join one event with counts, sources and a timeline', async () => {
    const first = await workerA.assign(post('a1', story));
    expect(first.decision).toMatchObject({ kind: 'new', reason: 'no-candidates' });
    const second = await workerB.assign(post('a2', `转发：${story}！！`, 30, { sourceId: 'demo-website', negative: true }));
    expect(second.decision).toMatchObject({ kind: 'join', reason: 'near-duplicate', eventId: first.event.id, matchedPostId: 'a1' });
    const third = await workerA.assign(post('a3', '青山县城关镇城管在菜市场暴力执法,把卖菜老大爷的摊子掀翻了,视频已经传开了', 90, { kind: 'message' }));
    expect(third.event).toMatchObject({
      id: first.event.id,
      postIds: ['a1', 'a2', 'a3'],
      sourceIds: ['demo-board', 'demo-website'],
      postCount: 3,
      commentCount: 3,
      negativeCount: 1,
      firstSeen: new Date(T0).toISOString(),
      lastSeen: new Date(T0 + 90 * 60_000).toISOString(),
      timeline: [
        { hour: '2026-11-20T08', count: 2 },
        { hour: '2026-11-20T09', count: 1 },
      ],
      version: 3,
    });
    // Heat from the counts, with the latest hour's posts as velocity (one post in 09:00).
    expect(third.event.heat).toBe(eventHeat({ postCount: 3, commentCount: 3, negativeCount: 1, lastHourCount: 1 }));
  });

  it('an unrelated post opens its own event', async () => {
    const other = await workerB.assign(post('b1', '县教育局发布今年秋季学期中小学招生入学工作的通知，请家长按时登记'));
    expect(other.decision.kind).toBe('new');
    expect(other.event.postCount).toBe(1);
  });

  it('re-processing a post (a retried job) keeps its event and counts it once', async () => {
    const again = await workerB.assign(post('a2', `转发：${story}！！`, 30));
    expect(again.decision).toMatchObject({ kind: 'known', reason: 'already-assigned' });
    expect(again.event.postCount).toBe(3);
    expect(again.event.version).toBe(3);
  });

  it('the same story after the window opens a new event', async () => {
    const late = await workerA.assign(post('c1', story, 4 * 24 * 60));
    // Four days on, the story's first posts are out of the window (or of the slices looked in).
    expect(late.decision.kind).toBe('new');
    expect(['outside-window', 'no-candidates']).toContain((late.decision as { reason: string }).reason);
  });

  it('a near-duplicate within the window finds its event across a slice boundary, either side', async () => {
    const window = 3_600_000;
    const clusterer = new RedisEventClusterer(redis, `${iso.redisPrefix}:slices`, { windowMs: window });
    const boundary = (Math.floor(T0 / window) + 1) * window;
    const at = (ms: number) => ({ at: new Date(ms).toISOString() });
    const text = '县人民医院门诊大楼电梯突然停运，十几名病人被困半个小时，家属在现场情绪激动';
    const before = await clusterer.assign(post('s1', text, 0, at(boundary - 5 * 60_000)));
    const after = await clusterer.assign(post('s2', `${text}！`, 0, at(boundary + 50 * 60_000)));
    expect(after.decision).toMatchObject({ kind: 'join', eventId: before.event.id, matchedPostId: 's1' });
    // Arriving late, a post of the earlier slice finds the event by the later post.
    const late = await clusterer.assign(post('s3', `转：${text}`, 0, at(boundary - 40 * 60_000)));
    expect(late.decision).toMatchObject({ kind: 'join', eventId: before.event.id });
    expect(late.event.postCount).toBe(3);
  });

  it('after an upgrade, the band sets of the earlier layout move into the time slices, so a near-duplicate still finds its event', async () => {
    const prefix = `${iso.redisPrefix}:legacy`;
    const window = 72 * 3_600_000;
    const text = '县自来水厂停水三天没有任何通知，几个小区的居民到现在都没有水用';
    const at = T0 + 3 * 3_600_000;
    // As the earlier layout left it: the post's record and one set per band bucket.
    const earlier = new RedisEventClusterer(redis, prefix, { windowMs: window });
    const opened = await earlier.assign(post('L1', text, 0, { at: new Date(at).toISOString() }));
    await redis.del(...(await redis.keys(`${prefix}:lsh:s:*`)));
    for (const band of bandKeys(minhash(`\n${text}`))) await redis.sadd(`${prefix}:lsh:b:${band}`, 'L1');
    expect(await adoptLegacyBandSets(redis, prefix, window)).toBe(32);
    expect(await redis.keys(`${prefix}:lsh:b:*`)).toEqual([]);
    expect(await adoptLegacyBandSets(redis, prefix, window)).toBe(0);
    const next = await earlier.assign(post('L2', `${text}！！`, 0, { at: new Date(at + 600_000).toISOString() }));
    expect(next.decision).toMatchObject({ kind: 'join', eventId: opened.event.id, matchedPostId: 'L1' });
  });

  it('an event of many more near-duplicates than a band bucket keeps still takes the next one', async () => {
    const clusterer = new RedisEventClusterer(redis, `${iso.redisPrefix}:many`, { windowMs: 72 * 3_600_000 });
    const first = await clusterer.assign(post('m0', story));
    for (let i = 1; i <= 40; i++) {
      const next = await clusterer.assign(post(`m${i}`, `${story}（第${i}次转发）`, i));
      expect(next.event.id).toBe(first.event.id);
    }
    const keys = await redis.keys(`${iso.redisPrefix}:many:lsh:s:*`);
    const buckets = (await Promise.all(keys.map((k) => redis.hvals(k)))).flat();
    expect(buckets.length).toBeGreaterThan(0);
    expect(Math.max(...buckets.map((v) => v.split(' ').length))).toBeLessThanOrEqual(BUCKET_IDS_KEPT);
  });

  it('a position whose volume leaves its baseline raises one volume-surge signal per bucket, counted once per post', async () => {
    const thresholds: SignalThresholds = { ...DEFAULT_SIGNAL_THRESHOLDS, bucketMinutes: 60, baselineBuckets: 12, minHistoryBuckets: 6 };
    const hour = 3_600_000;
    const start = Date.parse('2026-11-21T00:00:00Z');
    let now = new Date(start);
    const tracker = new RedisSignalTracker(redis, `${iso.redisPrefix}:sig`, thresholds, () => now);
    const observe = (id: string, at: number, negative = false) =>
      tracker.observe({ id, at: new Date(at).toISOString(), negative, keys: [{ scope: 'position', key: 'demo-board' }] });

    // Twelve quiet hours: one post an hour.
    for (let h = 0; h < 12; h++) {
      now = new Date(start + h * hour);
      expect(await observe(`q${h}`, start + h * hour)).toEqual([]);
    }
    // Hour 12: a burst of 10 posts. Signals start once the minimum count is reached.
    now = new Date(start + 12 * hour + 30 * 60_000);
    const raised = [];
    for (let i = 0; i < 10; i++) raised.push(...(await observe(`burst${i}`, start + 12 * hour + i * 60_000, i % 2 === 0)));
    expect(raised.length).toBeGreaterThan(0);
    expect(new Set(raised.map((s) => s.id)).size).toBe(1);
    const last = raised[raised.length - 1]!;
    expect(last).toMatchObject({ scope: 'position', key: 'demo-board', reason: 'volume-surge', count: 10, negative: 5, baselineMean: 1, bucketStart: new Date(start + 12 * hour).toISOString() });
    expect(last.detectedAt).toBe(raised[0]!.detectedAt);
    // A retried job re-decides without counting the post twice.
    const retried = await observe('burst9', start + 12 * hour + 9 * 60_000, false);
    expect(retried[0]?.count).toBe(10);
  });

  it('after Redis lost its counters, the hours before counting began again are unknown, not zero: an ordinary hour is no surge', async () => {
    const thresholds: SignalThresholds = { ...DEFAULT_SIGNAL_THRESHOLDS, bucketMinutes: 60, baselineBuckets: 12, minHistoryBuckets: 6 };
    const hour = 3_600_000;
    const start = Date.parse('2026-11-22T00:00:00Z');
    const prefix = `${iso.redisPrefix}:lost`;
    let now = new Date(start);
    const tracker = new RedisSignalTracker(redis, prefix, thresholds, () => now);
    const observeHour = async (h: number, posts: number) => {
      now = new Date(start + h * hour + 50 * 60_000);
      const raised = [];
      for (let i = 0; i < posts; i++) raised.push(...(await tracker.observe({ id: `p${h}-${i}`, at: new Date(start + h * hour + i * 60_000).toISOString(), negative: false, keys: [{ scope: 'position', key: 'demo-board' }] })));
      return raised;
    };
    for (let h = 0; h < 20; h++) expect(await observeHour(h, 2)).toEqual([]);
    // Redis loses everything (a restart without persistence); counting goes on.
    for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
    for (let h = 20; h < 27; h++) expect(await observeHour(h, 2)).toEqual([]);
    // A re-crawl brings a post published before the loss: it counts in its own hour, and does not
    // make the hours between it and the loss read as empty.
    expect(await tracker.observe({ id: 'late', at: new Date(start + 5 * hour).toISOString(), negative: false, keys: [{ scope: 'position', key: 'demo-board' }] })).toEqual([]);
    // Three posts more than usual: against the seven hours known (2 an hour) no surge; against
    // twelve hours of which five read as empty (mean 1.2) it would be one.
    expect(await observeHour(27, 6)).toEqual([]);
    // A real surge still signals.
    expect((await observeHour(28, 12)).map((s) => s.reason)).toContain('volume-surge');
  });

  it('a deletion counted in the wrong hour is taken back out of it once (not while another of its deletions counts there), and counts again when observed there again', async () => {
    const tracker = new RedisSignalTracker(redis, `${iso.redisPrefix}:sig`, DEFAULT_SIGNAL_THRESHOLDS, () => new Date(T0));
    const deletion = (at: string) => ({ id: 'deleted:p1', at, negative: false, keys: [{ scope: 'deletions' as const, key: 'demo-board' }] });
    const counted = async () => {
      const counters = await redis.hgetall(`${iso.redisPrefix}:sig:sig:deletions:demo-board`);
      return Object.fromEntries(Object.entries(counters).filter(([f, n]) => f.endsWith(':n') && n !== '0'));
    };
    const bucket = (at: string) => `${Math.floor(Date.parse(at) / 3_600_000)}:n`;
    const [h3, h1] = ['2026-11-20T11:10:00.000Z', '2026-11-20T09:10:00.000Z'];
    await tracker.observe(deletion(h3));
    // Another deletion of the post still counts in that hour: it stays.
    await tracker.uncount(deletion(h3), ['2026-11-20T11:50:00.000Z']);
    expect(await counted()).toEqual({ [bucket(h3)]: '1' });
    await tracker.uncount(deletion(h3), [h1]);
    await tracker.uncount(deletion(h3), [h1]);
    await tracker.observe(deletion(h1));
    expect(await counted()).toEqual({ [bucket(h1)]: '1' });
    await tracker.observe(deletion(h3));
    expect(await counted()).toEqual({ [bucket(h1)]: '1', [bucket(h3)]: '1' });
  });

  it('a deletion taken back after its position\'s counters expired brings back no counter (nothing without an expiry)', async () => {
    const tracker = new RedisSignalTracker(redis, `${iso.redisPrefix}:gone`, DEFAULT_SIGNAL_THRESHOLDS, () => new Date(T0));
    const at = '2026-11-20T11:10:00.000Z';
    const deletion = { id: 'deleted:p9', at, negative: true, keys: [{ scope: 'deletions' as const, key: 'demo-board' }] };
    await tracker.observe(deletion);
    const counters = `${iso.redisPrefix}:gone:sig:deletions:demo-board`;
    expect(await redis.exists(counters)).toBe(1);
    await redis.del(counters); // expired, while the bucket's shared seen set lives on
    await tracker.uncount(deletion, ['2026-11-20T09:10:00.000Z']);
    expect(await redis.exists(counters)).toBe(0);
  });
});
