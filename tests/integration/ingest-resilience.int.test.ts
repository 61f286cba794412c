import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { isolation, eventually } from '../support/isolation.js';
import { freePort } from '../support/app-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { createLogger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import { RulesRegistry } from '../../core/rules/rules-registry.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { DEFAULT_SIGNAL_THRESHOLDS } from '../../core/signals/early-signal.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { createTestDesk } from '../support/alerting-harness.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { ingestJobIdOf, postIdOf } from '../../pipeline/ingest/normalize.js';
import { ingestBatchJobs } from '../../pipeline/ingest/ingest-batch.js';
import { startPipelineRole } from '../../pipeline/pipeline-role.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { RedisDeadLetters, type DeadLetter } from '../../pipeline/redis/dead-letters.js';

function item(n: number, over: Partial<CollectedItem> = {}): CollectedItem {
  return {
    sourceId: 'demo-board',
    kind: 'message',
    url: `http://127.0.0.1:8601/hdjl/lyb/${n}.html`,
    platformId: `m${n}`,
    title: `第${n}号留言`,
    text: `第${n}号留言：小区${n}号楼门口的路灯坏了${n % 7}个月，晚上出行不便，请尽快维修。${n % 10 === 0 ? '城管暴力执法' : ''}`,
    collectedAt: '2026-11-20T08:00:00.000Z',
    ...over,
  };
}

/** The worker role as `qianshao worker` wires it, but talking to Elasticsearch through a proxy the test can cut. */
async function startWorker(iso: ReturnType<typeof isolation>, esUrl: string, ingestConcurrency: number) {
  const redis = createRedis(iso.redisUrl);
  const stagesRedis = createRedis(iso.redisUrl, { autoPipelining: true });
  const es = createEsClient({ url: esUrl, indexPrefix: iso.indexPrefix });
  const names = indexNames(iso.indexPrefix);
  const queues = createQueues(redis, iso.redisPrefix);
  const bulk = new BulkIndexer(es, { flushMs: 10 });
  const posts = new EsPostStore(es, names.posts, bulk);
  const deadLetters = new RedisDeadLetters(redis, iso.redisPrefix);
  const log = createLogger('silent');
  const rules = RulesRegistry.load(path.join(configDir, 'rules'), { log });
  const ingest = wireIngest({
    redis: stagesRedis,
    prefix: iso.redisPrefix,
    segment: createSegmenter(rules.current().ruleSet.words),
    classify: createClassifier(() => rules.current()),
    posts,
    events: new EsEventStore(es, names.events, bulk),
    signals: new EsSignalStore(es, names.signals, bulk),
    queues,
    eventWindowHours: 72,
    signalThresholds: DEFAULT_SIGNAL_THRESHOLDS,
    now: () => new Date(),
  });
  const { desk } = await createTestDesk({ es, redis, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix });
  const role = startPipelineRole({
    ingest,
    posts,
    desk,
    events: new EsEventStore(es, names.events, bulk),
    queues,
    deadLetters,
    connection: redis,
    prefix: iso.redisPrefix,
    ingestConcurrency,
    log,
  });
  return {
    queues,
    deadLetters,
    redis,
    async close() {
      await role.close();
      rules.close();
      await queues.close();
      await es.close();
      redis.disconnect();
      stagesRedis.disconnect();
    },
  };
}

/** The dead letters of a batch job's items (by their ingest ids, or their place in the batch). */
async function lettersOf(deadLetters: RedisDeadLetters, batch: ReturnType<typeof ingestBatchJobs>[number]): Promise<DeadLetter[]> {
  const ids = new Set(batch.data.items.map((i) => ingestJobIdOf(i)));
  return (await deadLetters.list(1000)).letters.filter((l) => ids.has(l.id) || l.id.startsWith(`${batch.opts.jobId}-`));
}

async function enqueue(queues: Queues, items: CollectedItem[]): Promise<void> {
  await queues.ingest.addBulk(items.map((i) => ({ name: 'item', data: { item: i }, opts: { jobId: `${postIdOf(i)}-1` } })));
}

