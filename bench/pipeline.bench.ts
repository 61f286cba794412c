/**
 * The ingest pipeline with real Redis and Elasticsearch against a raw Elasticsearch bulk load of
 * the same documents, in the same run (`npm run bench:pipeline -- [--docs N] [--rounds R]`).
 *
 * Input: real short Chinese posts (the reviews of `ChnSentiCorp_htl_all.csv` + `waimai_10k.csv`) as
 * collected comments of five positions, times spread over three days.
 * - raw bulk: the finished documents (normalised, segmented, classified beforehand, untimed)
 *   written with `_bulk` in batches of 500, two requests in flight, into fresh monthly indices;
 * - pipeline: the same items queued on `ingest` in batch jobs of `--batch` items (100; 1 queues one
 *   job per item; queueing timed separately), then one worker
 *   process (this one) drains the queue through the product's path — normalise, dedupe, segment,
 *   classify, cluster into events (Redis LSH), early signals, bulk index, hand over — timed from
 *   the worker's start until every job is completed, i.e. acknowledged after its documents were.
 * Rounds alternate raw and pipeline so a change in the machine's load touches both.
 *
 * Each round prints the load average and, beside the wall rates, CPU per post while draining: the
 * worker process (user + system; also how much of the drain its event loop was busy), the Redis
 * server (`INFO cpu`) and the Elasticsearch node (`_nodes/stats`), the last two for the whole server,
 * so on a shared Redis or Elasticsearch other clients' work counts too (point `REDIS_URL` at a Redis
 * of your own for a clean Redis figure).
 * `--raw 0` skips the raw load when only pipeline changes are compared.
 */
import path from 'node:path';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { readLabelledCsv } from './corpora.js';
import { esCpuMs, redisCpuSeconds } from './server-cpu.js';
import { configDir } from '../core/paths.js';
import { createLogger } from '../core/logger.js';
import type { CollectedItem } from '../core/posts/collected-item.js';
import type { IndexedPost } from '../core/posts/post.js';
import { RulesRegistry } from '../core/rules/rules-registry.js';
import { DEFAULT_SIGNAL_THRESHOLDS } from '../core/signals/early-signal.js';
import { BulkIndexer } from '../pipeline/elasticsearch/bulk-indexer.js';
import { EsEventStore, EsSignalStore } from '../pipeline/elasticsearch/es-event-store.js';
import { EsPostStore } from '../pipeline/elasticsearch/es-post-store.js';
import { ensureIndices, indexNames, monthlyPostsIndex } from '../pipeline/elasticsearch/indices.js';
import { createClassifier } from '../pipeline/ingest/classify.js';
import { normalizeItem, postIdOf } from '../pipeline/ingest/normalize.js';
import { createSegmenter } from '../pipeline/ingest/segment.js';
import { createIngestJobProcessor, ingestBatchJobs, INGEST_BATCH_SIZE } from '../pipeline/ingest/ingest-batch.js';
import { wireIngest } from '../pipeline/ingest/wire-ingest.js';
import { createQueues, createRedis, startWorker, type IngestJob } from '../pipeline/queues.js';
import { RedisDeadLetters } from '../pipeline/redis/dead-letters.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const DOCS = arg('docs', 20_000);
const ROUNDS = arg('rounds', 2);
/** Items in flight in the worker (over all jobs). */
const CONCURRENCY = arg('concurrency', 128);
/** Items per ingest job: `--batch 1` queues one job per item, as a crawler does. */
const BATCH = arg('batch', INGEST_BATCH_SIZE);
/** `--raw 0` skips the raw bulk load (for quick comparisons of pipeline changes only). */
const RAW = arg('raw', 1) !== 0;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ES_URL = process.env.ES_URL ?? 'http://127.0.0.1:9200';

const log = createLogger('silent');
const rules = RulesRegistry.load(path.join(configDir, 'rules'), { log });
const segment = createSegmenter(rules.current().ruleSet.words);
const classify = createClassifier(() => rules.current());
const es = new Client({ node: ES_URL, requestTimeout: 120_000 });

