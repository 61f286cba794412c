import path from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Queue, type Job, type JobsOptions } from 'bullmq';
import { BusyError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import type { PostChange } from '../../core/alerts/post-change-note.js';
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
import { ingestBatchJobs } from '../../pipeline/ingest/ingest-batch.js';
import type { IngestOutcome } from '../../pipeline/ingest/ingest-path.js';
import { ingestJobIdOf, postIdOf } from '../../pipeline/ingest/normalize.js';
import { RedisPostClaims, type PostClaimOptions } from '../../pipeline/ingest/post-claims.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { startPipelineRole } from '../../pipeline/pipeline-role.js';
import { createQueues, createRedis, type AlertQueueJob, type IngestJob } from '../../pipeline/queues.js';
import { RedisDeadLetters, type DeadLetter } from '../../pipeline/redis/dead-letters.js';
import { createTestDesk } from '../support/alerting-harness.js';
import { eventually, isolation } from '../support/isolation.js';

const iso = isolation();
const names = indexNames(iso.indexPrefix);
const direct = new Client({ node: iso.esUrl });
const log = createLogger('silent');
const rules = RulesRegistry.load(path.join(configDir, 'rules'), { log });

let serial = 0;
/** A 留言 of its own position (so its signal counters are its own), one hour after 2026-11-20T08:00Z per `hour`. */
function message(sourceId: string, over: Partial<CollectedItem> = {}): CollectedItem {
  const n = ++serial;
  return {
    sourceId,
    kind: 'message',
    url: `http://127.0.0.1:8601/hdjl/lyb/${n}.html`,
    platformId: `m${n}`,
    title: `关于第${n}号楼供暖的留言`,
    text: `第${n}号楼供暖温度一直不达标，室内只有十二度，老人孩子受冻，物业推诿，请有关部门尽快处理。`,
    collectedAt: '2026-11-20T08:00:00.000Z',
    ...over,
  };
}

function hoursAfter(hours: number): string {
  return new Date(Date.parse('2026-11-20T08:00:00.000Z') + hours * 3_600_000).toISOString();
}

const segmenter = createSegmenter(rules.current().ruleSet.words);

function wire(
  redis: ReturnType<typeof createRedis>,
  es: ReturnType<typeof createEsClient>,
  bulk: BulkIndexer,
  queues: ReturnType<typeof createQueues>,
  claims?: PostClaimOptions,
  over: { segment?: typeof segmenter; posts?: EsPostStore } = {},
) {
  return wireIngest({
    redis,
    prefix: iso.redisPrefix,
    segment: over.segment ?? segmenter,
    classify: createClassifier(() => rules.current()),
    posts: over.posts ?? new EsPostStore(es, names.posts, bulk),
    events: new EsEventStore(es, names.events, bulk),
    signals: new EsSignalStore(es, names.signals, bulk),
    queues,
    eventWindowHours: 72,
    signalThresholds: DEFAULT_SIGNAL_THRESHOLDS,
    ...(claims ? { claims } : {}),
    now: () => new Date(),
  });
}

/** The worker role as `qianshao worker` wires it, with the dead-letter store it is given. */
/** The clients a describe block's tests share (auto-pipelined Redis, Elasticsearch, queues), closed after it. */
function useServices() {
  const redis = createRedis(iso.redisUrl, { autoPipelining: true });
  const es = createEsClient({ url: iso.esUrl, indexPrefix: iso.indexPrefix });
  const bulk = new BulkIndexer(es, { flushMs: 10 });
  const queues = createQueues(redis, iso.redisPrefix);
  afterAll(async () => {
    await queues.close();
    await es.close();
    redis.disconnect();
  });
  return { redis, es, bulk, queues };
}

async function startWorker(opts: { deadLetters?: (redis: ReturnType<typeof createRedis>) => RedisDeadLetters; concurrency?: number; claims?: PostClaimOptions } = {}) {
  const redis = createRedis(iso.redisUrl);
  const stagesRedis = createRedis(iso.redisUrl, { autoPipelining: true });
  const es = createEsClient({ url: iso.esUrl, indexPrefix: iso.indexPrefix });
  const queues = createQueues(redis, iso.redisPrefix);
  const bulk = new BulkIndexer(es, { flushMs: 10 });
  const posts = new EsPostStore(es, names.posts, bulk);
  const deadLetters = opts.deadLetters?.(redis) ?? new RedisDeadLetters(redis, iso.redisPrefix);
  const ingest = wire(stagesRedis, es, bulk, queues, opts.claims);
  const { desk, alerts } = await createTestDesk({ es, redis, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix });
  const role = startPipelineRole({ ingest, posts, desk, events: new EsEventStore(es, names.events, bulk), queues, deadLetters, connection: redis, prefix: iso.redisPrefix, ingestConcurrency: opts.concurrency ?? 16, log });
  return {
    queues,
    deadLetters,
    redis,
    posts,
    alerts,
    async close() {
      await role.close();
      await queues.close();
      await es.close();
      redis.disconnect();
      stagesRedis.disconnect();
    },
  };
}

type Worker = Awaited<ReturnType<typeof startWorker>>;

async function completed(worker: Worker, jobIds: string[]): Promise<Job<IngestJob>[]> {
  await eventually(
    async () => ((await Promise.all(jobIds.map((id) => worker.queues.ingest.getJobState(id)))).every((s) => s === 'completed') ? true : undefined),
    60_000,
    'every job completed',
  );
  return (await Promise.all(jobIds.map((id) => worker.queues.ingest.getJob(id)))) as Job<IngestJob>[];
}

/** How often each decision was taken over one-item jobs (their outcome) and batch jobs (their counts). */
function decisionsOf(jobs: Job<IngestJob>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const job of jobs) {
    const value = job.returnvalue as IngestOutcome | { decisions: Record<string, number> };
    const counts = 'decisions' in value ? value.decisions : { [value.decision]: 1 };
    for (const [decision, n] of Object.entries(counts)) out[decision] = (out[decision] ?? 0) + n;
  }
  return out;
}

/**
 * What the shared counters hold of one post: how many events hold it, whether its event counted
 * each member once, how often its position counted it and in how many signal buckets it is.
 */
async function countsOf(worker: Worker, post: IndexedPost): Promise<{ events: number; eventCountsMembers: boolean; positionCount: number; signalBuckets: number }> {
  let events = 0;
  for (const key of await worker.redis.keys(`${iso.redisPrefix}:event:{*}:posts`)) events += await worker.redis.sismember(key, post.id);
  const eventPosts = Number(await worker.redis.hget(`${iso.redisPrefix}:event:{${post.eventId}}`, 'posts'));
  const members = await worker.redis.scard(`${iso.redisPrefix}:event:{${post.eventId}}:posts`);
  const counters = await worker.redis.hgetall(`${iso.redisPrefix}:sig:position:${post.sourceId}`);
  const positionCount = Object.entries(counters)
    .filter(([field]) => field.endsWith(':n'))
    .reduce((n, [, v]) => n + Number(v), 0);
  let signalBuckets = 0;
  for (const key of await worker.redis.keys(`${iso.redisPrefix}:sig:seen:*`)) signalBuckets += await worker.redis.sismember(key, post.id);
  return { events, eventCountsMembers: eventPosts === members && members > 0, positionCount, signalBuckets };
}

async function documentsOf(postId: string): Promise<IndexedPost[]> {
  await direct.indices.refresh({ index: names.posts });
  const res = await direct.search<IndexedPost>({ index: names.posts, size: 10, query: { ids: { values: [postId] } } });
  return res.hits.hits.map((h) => h._source!);
}

beforeAll(async () => {
  await ensureIndices(direct, names);
});

afterAll(async () => {
  rules.close();
  await direct.close();
  await iso.cleanup();
});