describe('losing nothing: Elasticsearch outages and poison items', () => {
  const iso = isolation();
  const direct = new Client({ node: iso.esUrl });
  const names = indexNames(iso.indexPrefix);
  let proxy: TcpProxy;

  async function indexedIds(): Promise<Set<string>> {
    await direct.indices.refresh({ index: names.posts });
    const res = await direct.search({ index: names.posts, size: 1000, _source: false, query: { match_all: {} } });
    return new Set(res.hits.hits.map((h) => h._id!));
  }

  beforeAll(async () => {
    await ensureIndices(direct, names);
    const target = new URL(iso.esUrl);
    proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 9200) });
    await proxy.start();
  });

  afterAll(async () => {
    await proxy.stop();
    await direct.close();
    await iso.cleanup();
  });

  it('while Elasticsearch is unreachable ingest waits without failing a job, and catches up when it returns', async () => {
    const worker = await startWorker(iso, proxy.url, 32);
    try {
      const first = Array.from({ length: 120 }, (_, i) => item(i));
      await enqueue(worker.queues, first);
      // Cut Elasticsearch off mid-stream, as soon as the first jobs went through.
      await eventually(async () => ((await worker.queues.ingest.getJobCounts('completed')).completed! > 0 ? true : undefined), 30_000, 'first jobs');
      await proxy.stop();
      const second = Array.from({ length: 80 }, (_, i) => item(1000 + i));
      await enqueue(worker.queues, second);
      await new Promise((r) => setTimeout(r, 4_000));
      const during = await worker.queues.ingest.getJobCounts('completed', 'failed', 'waiting');
      expect(during.failed).toBe(0);
      expect(during.completed).toBeLessThan(200);
      expect((await worker.deadLetters.list(10)).total).toBe(0);

      await proxy.start();
      const want = [...first, ...second].map((i) => postIdOf(i));
      await eventually(
        async () => {
          const ids = await indexedIds();
          return want.every((id) => ids.has(id)) ? true : undefined;
        },
        90_000,
        'every post indexed after Elasticsearch returned',
      );
      // A job whose write reached Elasticsearch just as it was cut off is retried after its wait.
      await eventually(async () => ((await worker.queues.ingest.getJobCounts('completed')).completed === 200 ? true : undefined), 60_000, 'every job completed');
      expect(await worker.queues.ingest.getJobCounts('completed', 'failed')).toEqual({ completed: 200, failed: 0 });
      expect((await worker.deadLetters.list(10)).total).toBe(0);
      // Posts with hits reached alert evaluation with their event.
      await eventually(async () => ((await worker.queues.alert.getJobCounts('completed')).completed === 20 ? true : undefined), 30_000, 'alert jobs');
      const alertJob = (await worker.queues.alert.getJobs(['completed'], 0, 0))[0]!;
      expect(alertJob.data).toMatchObject({ postId: expect.any(String), eventId: expect.stringMatching(/^ev-/), index: `${names.posts}-2026.11` });
    } finally {
      await worker.close();
    }
  });

  it('a poison item is dead-lettered with its reason at once and never blocks the items behind it', async () => {
    const worker = await startWorker(iso, proxy.url, 1);
    try {
      const good = Array.from({ length: 10 }, (_, i) => item(2000 + i));
      const poison = { ...item(2999), collectedAt: 'yesterday' };
      await worker.queues.ingest.add('item', { item: good[0]! }, { jobId: 'good-0' });
      await worker.queues.ingest.add('item', { item: poison }, { jobId: 'poison-1' });
      await enqueue(worker.queues, good.slice(1));
      await eventually(
        async () => {
          const ids = await indexedIds();
          return good.every((g) => ids.has(postIdOf(g))) ? true : undefined;
        },
        60_000,
        'the items behind the poison',
      );
      const { total, letters } = await worker.deadLetters.list(10);
      expect(total).toBe(1);
      expect(letters[0]).toMatchObject({ id: 'poison-1', queue: 'ingest', code: 'invalid_item', attempts: 1 });
      expect(letters[0]!.reason).toContain('collectedAt');
      expect((letters[0]!.data as { item: CollectedItem }).item.platformId).toBe('m2999');
      expect((await worker.queues.ingest.getJobCounts('failed')).failed).toBe(1);
    } finally {
      await worker.close();
    }
  });
  it('a poison item in a batch job is dead-lettered alone, and its batch-mates are indexed and the batch completes', async () => {
    const worker = await startWorker(iso, proxy.url, 4);
    try {
      const good = Array.from({ length: 9 }, (_, i) => item(3000 + i));
      const poison = { ...item(3999), collectedAt: 'yesterday' };
      const [batch] = ingestBatchJobs([...good.slice(0, 5), poison, ...good.slice(5)]);
      await worker.queues.ingest.addBulk([batch!]);
      await eventually(async () => ((await worker.queues.ingest.getJobState(batch!.opts.jobId)) === 'completed' ? true : undefined), 60_000, 'the batch job');
      const ids = await indexedIds();
      expect(good.filter((g) => !ids.has(postIdOf(g)))).toEqual([]);
      const letters = await lettersOf(worker.deadLetters, batch!);
      expect(letters).toHaveLength(1);
      // As the one-item job it would have been, so a replay queues it alone.
      expect(letters[0]).toMatchObject({ id: expect.stringMatching(new RegExp(`^${batch!.opts.jobId}-[0-9a-f]{16}$`)), queue: 'ingest', name: 'item', code: 'invalid_item', attempts: 1 });
      expect(letters[0]!.reason).toContain('collectedAt');
      expect((letters[0]!.data as { item: CollectedItem }).item.platformId).toBe('m3999');
      const job = await worker.queues.ingest.getJob(batch!.opts.jobId);
      expect(job?.returnvalue).toEqual({ items: 10, decisions: { new: 9 }, deadLettered: 1 });
    } finally {
      await worker.close();
    }
  });

  it('a batch job cut off by an Elasticsearch outage half-way shrinks to the items still owed, waits, and indexes each item once', async () => {
    // One item at a time, and Elasticsearch cut off as soon as the first item is done (the seen
    // store is written after a post is indexed): the outage lands inside the batch on any machine.
    const worker = await startWorker(iso, proxy.url, 1);
    try {
      const items = Array.from({ length: 100 }, (_, i) => item(4000 + i, { text: `第${4000 + i}号留言：${'城东菜市场'.repeat(1 + (i % 5))}第${i}摊位${i % 3 === 0 ? '缺斤少两' : '价格公道'}，编号${i * 7919}。` }));
      const [batch] = ingestBatchJobs(items);
      const postIds = items.map((i) => postIdOf(i));
      await worker.queues.ingest.addBulk([batch!]);
      const deadline = Date.now() + 30_000;
      while (!(await worker.redis.mget(...postIds.map((id) => `${iso.redisPrefix}:seen:${id}`))).some((v) => v !== null)) {
        if (Date.now() > deadline) throw new Error('no item of the batch was ingested within 30 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      await proxy.stop();
      const owedItems = async () => ((await worker.queues.ingest.getJob(batch!.opts.jobId))?.data as { items: CollectedItem[] }).items;
      await eventually(async () => ((await owedItems()).length < items.length ? true : undefined), 60_000, 'the batch to shrink');
      await new Promise((r) => setTimeout(r, 2_000));
      expect(['waiting', 'active', 'prioritized']).toContain(await worker.queues.ingest.getJobState(batch!.opts.jobId));
      expect(await lettersOf(worker.deadLetters, batch!)).toEqual([]);
      const owed = await owedItems();
      expect(owed.length).toBeGreaterThan(0);

      await proxy.start();
      await eventually(async () => ((await worker.queues.ingest.getJobState(batch!.opts.jobId)) === 'completed' ? true : undefined), 90_000, 'the batch job after Elasticsearch returned');
      const ids = await indexedIds();
      expect(items.filter((i) => !ids.has(postIdOf(i)))).toEqual([]);
      expect(await lettersOf(worker.deadLetters, batch!)).toEqual([]);
      // The retry ran only the items owed, each as new: nothing done before was done again.
      const job = await worker.queues.ingest.getJob(batch!.opts.jobId);
      expect(job?.returnvalue).toEqual({ items: owed.length, decisions: { new: owed.length }, deadLettered: 0 });
      // Every post is a member of exactly one event.
      const ours = new Set(items.map((i) => postIdOf(i)));
      let counted = 0;
      let cursor = '0';
      do {
        const [next, keys] = await worker.redis.scan(cursor, 'MATCH', `${iso.redisPrefix}:event:{*}:posts`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) counted += (await worker.redis.smembers(key)).filter((id) => ours.has(id)).length;
      } while (cursor !== '0');
      expect(counted).toBe(items.length);
    } finally {
      await worker.close();
    }
  });
});