function items(): CollectedItem[] {
  const reviews = [...readLabelledCsv('ChnSentiCorp_htl_all.csv'), ...readLabelledCsv('waimai_10k.csv')].filter((r) => r.text.trim().length > 0);
  const base = Date.now() - 3 * 86_400_000;
  return Array.from({ length: DOCS }, (_, i) => ({
    sourceId: `bench-position-${i % 5}`,
    kind: 'comment' as const,
    url: `http://127.0.0.1:8601/bench/${i}.html`,
    platformId: String(i),
    title: '',
    // Beyond the corpus, a review comes back as a repost (a near-duplicate, as on a real position).
    text: i < reviews.length ? reviews[i]!.text : `转发：${reviews[i % reviews.length]!.text}`,
    collectedAt: new Date(base + Math.floor((i / DOCS) * 3 * 86_400_000)).toISOString(),
  }));
}

function documents(list: CollectedItem[]): IndexedPost[] {
  return list.map((item) => {
    const post = normalizeItem(item);
    return { ...post, at: post.collectedAt, ...segment(`${post.title}\n${post.text}`), ...classify(post), indexedAt: new Date().toISOString() };
  });
}

async function dropPrefix(prefix: string): Promise<void> {
  const indices = await es.cat.indices({ index: `${prefix}-*`, format: 'json' }).catch(() => []);
  for (const { index } of indices) if (index) await es.indices.delete({ index });
  await es.indices.deleteIndexTemplate({ name: `${prefix}-*` }, { ignore: [404] }).catch(() => undefined);
}

/** Raw bulk docs/s, and Elasticsearch CPU per document while loading (the whole node). */
async function rawBulk(docs: IndexedPost[]): Promise<{ rate: number; esCpuMs: number }> {
  const prefix = `qsbench-raw-${randomBytes(3).toString('hex')}`;
  const names = indexNames(prefix);
  await ensureIndices(es, names);
  const batches: IndexedPost[][] = [];
  for (let i = 0; i < docs.length; i += 500) batches.push(docs.slice(i, i + 500));
  const esBefore = await esCpuMs(es);
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const res = await es.bulk({ operations: batch.flatMap((d) => [{ index: { _index: monthlyPostsIndex(names.posts, d.at), _id: d.id } }, d]) });
      if (res.errors) throw new Error('raw bulk: some documents were rejected');
    }
  };
  await Promise.all([lane(), lane()]);
  const seconds = (performance.now() - started) / 1000;
  const esUsed = (await esCpuMs(es)) - esBefore;
  await es.indices.refresh({ index: names.posts });
  const count = (await es.count({ index: names.posts })).count;
  await dropPrefix(prefix);
  if (count !== docs.length) throw new Error(`raw bulk: ${count} of ${docs.length} documents indexed`);
  return { rate: docs.length / seconds, esCpuMs: esUsed / docs.length };
}

interface PipelineRun {
  rate: number;
  enqueueRate: number;
  /** Worker process CPU (user + system) per post, ms. */
  workerCpuMs: number;
  /** Share of one core the worker process used while draining. */
  cpuShare: number;
  /** Share of the drain the worker's event loop was busy (the rest it waited for Redis, Elasticsearch or BullMQ). */
  loopBusy: number;
  /** Redis server CPU per post while draining, ms (the whole server). */
  redisCpuMs: number;
  /** Elasticsearch CPU per post while draining, ms (the whole node). */
  esCpuMs: number;
  events: number;
}

