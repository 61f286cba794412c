import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { createLogger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import type { IndexedPost } from '../../core/posts/post.js';
import { RulesRegistry } from '../../core/rules/rules-registry.js';
import { DEFAULT_SIGNAL_THRESHOLDS } from '../../core/signals/early-signal.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { adoptLegacySeenHash, RedisSeenStore } from '../../pipeline/ingest/dedupe.js';
import { postIdOf } from '../../pipeline/ingest/normalize.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { createQueues, createRedis } from '../../pipeline/queues.js';
import { isolation } from '../support/isolation.js';

// Issue 4: the per-post dedupe records expire, and a post whose record is gone (expired, or lost with
// Redis, which keeps nothing on disk here) is recovered from its indexed document instead of being
// taken for a new post: no history overwritten, no second hand-over to the alerts.

const iso = isolation();
const names = indexNames(iso.indexPrefix);
const direct = new Client({ node: iso.esUrl });
const rules = RulesRegistry.load(path.join(configDir, 'rules'), { log: createLogger('silent') });
const redis = createRedis(iso.redisUrl, { autoPipelining: true });
const es = createEsClient({ url: iso.esUrl, indexPrefix: iso.indexPrefix });
const bulk = new BulkIndexer(es, { flushMs: 10 });
const queues = createQueues(redis, iso.redisPrefix);
const RETENTION_MS = 1_500;

const ingest = wireIngest({
  redis,
  prefix: iso.redisPrefix,
  segment: createSegmenter(rules.current().ruleSet.words),
  classify: createClassifier(() => rules.current()),
  posts: new EsPostStore(es, names.posts, bulk),
  events: new EsEventStore(es, names.events, bulk),
  signals: new EsSignalStore(es, names.signals, bulk),
  queues,
  eventWindowHours: 72,
  signalThresholds: DEFAULT_SIGNAL_THRESHOLDS,
  seenRetentionMs: RETENTION_MS,
  now: () => new Date(),
});

let serial = 0;
function message(over: Partial<CollectedItem> = {}): CollectedItem {
  const n = ++serial;
  return {
    sourceId: 'board-retention',
    kind: 'message',
    url: `http://127.0.0.1:8601/hdjl/lyb/r${n}.html`,
    platformId: `r${n}`,
    title: `城管暴力执法（第${n}条）`,
    text: `今天在第${n}菜市场门口，城管暴力执法，把老人的菜摊掀了，大家都看见了。`,
    collectedAt: '2026-11-20T08:00:00.000Z',
    ...over,
  };
}

const hoursAfter = (hours: number) => new Date(Date.parse('2026-11-20T08:00:00.000Z') + hours * 3_600_000).toISOString();
const seenKey = (postId: string) => `${iso.redisPrefix}:seen:${postId}`;

async function documentOf(postId: string): Promise<IndexedPost> {
  await direct.indices.refresh({ index: names.posts });
  const res = await direct.search<IndexedPost>({ index: names.posts, query: { ids: { values: [postId] } } });
  expect(res.hits.hits).toHaveLength(1);
  return res.hits.hits[0]!._source!;
}

const handOversOf = async (postId: string) => (await queues.alert.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.name === 'evaluate' && (j.data as { postId: string }).postId === postId).length;

/** Until Redis has let the post's record go (its retention ran out). */
async function expired(postId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await redis.exists(seenKey(postId))) === 1) {
    if (Date.now() > deadline) throw new Error(`seen record of ${postId} did not expire`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await ensureIndices(direct, names);
});

afterAll(async () => {
  await queues.close();
  await es.close();
  redis.disconnect();
  rules.close();
  await direct.close();
  await iso.cleanup();
});