describe('one post processed by one worker at a time (issue 3)', () => {
  let worker: Worker;
  beforeAll(async () => {
    worker = await startWorker({ concurrency: 16 });
  });
  afterAll(async () => {
    await worker.close();
  });

  it('the same item pushed again in other batches and queued by a crawler at the same moment is indexed once, its event and signals count it once', async () => {
    const item = message('board-same');
    // Each push batch also carries a post of its own, so every batch is a job of its own.
    const fillers = ['城南公园的健身器材损坏，希望尽快更换。', '建议在实验小学门口增设红绿灯和减速带。', '县医院挂号排队时间太长，能否增加网上预约号源？'];
    const batches = fillers.map((text, i) => ingestBatchJobs([item, message(`board-filler-${i}`, { title: `建议${i}`, text })])[0]!);
    const crawled = [0, 1, 2].map((i) => ({ name: 'item' as const, data: { item }, opts: { jobId: `${ingestJobIdOf(item)}-crawl-${i}` } }));
    await worker.queues.ingest.addBulk([...crawled, ...batches]);
    const jobs = await completed(worker, [...crawled, ...batches].map((j) => j.opts.jobId));

    // Six copies of the item and three fillers: the item is new once and a duplicate five times.
    expect(decisionsOf(jobs)).toEqual({ new: 4, duplicate: 5 });
    const docs = await documentsOf(postIdOf(item));
    expect(docs).toHaveLength(1);
    expect(await countsOf(worker, docs[0]!)).toEqual({ events: 1, eventCountsMembers: true, positionCount: 1, signalBuckets: 1 });
  });

  it('two wordings of one post in flight at once: one document, counted once, and the wording observed later is current whichever ran first', async () => {
    const first = message('board-edit', { collectedAt: hoursAfter(0) });
    const later = { ...first, text: `${first.text}（补充：今天已经是第三次反映。）`, collectedAt: hoursAfter(3) };
    // Several copies of each, so the two wordings meet in flight in both orders.
    const jobs = [first, later, first, later, later, first].map((item, i) => ({ name: 'item' as const, data: { item }, opts: { jobId: `${ingestJobIdOf(item)}-copy-${i}` } }));
    await worker.queues.ingest.addBulk(jobs);
    const done = await completed(worker, jobs.map((j) => j.opts.jobId));

    // One copy is new; of the rest, the later wording is an edit at most once (then its copies are
    // duplicates), and the earlier wording after the later one is stale.
    const decisions = decisionsOf(done);
    expect(decisions.new).toBe(1);
    expect(decisions.changed ?? 0).toBeLessThanOrEqual(1);
    expect((decisions.changed ?? 0) + (decisions.stale ?? 0) + (decisions.duplicate ?? 0)).toBe(5);
    const docs = await documentsOf(postIdOf(first));
    expect(docs).toHaveLength(1);
    expect(docs[0]!.text).toBe(later.text);
    expect(docs[0]!.collectedAt).toBe(later.collectedAt);
    // The earlier wording is kept as the version it is, seen until the later one appeared.
    expect(docs[0]!.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([[first.text, first.collectedAt, later.collectedAt]]);
    expect(docs[0]!.editedAt).toBe(later.collectedAt);
    // Counted in the bucket of the post's first time, once, whichever wording came first.
    expect(await countsOf(worker, docs[0]!)).toEqual({ events: 1, eventCountsMembers: true, positionCount: 1, signalBuckets: 1 });
  });

  it('an earlier wording ingested after a later one does not replace it but is kept as the earlier version (stale), and a later one replaces it (an edit)', async () => {
    const first = message('board-order', { collectedAt: hoursAfter(0) });
    const later = { ...first, text: `${first.text}（已回复：物业已上门检修。）`, collectedAt: hoursAfter(1) };
    const newest = { ...first, text: `${first.text}（第三次修改）`, collectedAt: hoursAfter(2) };
    const one = async (item: CollectedItem, tag: string) => {
      const [job] = await worker.queues.ingest.addBulk([{ name: 'item', data: { item }, opts: { jobId: `${ingestJobIdOf(item)}-${tag}` } }]);
      return (await completed(worker, [job!.id!]))[0]!.returnvalue as IngestOutcome;
    };
    expect((await one(later, 'a')).decision).toBe('new');
    expect(await one(first, 'b')).toMatchObject({ decision: 'stale', keptAsVersion: true });
    let [doc] = await documentsOf(postIdOf(first));
    expect(doc!.text).toBe(later.text);
    expect(doc!.versions?.map((v) => v.text)).toEqual([first.text]);
    expect(doc!.firstSeenAt).toBe(first.collectedAt);
    // Again: those words are known now.
    expect(await one(first, 'b2')).toEqual(expect.not.objectContaining({ keptAsVersion: true }));
    expect((await one(newest, 'c')).decision).toBe('changed');
    [doc] = await documentsOf(postIdOf(first));
    expect(doc!.text).toBe(newest.text);
    expect(doc!.versions?.map((v) => v.text)).toEqual([first.text, later.text]);
  });
});

describe('the claim on a post', () => {
  const { redis, es, bulk, queues } = useServices();

  it('a second claimant waits for the holder; when the holder does not finish in time it gets a retryable error, and a crashed holder frees the post when its lease runs out', async () => {
    const item = message('board-claim');
    const key = `${iso.redisPrefix}:claim:${postIdOf(item)}`;
    const patient = wire(redis, es, bulk, queues, { waitMs: 5_000 });
    const hasty = wire(redis, es, bulk, queues, { waitMs: 300 });

    // A holder that finishes (gives up its claim) after 600 ms: the patient claimant waits for it.
    await redis.set(key, 'another-worker', 'PX', 30_000);
    setTimeout(() => void redis.del(key), 600);
    const started = Date.now();
    expect((await patient(item)).decision).toBe('new');
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(await redis.exists(key)).toBe(0);

    // A holder that crashed: its claim stays until the lease runs out; meanwhile a claimant gives up, retryably.
    const edited = { ...item, text: `${item.text}（已修改）`, collectedAt: hoursAfter(1) };
    await redis.set(key, 'crashed-worker', 'PX', 1_500);
    const refused = await hasty(edited).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BusyError);
    expect((refused as BusyError).retryable).toBe(true);
    expect((await documentsOf(postIdOf(item)))[0]!.text).toBe(item.text);
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await hasty(edited)).decision).toBe('changed');
    expect(await redis.exists(key)).toBe(0);
  });

  it('a live holder keeps its claim past its lease (renewed); a claimant meanwhile gets a retryable error', async () => {
    const postId = postIdOf(message('board-renew'));
    const claims = new RedisPostClaims(redis, iso.redisPrefix, { leaseMs: 300, waitMs: 100 });
    const holder = await claims.claim(postId);
    await new Promise((r) => setTimeout(r, 1_000));
    await expect(claims.claim(postId)).rejects.toBeInstanceOf(BusyError);
    await holder.release();
    await (await claims.claim(postId)).release();
  });

  it('claim and read in one round trip: a free post is read behind its claim; a claimant that waited reads again and sees the last holder\'s write; a failed read gives the claim up', async () => {
    const postId = postIdOf(message('board-claim-read'));
    const key = `${iso.redisPrefix}:probe:${postId}`;
    const claims = new RedisPostClaims(redis, iso.redisPrefix, { waitMs: 5_000 });
    const read = () => redis.get(key);
    await redis.set(key, 'v1');
    const first = await claims.claimAndRead(postId, read);
    expect(first.value).toBe('v1');
    // A second claimant sends its read behind a refused claim, waits, and must not use what it read then.
    const reads: (string | null)[] = [];
    const second = claims.claimAndRead(postId, async () => {
      const value = await read();
      reads.push(value);
      return value;
    });
    await new Promise((r) => setTimeout(r, 100));
    await redis.set(key, 'v2');
    await first.claim.release();
    const after = await second;
    expect(reads).toEqual(['v1', 'v2']);
    expect(after.value).toBe('v2');
    await after.claim.release();
    // A read that fails leaves the post free for the next claimant.
    await expect(claims.claimAndRead(postId, () => Promise.reject(new Error('read failed')))).rejects.toThrow('read failed');
    await (await new RedisPostClaims(redis, iso.redisPrefix, { waitMs: 100 }).claim(postId)).release();
  });

  it('a holder process killed while it holds a claim frees the post when its lease runs out', async () => {
    const postId = postIdOf(message('board-killed'));
    const module = pathToFileURL(path.join(process.cwd(), 'pipeline/ingest/post-claims.ts')).href;
    const code = `
      import { Redis } from 'ioredis';
      import { RedisPostClaims } from ${JSON.stringify(module)};
      const claims = new RedisPostClaims(new Redis(${JSON.stringify(iso.redisUrl)}), ${JSON.stringify(iso.redisPrefix)}, { leaseMs: 1500 });
      await claims.claim(${JSON.stringify(postId)});
      process.stdout.write('claimed\\n');
      setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('claimed') && resolve());
        child.once('exit', (c) => reject(new Error(`holder exited with ${c} before claiming`)));
      });
      // Renewed while it runs: still held after its lease.
      await new Promise((r) => setTimeout(r, 2_000));
      const claims = new RedisPostClaims(redis, iso.redisPrefix, { waitMs: 100 });
      await expect(claims.claim(postId)).rejects.toBeInstanceOf(BusyError);
      const killedAt = Date.now();
      child.kill('SIGKILL');
      const patient = new RedisPostClaims(redis, iso.redisPrefix, { waitMs: 5_000 });
      await (await patient.claim(postId)).release();
      expect(Date.now() - killedAt).toBeLessThan(2_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("a claim whose lease ran out is never given up by its old holder: the new holder's claim stays", async () => {
    const item = message('board-lease');
    const key = `${iso.redisPrefix}:claim:${postIdOf(item)}`;
    const claims = new RedisPostClaims(redis, iso.redisPrefix, { leaseMs: 200, waitMs: 100 });
    const old = await claims.claim(postIdOf(item));
    // Its lease ran out while its process stood still (a long pause renews nothing).
    await redis.del(key);
    const current = await claims.claim(postIdOf(item));
    const token = await redis.get(key);
    await old.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.get(key)).toBe(token);
    await current.release();
    expect(await redis.exists(key)).toBe(0);
  });
});

describe('a deletion that arrives before the post was ever indexed is kept (issue 4)', () => {
  const { redis, es, bulk, queues } = useServices();
  const ingest = wire(redis, es, bulk, queues);

  it('crawler queued the item, then found it gone, and the deletion ran first: the post is indexed with its words and marked deleted', async () => {
    const item = message('board-gone', { collectedAt: hoursAfter(0) });
    const gone: CollectedItem = { ...item, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(1) };
    expect((await ingest(gone)).decision).toBe('kept-pending');
    expect((await ingest(gone)).decision).toBe('already-pending');
    expect(await documentsOf(postIdOf(item))).toEqual([]);

    const outcome = await ingest(item);
    expect(outcome).toMatchObject({ decision: 'new', pendingDeletion: 'deleted-before-indexed' });
    const [doc] = await documentsOf(postIdOf(item));
    expect(doc!.text).toBe(item.text);
    expect(doc!.deleted).toMatchObject({ crawl: { sourceId: 'board-gone', at: gone.collectedAt } });
    expect(await redis.exists(`${iso.redisPrefix}:pending-deletion:${postIdOf(item)}`)).toBe(0);
    // Alerts on the post's event hear of the deletion once it has one.
    const change = await queues.alert.getJobs(['waiting', 'prioritized', 'delayed']);
    expect(change.filter((j) => j.name === 'post-change').map((j) => j.data)).toContainEqual(expect.objectContaining({ postId: postIdOf(item), change: 'deleted', eventId: doc!.eventId }));

    // The same deletion again is a retry; the same words seen before it are not a return.
    expect((await ingest(gone)).decision).toBe('already-deleted');
    expect((await ingest({ ...item, collectedAt: hoursAfter(0.5) })).decision).toBe('stale');
    // Seen again after the crawl that found it gone: it is back.
    expect((await ingest({ ...item, collectedAt: hoursAfter(2) })).decision).toBe('changed');
    const [back] = await documentsOf(postIdOf(item));
    expect(back!.deleted).toBeUndefined();
    expect(back!.pastDeletions).toHaveLength(1);
  });

  it('a post observed after the crawl that found it gone is indexed as present, the deletion kept among its past deletions', async () => {
    const item = message('board-back', { collectedAt: hoursAfter(2) });
    const gone: CollectedItem = { ...item, text: '', change: 'deleted', collectedAt: hoursAfter(1) };
    expect((await ingest(gone)).decision).toBe('kept-pending');
    expect(await ingest(item)).toMatchObject({ decision: 'new', pendingDeletion: 'came-back' });
    const [doc] = await documentsOf(postIdOf(item));
    expect(doc!.deleted).toBeUndefined();
    expect(doc!.pastDeletions).toEqual([expect.objectContaining({ crawl: { sourceId: 'board-back', at: gone.collectedAt } })]);
    expect(doc!.restoredAt).toBe(item.collectedAt);
  });

  it('two crawls found it gone before any ingest, the later kept first: the first crawl is its deletion, the later its last observation; a tombstone kept before crawls were listed still applies', async () => {
    const item = message('board-gone-pending-twice', { collectedAt: hoursAfter(0) });
    const gone = (hours: number): CollectedItem => ({ ...item, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(hours) });
    expect((await ingest(gone(2))).decision).toBe('kept-pending');
    expect((await ingest(gone(1))).decision).toBe('kept-pending');
    expect((await ingest(gone(1))).decision).toBe('already-pending');
    expect(await ingest(item)).toMatchObject({ decision: 'new', pendingDeletion: 'deleted-before-indexed' });
    const [doc] = await documentsOf(postIdOf(item));
    expect(doc!.deleted?.crawl.at).toBe(hoursAfter(1));
    expect(doc!.pastDeletions).toBeUndefined();
    expect(JSON.parse((await redis.get(`${iso.redisPrefix}:seen:${postIdOf(item)}`))!).observedAt).toBe(hoursAfter(2));

    const older = message('board-gone-pending-old', { collectedAt: hoursAfter(0) });
    const tombstone = { at: hoursAfter(5), crawl: { sourceId: older.sourceId, at: hoursAfter(1) } };
    await redis.set(`${iso.redisPrefix}:pending-deletion:${postIdOf(older)}`, JSON.stringify(tombstone));
    expect(await ingest(older)).toMatchObject({ decision: 'new', pendingDeletion: 'deleted-before-indexed' });
    expect((await documentsOf(postIdOf(older)))[0]!.deleted).toEqual(tombstone);
  });

  it('a deletion that reaches the post while its first ingest is in flight, in either order through the queue, always leaves it indexed and marked', async () => {
    const worker = await startWorker({ concurrency: 16 });
    try {
      const pairs = Array.from({ length: 8 }, (_, i) => {
        const item = message(`board-race-${i}`, { collectedAt: hoursAfter(0) });
        const gone: CollectedItem = { ...item, text: '', change: 'deleted', collectedAt: hoursAfter(1) };
        return { item, gone };
      });
      // Half with the deletion queued first.
      const jobs = pairs.flatMap(({ item, gone }, i) => (i % 2 ? [gone, item] : [item, gone])).map((it) => ({ name: 'item' as const, data: { item: it }, opts: { jobId: ingestJobIdOf(it) } }));
      await worker.queues.ingest.addBulk(jobs);
      await completed(worker, jobs.map((j) => j.opts.jobId));
      for (const { item, gone } of pairs) {
        const docs = await documentsOf(postIdOf(item));
        expect(docs).toHaveLength(1);
        expect(docs[0]!.text).toBe(item.text);
        expect(docs[0]!.deleted?.crawl.at).toBe(gone.collectedAt);
      }
    } finally {
      await worker.close();
    }
  });
});

describe('dead letters are written once per item (issue 4)', () => {
  it('writing the same letter again leaves one letter at the place of its first failure', async () => {
    const redis = createRedis(iso.redisUrl);
    try {
      const letters = new RedisDeadLetters(redis, `${iso.redisPrefix}:letters`);
      const letter = { id: 'item-1', queue: 'ingest', name: 'item', data: { n: 1 }, code: 'invalid_item', reason: 'bad', attempts: 1 };
      await letters.add({ ...letter, failedAt: '2026-11-20T08:00:00.000Z' });
      await letters.add({ ...letter, id: 'item-2', failedAt: '2026-11-20T08:01:00.000Z' });
      await letters.add({ ...letter, attempts: 2, failedAt: '2026-11-20T08:02:00.000Z' });
      await letters.add({ ...letter, attempts: 3, failedAt: '2026-11-20T08:03:00.000Z' });
      const { total, letters: listed } = await letters.list(10);
      expect(total).toBe(2);
      expect(listed.map((l) => [l.id, l.attempts])).toEqual([
        ['item-2', 1],
        ['item-1', 3],
      ]);
    } finally {
      redis.disconnect();
    }
  });

  it("when a dead letter cannot be written half-way through a batch's last attempt, every failed item ends with one letter, and no item done is dead-lettered", async () => {
    /** The real store, refusing its second write once as Redis does at its memory limit. */
    class RefusingOnce extends RedisDeadLetters {
      writes = 0;
      override async add(letter: Omit<DeadLetter, 'replays'>): Promise<void> {
        if (++this.writes === 2) throw new Error('OOM command not allowed when used memory > maxmemory');
        return super.add(letter);
      }
    }
    let store: RefusingOnce | undefined;
    const worker = await startWorker({ deadLetters: (redis) => (store = new RefusingOnce(redis, iso.redisPrefix)), concurrency: 4 });
    try {
      const good = Array.from({ length: 6 }, () => message('board-letters'));
      const poison = [0, 1, 2].map((i) => ({ ...message('board-letters'), collectedAt: `yesterday-${i}` }));
      const [batch] = ingestBatchJobs([good[0]!, poison[0]!, good[1]!, good[2]!, poison[1]!, good[3]!, poison[2]!, good[4]!, good[5]!] as CollectedItem[]);
      // The last attempt is the first: every poison item is lettered in it.
      await worker.queues.ingest.add('items', batch!.data, { ...batch!.opts, attempts: 1 });
      await eventually(async () => ((await worker.queues.ingest.getJobState(batch!.opts.jobId)) === 'completed' ? true : undefined), 60_000, 'the batch job');
      expect(store!.writes).toBe(4);

      const { letters } = await worker.deadLetters.list(100);
      expect(letters.find((l) => l.id === batch!.opts.jobId)).toBeUndefined();
      const ours = letters.filter((l) => l.id.startsWith(`${batch!.opts.jobId}-`));
      expect(ours).toHaveLength(3);
      expect(ours.map((l) => (l.data as { item: CollectedItem }).item.collectedAt).sort()).toEqual(['yesterday-0', 'yesterday-1', 'yesterday-2']);
      const goodIds = new Set(good.map((g) => ingestJobIdOf(g)));
      expect(letters.filter((l) => goodIds.has(l.id))).toEqual([]);
      for (const g of good) expect(await documentsOf(postIdOf(g))).toHaveLength(1);
      expect((await worker.queues.ingest.getJob(batch!.opts.jobId))?.returnvalue).toEqual({ items: 1, decisions: {}, deadLettered: 1 });
    } finally {
      await worker.close();
    }
  });
});

/** What the position's deletion counters hold (the early-signal scope `deletions`). */
async function deletionsCounted(redis: ReturnType<typeof createRedis>, sourceId: string): Promise<number> {
  const counters = await redis.hgetall(`${iso.redisPrefix}:sig:deletions:${sourceId}`);
  return Object.entries(counters)
    .filter(([field]) => field.endsWith(':n'))
    .reduce((n, [, v]) => n + Number(v), 0);
}

/** The changes of a post handed to the alert desk (the `alert` queue, no desk running), in the order seen by the crawls. */
async function toldOf(queues: ReturnType<typeof createQueues>, postId: string): Promise<string[]> {
  const jobs = (await queues.alert.getJobs(['waiting', 'prioritized', 'delayed'])).filter((j) => j.name === 'post-change' && (j.data as PostChange).postId === postId);
  return jobs.map((j) => j.data as PostChange).sort((a, b) => Date.parse(a.seenAt) - Date.parse(b.seenAt)).map((c) => c.change);
}

/** The hours (after 2026-11-20T08:00Z) a position's deletions are counted in, with how many each. */
async function deletionHours(redis: ReturnType<typeof createRedis>, sourceId: string): Promise<Record<number, number>> {
  const counters = await redis.hgetall(`${iso.redisPrefix}:sig:deletions:${sourceId}`);
  const origin = Date.parse('2026-11-20T08:00:00.000Z') / 3_600_000;
  return Object.fromEntries(Object.entries(counters).flatMap(([field, n]) => (field.endsWith(':n') && Number(n) > 0 ? [[Number(field.split(':')[0]) - origin, Number(n)]] : [])));
}

describe('a late observation tells the alerts and counts deletions as in the order observed (issue 4)', () => {
  const { redis, es, bulk, queues } = useServices();
  const ingest = wire(redis, es, bulk, queues);
  const postOf = (sourceId: string) => {
    const seen = message(sourceId, { collectedAt: hoursAfter(0) });
    return {
      seen: (hours: number): CollectedItem => ({ ...seen, change: 'edited', collectedAt: hoursAfter(hours) }),
      gone: (hours: number): CollectedItem => ({ ...seen, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(hours) }),
      id: postIdOf(seen),
    };
  };

  it('gone, back, gone again, the return ingested last: the alerts hear of the return and of the second deletion, and both deletions count in the hours they were observed', async () => {
    const run = async (sourceId: string, hours: (p: ReturnType<typeof postOf>) => CollectedItem[]) => {
      const p = postOf(sourceId);
      for (const item of hours(p)) await ingest(item);
      const [doc] = await documentsOf(p.id);
      return { doc: doc!, told: await toldOf(queues, p.id), counted: await deletionHours(redis, sourceId) };
    };
    const inOrder = await run('board-late-return-a', (p) => [p.seen(0), p.gone(1), p.seen(2), p.gone(3)]);
    const late = await run('board-late-return-b', (p) => [p.seen(0), p.gone(1), p.gone(3), p.seen(2)]);
    expect(inOrder.told).toEqual(['deleted', 'restored', 'deleted']);
    expect(inOrder.counted).toEqual({ 1: 1, 3: 1 });
    for (const { doc, told, counted } of [inOrder, late]) {
      expect({ told, counted }).toEqual({ told: inOrder.told, counted: inOrder.counted });
      expect(doc.deleted?.crawl.at).toBe(hoursAfter(3));
      expect(doc.restoredAt).toBe(hoursAfter(2));
    }
  });

  it('a deletion ingested after a later crawl found the post still gone counts in the hour it was observed, not the later one, whether the post was indexed or not', async () => {
    const indexed = postOf('board-late-gone-indexed');
    for (const item of [indexed.seen(0), indexed.gone(3), indexed.gone(1)]) await ingest(item);
    expect(await deletionHours(redis, 'board-late-gone-indexed')).toEqual({ 1: 1 });
    const pending = postOf('board-late-gone-pending');
    for (const item of [pending.gone(3), pending.gone(1)]) await ingest(item);
    expect(await deletionHours(redis, 'board-late-gone-pending')).toEqual({ 1: 1 });
    // Its first ingest, seen in between the two crawls: each is a deletion of its own.
    await ingest(pending.seen(2));
    expect(await deletionHours(redis, 'board-late-gone-pending')).toEqual({ 1: 1, 3: 1 });
    // A retry changes nothing.
    await ingest(indexed.gone(1));
    expect(await deletionHours(redis, 'board-late-gone-indexed')).toEqual({ 1: 1 });
  });

  it('A seen ten times, a crawl that found it gone between the third and the fourth ingested last: the post was back at the fourth sighting', async () => {
    const p = postOf('board-long-run');
    for (let h = 0; h < 10; h++) await ingest(p.seen(h));
    expect((await ingest(p.gone(2.5))).decision).toBe('stale');
    const [doc] = await documentsOf(p.id);
    expect(doc!.pastDeletions?.map((d) => d.crawl.at)).toEqual([hoursAfter(2.5)]);
    expect(doc!.restoredAt).toBe(hoursAfter(3));
    expect(await toldOf(queues, p.id)).toEqual(['deleted', 'restored']);
  });
});

describe('a later observation wins over a delayed one (review findings 1 and 3)', () => {
  const { redis, es, bulk, queues } = useServices();
  const ingest = wire(redis, es, bulk, queues);

  it('restored with the same text: a deletion delayed behind the return leaves the post live, kept among its past deletions and counted, as in order', async () => {
    const run = async (sourceId: string, order: 'in order' | 'deletion delayed') => {
      const seen = message(sourceId, { collectedAt: hoursAfter(0) });
      const gone: CollectedItem = { ...seen, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(1) };
      // The crawler finds it back with the same words: `edited` with the hash it had.
      const back: CollectedItem = { ...seen, change: 'edited', collectedAt: hoursAfter(2) };
      expect((await ingest(seen)).decision).toBe('new');
      const decisions = [];
      for (const item of order === 'in order' ? [gone, back] : [back, gone]) decisions.push((await ingest(item)).decision);
      // A retry of the deletion changes nothing.
      decisions.push((await ingest(gone)).decision);
      const [doc] = await documentsOf(postIdOf(seen));
      return { decisions, doc: doc!, counted: await deletionsCounted(redis, sourceId), gone };
    };
    const inOrder = await run('board-restored-a', 'in order');
    expect(inOrder.decisions).toEqual(['mark-deleted', 'changed', 'stale']);
    const delayed = await run('board-restored-b', 'deletion delayed');
    expect(delayed.decisions).toEqual(['duplicate', 'stale', 'stale']);
    for (const { doc, counted, gone } of [inOrder, delayed]) {
      expect(doc.deleted).toBeUndefined();
      expect(doc.pastDeletions?.map((d) => d.crawl)).toEqual([{ sourceId: gone.sourceId, at: gone.collectedAt }]);
      expect(doc.restoredAt).toBe(hoursAfter(2));
      expect(counted).toBe(1);
    }
    // The alerts hear what they heard in order: the post was deleted, then it was back.
    for (const { doc } of [inOrder, delayed]) expect(await toldOf(queues, doc.id)).toEqual(['deleted', 'restored']);
  });

  it('gone, back, gone again, the return delayed behind the second absence: the post stays deleted, with the return and the past deletion of the order observed', async () => {
    const seen = message('board-gone-twice', { collectedAt: hoursAfter(0) });
    const gone = (hours: number): CollectedItem => ({ ...seen, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(hours) });
    const back: CollectedItem = { ...seen, change: 'edited', collectedAt: hoursAfter(2) };
    expect((await ingest(seen)).decision).toBe('new');
    expect((await ingest(gone(1))).decision).toBe('mark-deleted');
    expect((await ingest(gone(3))).decision).toBe('already-deleted');
    expect((await ingest(back)).decision).toBe('stale');
    // A retry of the return changes nothing.
    expect((await ingest(back)).decision).toBe('stale');
    const [doc] = await documentsOf(postIdOf(seen));
    expect(doc!.deleted?.crawl.at).toBe(hoursAfter(3));
    expect(doc!.pastDeletions?.map((d) => d.crawl.at)).toEqual([hoursAfter(1)]);
    expect(doc!.restoredAt).toBe(hoursAfter(2));
    expect(doc!.text).toBe(seen.text);
    expect(JSON.parse((await redis.get(`${iso.redisPrefix}:seen:${postIdOf(seen)}`))!).observedAt).toBe(hoursAfter(3));
  });

  it('found gone by two crawls, the later ingested first: the first crawl that found it gone is its deletion, and the alert key stays the one first told', async () => {
    const seen = message('board-gone-later-first', { collectedAt: hoursAfter(0) });
    const gone = (hours: number): CollectedItem => ({ ...seen, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(hours) });
    expect((await ingest(seen)).decision).toBe('new');
    expect((await ingest(gone(2))).decision).toBe('mark-deleted');
    const [marked] = await documentsOf(postIdOf(seen));
    expect((await ingest(gone(1))).decision).toBe('already-deleted');
    const [doc] = await documentsOf(postIdOf(seen));
    expect(doc!.deleted).toEqual({ ...marked!.deleted, crawl: { sourceId: seen.sourceId, at: hoursAfter(1) } });
    expect(doc!.pastDeletions).toBeUndefined();
    expect(JSON.parse((await redis.get(`${iso.redisPrefix}:seen:${postIdOf(seen)}`))!).observedAt).toBe(hoursAfter(2));
  });

  it('A seen twice, then B, the sightings of A ingested last and latest first: A is a version since its first sighting', async () => {
    const a0 = message('board-earlier-duplicates', { collectedAt: hoursAfter(0) });
    const b2: CollectedItem = { ...a0, text: `${a0.text}（补充：已经反映三次。）`, change: 'edited', collectedAt: hoursAfter(2) };
    expect((await ingest(b2)).decision).toBe('new');
    expect((await ingest({ ...a0, collectedAt: hoursAfter(1) })).decision).toBe('stale');
    expect((await ingest(a0)).decision).toBe('stale');
    const [doc] = await documentsOf(postIdOf(a0));
    expect(doc!.text).toBe(b2.text);
    expect(doc!.firstSeenAt).toBe(hoursAfter(0));
    expect(doc!.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([[a0.text, hoursAfter(0), hoursAfter(2)]]);
  });

  it('the same words seen at t1 and t2, t2 ingested first: the post was visible since t1 (firstSeenAt), last observed at t2', async () => {
    const t1 = message('board-first-seen', { collectedAt: hoursAfter(1) });
    const t2: CollectedItem = { ...t1, collectedAt: hoursAfter(2) };
    expect((await ingest(t2)).decision).toBe('new');
    expect((await ingest(t1)).decision).toBe('duplicate');
    const [doc] = await documentsOf(postIdOf(t1));
    expect(doc!.firstSeenAt).toBe(hoursAfter(1));
    expect(doc!.editedAt).toBeUndefined();
    expect(JSON.parse((await redis.get(`${iso.redisPrefix}:seen:${postIdOf(t1)}`))!).observedAt).toBe(hoursAfter(2));
    // Nobody is told of an edit that never was.
    const told = (await queues.alert.getJobs(['waiting', 'prioritized', 'delayed'])).filter((j) => j.name === 'post-change' && (j.data as PostChange).postId === doc!.id);
    expect(told).toEqual([]);
  });

  it('reworded, and the new words also seen before the edit was first seen (ingested last): the edit moves back to that sighting', async () => {
    const w0 = message('board-edited-earlier', { collectedAt: hoursAfter(0) });
    const w1: CollectedItem = { ...w0, text: `${w0.text}（补充：已经反映三次。）`, change: 'edited', collectedAt: hoursAfter(2) };
    for (const item of [w0, w1, { ...w1, collectedAt: hoursAfter(1) }]) await ingest(item);
    const [doc] = await documentsOf(postIdOf(w0));
    expect(doc!.text).toBe(w1.text);
    expect(doc!.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([[w0.text, hoursAfter(0), hoursAfter(1)]]);
    expect(doc!.editedAt).toBe(hoursAfter(1));
    expect(doc!.firstSeenAt).toBe(hoursAfter(0));
  });

  it('A seen three times, a wording or a deletion observed after the first and ingested last: A came back at its second sighting, not its last', async () => {
    const a = message('board-sightings', { collectedAt: hoursAfter(0) });
    const b: CollectedItem = { ...a, text: `${a.text}（此段已被修改）`, change: 'edited', collectedAt: hoursAfter(1) };
    for (const item of [a, { ...a, collectedAt: hoursAfter(3) }, { ...a, collectedAt: hoursAfter(2) }]) await ingest(item);
    expect(await ingest(b)).toMatchObject({ decision: 'stale', keptAsVersion: true });
    const [doc] = await documentsOf(postIdOf(a));
    expect(doc!.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([
      [a.text, hoursAfter(0), hoursAfter(1)],
      [b.text, hoursAfter(1), hoursAfter(2)],
    ]);
    expect(doc!.editedAt).toBe(hoursAfter(2));

    const c = message('board-sightings-gone', { collectedAt: hoursAfter(0) });
    const gone: CollectedItem = { ...c, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(1) };
    for (const item of [c, { ...c, collectedAt: hoursAfter(3) }, { ...c, collectedAt: hoursAfter(2) }]) await ingest(item);
    expect((await ingest(gone)).decision).toBe('stale');
    const [back] = await documentsOf(postIdOf(c));
    expect(back!.deleted).toBeUndefined();
    expect(back!.pastDeletions?.map((d) => d.crawl.at)).toEqual([gone.collectedAt]);
    expect(back!.restoredAt).toBe(hoursAfter(2));
  });

  it('A, then B, then A again: the post ends on A with the same versions whether B ran in order or after the second A', async () => {
    const run = async (sourceId: string, order: 'in order' | 'B delayed') => {
      const a = message(sourceId, { collectedAt: hoursAfter(0) });
      const b: CollectedItem = { ...a, text: `${a.text}（此段已被修改）`, change: 'edited', collectedAt: hoursAfter(1) };
      const again: CollectedItem = { ...a, change: 'edited', collectedAt: hoursAfter(2) };
      const decisions = [];
      for (const item of order === 'in order' ? [a, b, again] : [a, again, b]) decisions.push(await ingest(item));
      const [doc] = await documentsOf(postIdOf(a));
      return { a, b, decisions, doc: doc! };
    };
    const inOrder = await run('board-aba-1', 'in order');
    expect(inOrder.decisions.map((d) => d.decision)).toEqual(['new', 'changed', 'changed']);
    const delayed = await run('board-aba-2', 'B delayed');
    expect(delayed.decisions.map((d) => d.decision)).toEqual(['new', 'duplicate', 'stale']);
    expect(delayed.decisions[2]).toMatchObject({ keptAsVersion: true });
    for (const { a, b, doc } of [inOrder, delayed]) {
      expect(doc.text).toBe(a.text);
      expect(doc.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([
        [a.text, hoursAfter(0), hoursAfter(1)],
        [b.text, hoursAfter(1), hoursAfter(2)],
      ]);
      expect(doc.editedAt).toBe(hoursAfter(2));
    }
  });
});

describe('a sensitive wording edited away before its job ran still raises its alert (review finding 2)', () => {
  it('W1 (sensitive) delayed behind W2 (benign): an alert with W1’s terms exists and W1 is kept as a version with its hits', async () => {
    const worker = await startWorker({ concurrency: 4 });
    try {
      const w1 = message('board-sensitive', { title: '城管暴力执法', text: '今天在菜市场门口，城管暴力执法，把老人的菜摊掀了，大家都看见了。', collectedAt: hoursAfter(0) });
      const w2: CollectedItem = { ...w1, title: '菜市场门口的情况说明', text: '今天菜市场门口的摊位已经按规定搬到了室内，谢谢关注。', change: 'edited', collectedAt: hoursAfter(0.1) };
      const one = async (item: CollectedItem) => {
        const [job] = await worker.queues.ingest.addBulk([{ name: 'item', data: { item }, opts: { jobId: ingestJobIdOf(item) } }]);
        return (await completed(worker, [job!.id!]))[0]!.returnvalue as IngestOutcome;
      };
      expect(await one(w2)).toMatchObject({ decision: 'new', hits: 0 });
      expect(await one(w1)).toMatchObject({ decision: 'stale', keptAsVersion: true, handedOver: true });

      const [doc] = await documentsOf(postIdOf(w1));
      expect(doc!.text).toBe(w2.text);
      expect(doc!.level).toBeUndefined();
      expect(doc!.versions?.map((v) => [v.text, v.findings?.terms])).toEqual([[w1.text, ['暴力执法']]]);
      const alert = await eventually(async () => (await worker.alerts.touchingPost(postIdOf(w1))).find((a) => a.terms.includes('暴力执法')), 30_000, "an alert with W1's terms");
      expect(alert.title).toContain('城管暴力执法');
      // Its highlights point into W1's words.
      for (const h of alert.hits.filter((x) => x.field === 'text')) expect(w1.text.slice(h.start, h.end)).toBe(h.term);
    } finally {
      await worker.close();
    }
  });
});

describe('a sensitive wording ingested after the post was found gone still raises its alert, which notes the deletion (issue 4)', () => {
  let worker: Worker;
  beforeAll(async () => {
    worker = await startWorker({ concurrency: 4 });
  });
  afterAll(async () => {
    await worker.close();
  });
  const one = async (item: CollectedItem) => {
    const [job] = await worker.queues.ingest.addBulk([{ name: 'item', data: { item }, opts: { jobId: ingestJobIdOf(item) } }]);
    return (await completed(worker, [job!.id!]))[0]!.returnvalue as IngestOutcome;
  };
  const sensitive = (sourceId: string, collectedAt: string) =>
    message(sourceId, { title: '城管暴力执法', text: '今天在菜市场门口，城管暴力执法，把老人的菜摊掀了，大家都看见了。', collectedAt });
  /** The deletion's own note on the alert queue has run (finding no alert yet, as its wording was not evaluated). */
  const deletionNoted = async (postId: string) =>
    eventually(
      async () => {
        const jobs = await worker.queues.alert.getJobs(['completed']);
        return jobs.some((j) => j.name === 'post-change' && (j.data as PostChange).postId === postId && (j.data as PostChange).change === 'deleted') ? true : undefined;
      },
      30_000,
      "the deletion's note",
    );
  const alertOf = async (postId: string) =>
    eventually(
      async () => {
        const alert = (await worker.alerts.touchingPost(postId)).find((a) => a.terms.includes('暴力执法'));
        return alert?.timeline.some((e) => e.kind === 'post-deleted' && e.postId === postId) ? alert : undefined;
      },
      30_000,
      'an alert with the sensitive terms that notes the deletion',
    );

  it('indexed, found gone, then the wording it had when it went: that wording becomes the deleted post’s, is alerted on, and the alert notes 原帖已删除', async () => {
    const w0 = message('board-gone-late', { collectedAt: hoursAfter(0) });
    const a: CollectedItem = { ...sensitive('board-gone-late', hoursAfter(1)), url: w0.url, platformId: w0.platformId, change: 'edited' };
    const gone: CollectedItem = { ...w0, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(2) };
    expect(await one(w0)).toMatchObject({ decision: 'new', hits: 0 });
    expect((await one(gone)).decision).toBe('mark-deleted');
    await deletionNoted(postIdOf(w0));
    expect(await one(a)).toMatchObject({ decision: 'stale', wordingWhenDeleted: true });

    // As in the order observed: the post read A when it went, w0 is its earlier wording, the deletion stays.
    const [doc] = await documentsOf(postIdOf(w0));
    expect(doc!.text).toBe(a.text);
    expect(doc!.terms).toContain('暴力执法');
    expect(doc!.deleted?.crawl.at).toBe(gone.collectedAt);
    expect(doc!.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([[w0.text, hoursAfter(0), hoursAfter(1)]]);
    expect(doc!.editedAt).toBe(hoursAfter(1));
    expect(JSON.parse((await worker.redis.get(`${iso.redisPrefix}:seen:${postIdOf(w0)}`))!)).toMatchObject({ hash: doc!.contentHash, observedAt: gone.collectedAt, deletedAt: doc!.deleted!.at });
    const alert = await alertOf(postIdOf(w0));
    expect(alert.title).toContain('城管暴力执法');
    expect(alert.timeline.filter((e) => e.kind === 'post-deleted')).toHaveLength(1);
    // Found gone again by a later crawl: the alert is not told twice.
    expect((await one({ ...gone, collectedAt: hoursAfter(3) })).decision).toBe('already-deleted');
    await deletionNoted(postIdOf(w0));
    expect((await worker.alerts.touchingPost(postIdOf(w0))).find((x) => x.id === alert.id)!.timeline.filter((e) => e.kind === 'post-deleted')).toHaveLength(1);
  });

  it('the alert on a post gone, back and gone again ends with the notes of the order observed, each once, whether the return or the first deletion is ingested last', async () => {
    const notesOf = async (postId: string, count: number) =>
      eventually(
        async () => {
          const alert = (await worker.alerts.touchingPost(postId)).find((a) => a.terms.includes('暴力执法'));
          // Each note as its kind and the crawl that saw the change.
          const notes = alert?.timeline.filter((e) => e.postId === postId && ['post-deleted', 'post-edited', 'post-restored'].includes(e.kind)).map((e) => `${e.kind}@${/于 (\S+) 采集/.exec(e.note ?? '')?.[1] ?? e.note}`);
          return notes && notes.length >= count ? notes : undefined;
        },
        30_000,
        `${count} notes on the alert`,
      );
    const run = async (sourceId: string, late: 'return' | 'deletion') => {
      const a = sensitive(sourceId, hoursAfter(0));
      const back: CollectedItem = { ...a, change: 'edited', collectedAt: hoursAfter(2) };
      const gone = (hours: number): CollectedItem => ({ ...a, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(hours) });
      await one(a);
      // The alert exists before the changes reach it.
      await notesOf(postIdOf(a), 0);
      for (const item of late === 'return' ? [gone(1), gone(3), back] : [back, gone(3), gone(1)]) await one(item);
      await notesOf(postIdOf(a), 3);
      // Whatever else was queued has run by now: nothing more comes.
      await new Promise((r) => setTimeout(r, 1500));
      return notesOf(postIdOf(a), 3);
    };
    for (const late of ['return', 'deletion'] as const) {
      const notes = await run(`board-late-${late}-alert`, late);
      expect([...notes].sort(), `${late} ingested last`).toEqual([`post-deleted@${hoursAfter(1)}`, `post-deleted@${hoursAfter(3)}`, `post-restored@${hoursAfter(2)}`]);
    }
  });

  it('found gone before any ingest (a pending tombstone), then the wording: indexed deleted, alerted on, and the alert notes 原帖已删除', async () => {
    const a = sensitive('board-gone-first', hoursAfter(1));
    const gone: CollectedItem = { ...a, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(2) };
    expect((await one(gone)).decision).toBe('kept-pending');
    // The deletion's note is queued with the wording's evaluation and may run first, finding no alert.
    expect(await one(a)).toMatchObject({ decision: 'new', pendingDeletion: 'deleted-before-indexed' });
    const [doc] = await documentsOf(postIdOf(a));
    expect(doc!.deleted?.crawl.at).toBe(gone.collectedAt);
    const alert = await alertOf(postIdOf(a));
    expect(alert.title).toContain('城管暴力执法');
  });

  it('a wording kept as an earlier version of a deleted post is alerted on, and the alert notes 原帖已删除', async () => {
    const a = sensitive('board-gone-version', hoursAfter(0));
    const b: CollectedItem = { ...a, title: '菜市场门口的情况说明', text: '今天菜市场门口的摊位已经按规定搬到了室内，谢谢关注。', change: 'edited', collectedAt: hoursAfter(1) };
    const gone: CollectedItem = { ...a, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(2) };
    expect((await one(b)).decision).toBe('new');
    expect((await one(gone)).decision).toBe('mark-deleted');
    await deletionNoted(postIdOf(a));
    expect(await one(a)).toMatchObject({ decision: 'stale', keptAsVersion: true, handedOver: true });
    const [doc] = await documentsOf(postIdOf(a));
    expect(doc!.text).toBe(b.text);
    expect(doc!.versions?.map((v) => [v.text, v.findings?.terms])).toEqual([[a.text, ['暴力执法']]]);
    await alertOf(postIdOf(a));
  });
});

/** How long a crashing process stands still: past the post's claim (a lease of `CRASH_LEASE_MS`), so the holder's next check fails. */
const CRASH_LEASE_MS = 1_000;
function standStill(): void {
  // No timer runs meanwhile (the claim's renewal neither), as in a process killed or frozen there.
  const until = Date.now() + 2 * CRASH_LEASE_MS;
  while (Date.now() < until);
}

/**
 * The real `alert` queue that, armed, stands still right after a post change lands on it: the item
 * then fails at the claim's check before `seen.remember` (`claim_lost`), like a job whose worker
 * died between handing the change over and remembering the post, and is run again (BullMQ's retry).
 */
class CrashAfterHandOver extends Queue<AlertQueueJob> {
  armed = false;
  override async add(name: string, data: AlertQueueJob, opts?: JobsOptions) {
    const job = await super.add(name, data, opts);
    if (this.armed && name === 'post-change') {
      this.armed = false;
      standStill();
    }
    return job;
  }
}

/** The real post store that, armed, stands still right after the post is written (a deletion's mark, readable by alert evaluation): the item fails before `seen.remember`. */
class CrashAfterPostWrite extends EsPostStore {
  armed = false;
  override async upsert(post: IndexedPost, home?: string): Promise<string> {
    const index = await super.upsert(post, home);
    if (this.armed) {
      this.armed = false;
      standStill();
    }
    return index;
  }
}

describe('a job retried after handing a change over but before remembering the post: each alert notes the change once (issue 4)', () => {
  const { redis, es, bulk, queues } = useServices();
  const alertQueue = new CrashAfterHandOver('alert', { connection: redis, prefix: iso.redisPrefix, defaultJobOptions: queues.alert.defaultJobOptions });
  const posts = new CrashAfterPostWrite(es, names.posts, bulk);
  const ingest = wire(redis, es, bulk, { ...queues, alert: alertQueue }, { leaseMs: CRASH_LEASE_MS }, { posts });
  let worker: Worker;
  beforeAll(async () => {
    worker = await startWorker({ concurrency: 4 });
  });
  afterAll(async () => {
    await worker.close();
    await alertQueue.close();
  });

  const postOf = (sourceId: string) => {
    const first = message(sourceId, { title: '城管暴力执法', text: '今天在菜市场门口，城管暴力执法，把老人的菜摊掀了，大家都看见了。', collectedAt: hoursAfter(0) });
    return {
      first,
      seen: (hours: number): CollectedItem => ({ ...first, change: 'edited', collectedAt: hoursAfter(hours) }),
      gone: (hours: number): CollectedItem => ({ ...first, text: '', title: undefined, change: 'deleted', collectedAt: hoursAfter(hours) }),
      id: postIdOf(first),
    };
  };
  /** The alert raised on the post's words. */
  const alertOf = (postId: string) => eventually(async () => (await worker.alerts.touchingPost(postId)).find((a) => a.terms.includes('暴力执法')), 30_000, 'the alert on the post');
  /** The alert's notes of the post's changes, each as its kind and the hour of the crawl that saw it, sorted. */
  const notesOf = async (postId: string) =>
    (await alertOf(postId)).timeline
      .filter((e) => e.postId === postId && ['post-deleted', 'post-edited', 'post-restored'].includes(e.kind))
      .map((e) => `${e.kind}@${(Date.parse(/于 (\S+) 采集/.exec(e.note ?? '')![1]!) - Date.parse(hoursAfter(0))) / 3_600_000}`)
      .sort();
  const noted = (postId: string, expected: readonly string[]) =>
    eventually(async () => ((await notesOf(postId)).join() === [...expected].sort().join() ? true : undefined), 30_000, `the notes ${expected.join(', ')}`);
  /** Whatever was handed to the alert queue has run. */
  const drained = () =>
    eventually(async () => (Object.values(await alertQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((n) => n === 0) ? true : undefined), 30_000, 'the alert queue drained');
  /** Ingests `item` in a job that crashes where `crash` stands still, then runs it again; resolves the retry's decision. */
  const crashedThenRetried = async (item: CollectedItem, crash: { armed: boolean }, between: () => Promise<unknown>) => {
    crash.armed = true;
    expect(await ingest(item).catch((err: unknown) => err)).toMatchObject({ code: 'claim_lost' });
    expect(crash.armed).toBe(false);
    await between();
    return (await ingest(item)).decision;
  };

  it.each([
    // [the post before the late crawl, what it is ingested as, the notes at the end]
    ['standing (seen back after the crawl)', 'stale', ['post-deleted@1', 'post-restored@2']],
    ['gone again since', 'already-deleted', ['post-deleted@1', 'post-deleted@3', 'post-restored@2']],
  ] as const)('(a) a late deletion that starts a run of its own, the post %s: 原帖已删除 of that crawl once', async (what, decision, expected) => {
    const p = postOf(`board-retry-late-gone-${decision}`);
    await ingest(p.first);
    await alertOf(p.id);
    await ingest(p.seen(2));
    if (what === 'gone again since') {
      await ingest(p.gone(3));
      await noted(p.id, ['post-deleted@3']);
    }
    // The crashed job's notes reach the alert before it runs again.
    expect(await crashedThenRetried(p.gone(1), alertQueue, () => noted(p.id, expected))).toBe(decision);
    await drained();
    expect(await notesOf(p.id)).toEqual([...expected].sort());
  });

  it('(b) an in-order deletion: the mark is written and read by the alert’s evaluation before the job crashes and runs again: 原帖已删除 once', async () => {
    const p = postOf('board-retry-gone');
    // The post's evaluation runs only once the mark is written.
    await worker.queues.alert.pause();
    try {
      await ingest(p.first);
      expect(
        await crashedThenRetried(p.gone(1), posts, async () => {
          await worker.queues.alert.resume();
          await noted(p.id, ['post-deleted@1']);
        }),
      ).toBe('already-deleted');
    } finally {
      await worker.queues.alert.resume();
    }
    await drained();
    expect(await notesOf(p.id)).toEqual(['post-deleted@1']);
  });

  // (c) and (d) guard what held before: a rewording or a return is keyed by its content hash.
  it('(c) an edit: 原帖已修改 once', async () => {
    const p = postOf('board-retry-edit');
    await ingest(p.first);
    await alertOf(p.id);
    const edited: CollectedItem = { ...p.seen(1), text: `${p.first.text}（补充：今天已经是第三次反映。）` };
    expect(await crashedThenRetried(edited, alertQueue, () => noted(p.id, ['post-edited@1']))).toBe('changed');
    await drained();
    expect(await notesOf(p.id)).toEqual(['post-edited@1']);
  });

  it.each([
    // [when the return is ingested, what it is ingested as, the notes at the end]
    ['in order', 'changed', ['post-deleted@1', 'post-restored@2']],
    ['after the post was found gone again', 'stale', ['post-deleted@1', 'post-deleted@3', 'post-restored@2']],
  ] as const)('(d) a return ingested %s: 原帖已恢复 once', async (when, decision, expected) => {
    const p = postOf(`board-retry-back-${decision}`);
    await ingest(p.first);
    await alertOf(p.id);
    await ingest(p.gone(1));
    // Found gone again: the same run, told once.
    if (when !== 'in order') await ingest(p.gone(3));
    await noted(p.id, ['post-deleted@1']);
    expect(await crashedThenRetried(p.seen(2), alertQueue, () => noted(p.id, expected))).toBe(decision);
    await drained();
    expect(await notesOf(p.id)).toEqual([...expected].sort());
  });
});

describe('a busy post is waited for, never dead-lettered (review finding 4)', () => {
  it('a one-item job and a batch job whose posts another worker holds, on their last attempt, are delayed until the holder is done and then indexed, with no dead letter', async () => {
    const worker = await startWorker({ concurrency: 4, claims: { waitMs: 100 } });
    try {
      const single = message('board-busy');
      const inBatch = message('board-busy');
      const mate = message('board-busy-mate');
      for (const item of [single, inBatch]) await worker.redis.set(`${iso.redisPrefix}:claim:${postIdOf(item)}`, 'another-worker', 'PX', 2_500);
      const [batch] = ingestBatchJobs([inBatch, mate]);
      const singleId = `${ingestJobIdOf(single)}-busy`;
      // One attempt each: before, the first `post_busy` was its last and it was dead-lettered.
      await worker.queues.ingest.add('item', { item: single }, { jobId: singleId, attempts: 1 });
      await worker.queues.ingest.add('items', batch!.data, { ...batch!.opts, attempts: 1 });
      const [singleJob, batchJob] = await completed(worker, [singleId, batch!.opts.jobId]);
      expect((singleJob!.returnvalue as IngestOutcome).decision).toBe('new');
      // The batch's mate was done at once; the batch shrank to the busy item and ran again later.
      expect(batchJob!.returnvalue).toEqual({ items: 1, decisions: { new: 1 }, deadLettered: 0 });
      expect(singleJob!.attemptsStarted).toBeGreaterThan(1);
      const { letters } = await worker.deadLetters.list(100);
      expect(letters.filter((l) => [singleId, ingestJobIdOf(inBatch), batch!.opts.jobId].includes(l.id))).toEqual([]);
      for (const item of [single, inBatch, mate]) expect(await documentsOf(postIdOf(item))).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });
});

describe('a holder that lost its claim writes nothing (review finding 5)', () => {
  const { redis, es, bulk, queues } = useServices();
  const seenOf = async (postId: string) => redis.get(`${iso.redisPrefix}:seen:${postId}`);

  it('a holder that stood still longer than its lease fails retryably (claim_lost) before the write, and the retry indexes the post', async () => {
    let stall = true;
    const ingest = wire(redis, es, bulk, queues, { leaseMs: 300 }, {
      segment: (text) => {
        // A process standing still (a long GC pause, a blocked event loop): no renewal can run.
        const until = Date.now() + (stall ? 800 : 0);
        while (Date.now() < until);
        return segmenter(text);
      },
    });
    const item = message('board-stalled');
    const lost = await ingest(item).catch((err: unknown) => err);
    expect(lost).toBeInstanceOf(BusyError);
    expect((lost as BusyError).code).toBe('claim_lost');
    expect(await documentsOf(postIdOf(item))).toEqual([]);
    expect(await seenOf(postIdOf(item))).toBeNull();
    stall = false;
    expect((await ingest(item)).decision).toBe('new');
    expect(await documentsOf(postIdOf(item))).toHaveLength(1);
  });

  it('a holder whose renewal finds another worker holding the post fails before the write and leaves that claim alone', async () => {
    /** The real store, its lookup slowed as by a loaded Elasticsearch. */
    class SlowPosts extends EsPostStore {
      override async locate(id: string): Promise<string | undefined> {
        await new Promise((r) => setTimeout(r, 500));
        return super.locate(id);
      }
    }
    const ingest = wire(redis, es, bulk, queues, { leaseMs: 300 }, { posts: new SlowPosts(es, names.posts, bulk) });
    const item = message('board-taken');
    const key = `${iso.redisPrefix}:claim:${postIdOf(item)}`;
    const running = ingest(item).catch((err: unknown) => err);
    // The lease ran out unseen and another worker claimed the post (its token replaces ours).
    await eventually(async () => ((await redis.exists(key)) ? true : undefined), 2_000, 'the first claim');
    await redis.set(key, 'another-worker', 'PX', 5_000);
    const lost = await running;
    expect(lost).toBeInstanceOf(BusyError);
    expect((lost as BusyError).code).toBe('claim_lost');
    expect(await redis.get(key)).toBe('another-worker');
    expect(await documentsOf(postIdOf(item))).toEqual([]);
    expect(await seenOf(postIdOf(item))).toBeNull();
    await redis.del(key);
  });
});