async function pipeline(list: CollectedItem[]): Promise<PipelineRun> {
  const prefix = `qsbench-${randomBytes(3).toString('hex')}`;
  const names = indexNames(prefix);
  await ensureIndices(es, names);
  const redis = createRedis(REDIS_URL);
  // The stages' own connection, as the worker role wires it.
  const stagesRedis = createRedis(REDIS_URL, { autoPipelining: true });
  const queues = createQueues(redis, prefix);
  const bulk = new BulkIndexer(es);
  const posts = new EsPostStore(es, names.posts, bulk);
  const events = new EsEventStore(es, names.events, bulk);
  const ingest = wireIngest({
    redis: stagesRedis,
    prefix,
    segment,
    classify,
    posts,
    events,
    signals: new EsSignalStore(es, names.signals, bulk),
    queues,
    eventWindowHours: 72,
    signalThresholds: DEFAULT_SIGNAL_THRESHOLDS,
    now: () => new Date(),
  });

  const queuedAt = performance.now();
  for (let i = 0; i < list.length; i += 1000) {
    const chunk = list.slice(i, i + 1000);
    await queues.ingest.addBulk(BATCH > 1 ? ingestBatchJobs(chunk, BATCH) : chunk.map((item) => ({ name: 'item', data: { item }, opts: { jobId: `${postIdOf(item)}-b` } })));
  }
  const enqueueRate = list.length / ((performance.now() - queuedAt) / 1000);

  const redisBefore = await redisCpuSeconds(redis);
  const esBefore = await esCpuMs(es);
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const started = performance.now();
  const deadLetters = new RedisDeadLetters(redis, prefix);
  const worker = startWorker<IngestJob>('ingest', createIngestJobProcessor({ ingest, lookAhead: ingest.lookAhead, deadLetters, itemsInFlight: CONCURRENCY }), {
    connection: redis,
    prefix,
    concurrency: CONCURRENCY,
    log,
    deadLetters,
    waitWhenUnavailable: { queue: queues.ingest },
  });
  let completed = 0;
  worker.on('completed', (job) => void (completed += 'items' in job.data ? job.data.items.length : 1));
  while (completed < list.length) {
    const counts = await queues.ingest.getJobCounts('failed');
    if (counts.failed) throw new Error(`pipeline: ${counts.failed} jobs failed`);
    const letters = await deadLetters.list(1);
    if (letters.total) throw new Error(`pipeline: ${letters.total} items dead-lettered (${letters.letters[0]?.code}: ${letters.letters[0]?.reason})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const loopBusy = performance.eventLoopUtilization(loop).utilization;
  const redisUsed = (await redisCpuSeconds(redis)) - redisBefore;
  const esUsed = (await esCpuMs(es)) - esBefore;
  await worker.close();

  await es.indices.refresh({ index: [names.posts, names.events] });
  const count = (await es.count({ index: names.posts })).count;
  const eventCount = (await es.count({ index: names.events })).count;
  await queues.close();
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = nextCursor;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  stagesRedis.disconnect();
  await dropPrefix(prefix);
  if (count !== list.length) throw new Error(`pipeline: ${count} of ${list.length} posts indexed`);
  const workerCpuS = (used.user + used.system) / 1e6;
  return {
    rate: list.length / seconds,
    enqueueRate,
    workerCpuMs: (workerCpuS * 1000) / list.length,
    cpuShare: workerCpuS / seconds,
    loopBusy,
    redisCpuMs: (redisUsed * 1000) / list.length,
    esCpuMs: esUsed / list.length,
    events: eventCount,
  };
}

async function main(): Promise<void> {
  const list = items();
  const docs = RAW ? documents(list) : [];
  const chars = list.reduce((s, i) => s + i.text.length, 0);
  console.log(`${DOCS} posts (${(chars / DOCS).toFixed(0)} chars on average), ${ROUNDS} rounds, ${CONCURRENCY} items in flight, ${BATCH} items per job`);
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  const raw: number[] = [];
  const piped: number[] = [];
  const perPost: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const loadBefore = load();
    const { rate: r, esCpuMs: rawEsMs } = RAW ? await rawBulk(docs) : { rate: NaN, esCpuMs: NaN };
    raw.push(r);
    const p = await pipeline(list);
    piped.push(p.rate);
    perPost.push(p.workerCpuMs + p.redisCpuMs);
    console.log(
      `round ${round} (load ${loadBefore} → ${load()}): raw bulk ${r.toFixed(0)} docs/s (Elasticsearch ${rawEsMs.toFixed(3)} ms CPU per doc) | pipeline ${p.rate.toFixed(0)} posts/s (${(p.rate / r).toFixed(2)} of raw) | ` +
        `CPU per post: worker ${p.workerCpuMs.toFixed(3)} ms (${(p.cpuShare * 100).toFixed(0)} % of a core, event loop busy ${(p.loopBusy * 100).toFixed(0)} %), Redis ${p.redisCpuMs.toFixed(3)} ms, Elasticsearch ${p.esCpuMs.toFixed(3)} ms | ` +
        `${p.events} events | queueing ${p.enqueueRate.toFixed(0)} jobs/s`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`median: raw bulk ${median(raw).toFixed(0)} docs/s, pipeline ${median(piped).toFixed(0)} posts/s, ratio ${(median(piped) / median(raw)).toFixed(2)}`);
  // What two cores could drain if the worker and Redis had them to themselves (Elasticsearch aside).
  const ms = median(perPost);
  console.log(`worker + Redis CPU per post ${ms.toFixed(3)} ms → CPU-bound ceiling ${(2000 / ms).toFixed(0)} posts/s on 2 cores (one worker process per core, Elasticsearch's own CPU not counted)`);
  rules.close();
  await es.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