describe('seen records expire and are recovered from Elasticsearch (issue 4)', () => {
  it('a record is kept per post with the retention, renewed by each new sighting', async () => {
    const item = message();
    const id = postIdOf(item);
    expect((await ingest(item)).decision).toBe('new');
    const ttl = await redis.pttl(seenKey(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
    await new Promise((r) => setTimeout(r, 600));
    expect((await ingest({ ...item, collectedAt: hoursAfter(1) })).decision).toBe('duplicate');
    expect(await redis.pttl(seenKey(id))).toBeGreaterThan(RETENTION_MS - 500);
    // The record of the layout before retention is not written any more.
    expect(await redis.exists(`${iso.redisPrefix}:seen`)).toBe(0);
  });

  it('an old post re-crawled with the same words after its record expired is a duplicate: its document and hand-over stay as they were', async () => {
    const item = message();
    const id = postIdOf(item);
    expect((await ingest(item)).decision).toBe('new');
    const before = await documentOf(id);
    expect(before.level).toBeDefined();
    expect(await handOversOf(id)).toBe(1);
    await expired(id);

    expect((await ingest({ ...item, collectedAt: hoursAfter(30 * 24) })).decision).toBe('duplicate');
    const after = await documentOf(id);
    expect(after.indexedAt).toBe(before.indexedAt);
    expect(after.eventId).toBe(before.eventId);
    expect(await handOversOf(id)).toBe(1);
    // Remembered again, as recovered from where the post lives.
    expect(JSON.parse((await redis.get(seenKey(id)))!)).toMatchObject({ hash: before.contentHash, at: before.at, observedAt: hoursAfter(30 * 24) });
  });

  it('a leveled post whose hand-over was lost with Redis is handed over again when re-crawled (once per recovery)', async () => {
    const item = message();
    const id = postIdOf(item);
    await ingest(item);
    const before = await documentOf(id);
    // Redis lost it all: the post's record and its job on the alert queue.
    for (const job of await queues.alert.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])) if ((job.data as { postId: string }).postId === id) await job.remove();
    await redis.del(seenKey(id));
    expect(await handOversOf(id)).toBe(0);

    expect(await ingest({ ...item, collectedAt: hoursAfter(1) })).toMatchObject({ decision: 'duplicate', handedOver: true });
    const [job] = (await queues.alert.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => (j.data as { postId: string }).postId === id);
    expect(job!.data).toEqual({ postId: id, index: expect.any(String), eventId: before.eventId, contentHash: before.contentHash });
    // Remembered again: the next crawl is a plain duplicate.
    expect(await ingest({ ...item, collectedAt: hoursAfter(2) })).toEqual(expect.not.objectContaining({ handedOver: true }));
  });

  it('looked up ahead for a batch: an expired post is found where it lives, a new post is new', async () => {
    const old = message();
    await ingest(old);
    await expired(postIdOf(old));
    const fresh = message();
    const items = [{ ...old, collectedAt: hoursAfter(3) }, fresh];
    ingest.lookAhead(items);
    await new Promise((r) => setTimeout(r, 200));
    expect((await Promise.all(items.map((i) => ingest(i)))).map((o) => o.decision)).toEqual(['duplicate', 'new']);
  });

  it('re-crawled reworded after its record expired: an edit of the indexed post, the earlier words kept as a version', async () => {
    const item = message();
    const id = postIdOf(item);
    await ingest(item);
    await expired(id);
    const edited = { ...item, text: `${item.text}（已回复：已转交城管局核实处理。）`, collectedAt: hoursAfter(2) };
    expect((await ingest(edited)).decision).toBe('changed');
    const doc = await documentOf(id);
    expect(doc.text).toBe(edited.text);
    expect(doc.versions?.map((v) => v.text)).toEqual([item.text]);
  });

  it('a post found gone, its record lost: the same words found again are its return, and the deletion stays in its history', async () => {
    const item = message();
    const id = postIdOf(item);
    await ingest(item);
    expect((await ingest({ ...item, change: 'deleted', text: '', collectedAt: hoursAfter(1) })).decision).toBe('mark-deleted');
    expect((await documentOf(id)).deleted).toBeDefined();
    await redis.del(seenKey(id)); // Redis lost it (a restart without persistence)

    expect((await ingest({ ...item, collectedAt: hoursAfter(2) })).decision).toBe('changed');
    const doc = await documentOf(id);
    expect(doc.deleted).toBeUndefined();
    expect(doc.pastDeletions?.map((d) => d.crawl.at)).toEqual([hoursAfter(1)]);
  });

  it('a deletion crawled after the record expired marks the indexed post (no pending tombstone)', async () => {
    const item = message();
    const id = postIdOf(item);
    await ingest(item);
    await expired(id);
    expect((await ingest({ ...item, change: 'deleted', text: '', collectedAt: hoursAfter(1) })).decision).toBe('mark-deleted');
    expect((await documentOf(id)).deleted?.crawl.at).toBe(hoursAfter(1));
    expect(await redis.exists(`${iso.redisPrefix}:pending-deletion:${id}`)).toBe(0);
  });

  it('the one hash of the earlier layout moves into per-post keys with the retention; a key written since stays', async () => {
    const legacy = `${iso.redisPrefix}:seen`;
    await redis.hset(legacy, 'p-old-1', JSON.stringify({ hash: 'h1', home: 'posts-2026.11' }), 'p-old-2', 'barehash', 'p-new', JSON.stringify({ hash: 'stale' }));
    await new RedisSeenStore(redis, iso.redisPrefix, 60_000).remember('p-new', { hash: 'current' });
    expect(await adoptLegacySeenHash(redis, iso.redisPrefix, 60_000)).toBe(2);
    expect(await redis.exists(legacy)).toBe(0);
    const store = new RedisSeenStore(redis, iso.redisPrefix, 60_000);
    expect(await store.lookup('p-old-1')).toEqual({ hash: 'h1', home: 'posts-2026.11' });
    expect(await store.lookup('p-old-2')).toEqual({ hash: 'barehash' });
    expect(await store.lookup('p-new')).toEqual({ hash: 'current' });
    expect(await redis.pttl(seenKey('p-old-1'))).toBeGreaterThan(50_000);
    expect(await adoptLegacySeenHash(redis, iso.redisPrefix, 60_000)).toBe(0);
  });
});
