import path from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { createLogger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import { RulesRegistry } from '../../core/rules/rules-registry.js';
import { DEFAULT_SIGNAL_THRESHOLDS } from '../../core/signals/early-signal.js';
import { SourceSchema, type Source } from '../../core/sources/source.js';
import type { CollectContext, CollectOutcome } from '../../crawlers/collector.js';
import { requestCrawl, startCrawlerRole } from '../../crawlers/crawler-role.js';
import type { CrawlReport } from '../../crawlers/shared/crawl-source.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { RedisSourceHealthStore } from '../../crawlers/shared/source-health.js';
import { RedisSourceRegistry } from '../../crawlers/shared/source-registry.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { ingestJobIdOf, postIdOf } from '../../pipeline/ingest/normalize.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { startPipelineRole } from '../../pipeline/pipeline-role.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { startBenchSite, type BenchSite } from '../../bench/crawl-site.js';
import { createTestDesk } from '../support/alerting-harness.js';
import { eventually, isolation } from '../support/isolation.js';

const ARTICLES = 450;
const owner = { section: '县委宣传部', person: '陈静' };
type Emitted = Parameters<CollectContext['emit']>[0];

/** A WeChat article as a platform collector emits it. */
const article = (n: number, text = `青山县第${n}期工作动态：各乡镇做好冬季防火工作。`): Emitted => ({
  kind: 'article',
  url: `https://mp.weixin.qq.com/s/batch-${n}`,
  platformId: `batch-${n}`,
  title: `工作动态 ${n}`,
  text,
});

describe('crawlers hand items to the ingest queue in batch jobs, with the crawl state written behind them', () => {
  const iso = isolation();
  const names = indexNames(iso.indexPrefix);
  const redis = createRedis(iso.redisUrl);
  const es = createEsClient({ url: iso.esUrl, indexPrefix: iso.indexPrefix });
  const log = createLogger('silent');
  let site: BenchSite;
  let queues: Queues;
  let rules: RulesRegistry;
  let posts: EsPostStore;
  let pipeline: { close(): Promise<void> };
  let crawler: { close(): Promise<void> };
  const reports = new Map<string, CrawlReport[]>();
  /** What the fixture collector does on the next run of each API source. */
  const plans = new Map<string, (ctx: CollectContext) => Promise<CollectOutcome>>();

  /** Runs one manual crawl of `id` through the crawler role and returns its report. */
  async function crawl(id: string): Promise<CrawlReport> {
    const before = reports.get(id)?.length ?? 0;
    await requestCrawl(queues.crawl, id, { by: 'test' });
    return eventually(async () => reports.get(id)?.[before], 120_000, `crawl ${before + 1} of ${id}`);
  }

  /** Every job ever added to `ingest` (the worker keeps completed ones), with the items it carries. */
  async function ingestJobs(): Promise<{ id: string; items: CollectedItem[] }[]> {
    const jobs = await queues.ingest.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'], 0, 10_000);
    return jobs.map((j) => ({ id: j.id!, items: 'items' in j.data ? j.data.items : [j.data.item] }));
  }
  const jobsOf = async (sourceId: string) => (await ingestJobs()).filter((j) => j.items.some((i) => i.sourceId === sourceId));
  const busy = async (q: Queue) => Object.values(await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    await ensureIndices(es, names);
    site = await startBenchSite({ articles: ARTICLES, render: 'static' });
    queues = createQueues(redis, iso.redisPrefix);
    const bulk = new BulkIndexer(es, { flushMs: 10 });
    posts = new EsPostStore(es, names.posts, bulk);
    rules = RulesRegistry.load(path.join(configDir, 'rules'), { log });
    const ingest = wireIngest({
      redis,
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
    const desk = await createTestDesk({ es, redis, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix });
    pipeline = startPipelineRole({ ingest, posts, desk: desk.desk, events: new EsEventStore(es, names.events, bulk), queues, deadLetters: new RedisDeadLetters(redis, iso.redisPrefix), connection: redis, prefix: iso.redisPrefix, ingestConcurrency: 32, log });

    // Disabled positions run only when asked, so every run below is one the test started.
    const sources: Source[] = [
      {
        id: 'bench-site',
        kind: 'website',
        name: '批量测试站',
        owner,
        enabled: false,
        entryPoints: [`${site.url}/col/index.html`],
        allowedHosts: [new URL(site.url).host],
        crawl: { delayMs: 0, perHostConcurrency: 8, maxPages: ARTICLES + site.listPages + 10, maxDepth: site.listPages + 5, robotsTxt: 'ignore' },
      },
      ...['slow-mp', 'broken-mp', 'flip-mp'].map((id) => ({ id, kind: 'wechat-mp', name: id, owner, enabled: false, api: { appidEnv: 'QS_TEST_UNUSED_APPID', secretEnv: 'QS_TEST_UNUSED_SECRET' } })),
    ].map((s) => SourceSchema.parse(s));
    const registry = new RedisSourceRegistry(redis, iso.redisPrefix);
    await registry.seed(sources);
    crawler = await startCrawlerRole({
      registry,
      health: new RedisSourceHealthStore(redis, iso.redisPrefix),
      healthPolicy: { alertAfterFailures: 3, remindEveryMinutes: 60 },
      evidence: new DiskEvidenceStore(path.join(tmpdir(), `qs-evidence-${iso.redisPrefix}`)),
      queues,
      connection: redis,
      prefix: iso.redisPrefix,
      defaultEverySeconds: 3600,
      maxRequestsPerRun: 1000,
      timeoutSeconds: 10,
      log,
      // A stand-in platform: each run does what the test planned for it.
      collectors: { 'wechat-mp': async (source, ctx) => plans.get(source.id)!(ctx) },
      recordReport: async (report) => void reports.set(report.sourceId, [...(reports.get(report.sourceId) ?? []), report]),
    });
  });

  afterAll(async () => {
    await crawler?.close();
    await pipeline?.close();
    rules?.close();
    await queues?.close();
    await site?.close();
    await es.close();
    redis.disconnect();
    await iso.cleanup();
  });

  it(`a crawl of ${ARTICLES} articles queues about one batch job per 100 items, every item is indexed once, and a re-crawl queues nothing`, async () => {
    const first = await crawl('bench-site');
    expect(first.outcome).toBe('ok');
    expect(first.itemsNew).toBe(ARTICLES);
    await eventually(async () => ((await busy(queues.ingest)) === 0 ? true : undefined), 120_000, 'ingest drained');

    const jobs = await jobsOf('bench-site');
    const items = jobs.flatMap((j) => j.items);
    expect(jobs.every((j) => j.id.startsWith('batch-') && j.items.length <= 100)).toBe(true);
    expect(items).toHaveLength(ARTICLES);
    expect(new Set(items.map((i) => ingestJobIdOf(i))).size).toBe(ARTICLES);
    // Full groups leave at 100 items; a group also leaves a second after its first item, so a slow crawl adds a few partial ones.
    const seconds = (Date.parse(first.finishedAt) - Date.parse(first.startedAt)) / 1000;
    expect(jobs.length).toBeGreaterThanOrEqual(Math.ceil(ARTICLES / 100));
    expect(jobs.length).toBeLessThanOrEqual(Math.ceil(ARTICLES / 100) + Math.ceil(seconds) + 1);
    expect(await queues.ingest.getJobCounts('failed')).toEqual({ failed: 0 });

    await es.indices.refresh({ index: names.posts });
    const indexed = await es.search<{ id: string }>({ index: names.posts, size: 1000, query: { term: { sourceId: 'bench-site' } }, _source: ['id'] });
    const ids = indexed.hits.hits.map((h) => h._id);
    expect(ids).toHaveLength(ARTICLES);
    expect(new Set(ids)).toEqual(new Set(items.map((i) => postIdOf(i))));

    // The crawl state holds every item and page, written behind the queued items.
    expect(await redis.hlen(`${iso.redisPrefix}:crawl:bench-site:items`)).toBe(ARTICLES);
    expect(await redis.hlen(`${iso.redisPrefix}:crawl:bench-site:pages`)).toBe(ARTICLES + site.listPages);

    const again = await crawl('bench-site');
    expect(again.outcome).toBe('ok');
    expect(again.itemsEmitted).toBe(0);
    expect(again.detailFetched).toBe(0);
    expect((await jobsOf('bench-site')).map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    await es.indices.refresh({ index: names.posts });
    expect((await es.count({ index: names.posts, query: { term: { sourceId: 'bench-site' } } })).count).toBe(ARTICLES);
  });

  it('items reach the queue within about a second while the crawl goes on, and never behind their crawl state', async () => {
    const stateKey = `${iso.redisPrefix}:crawl:slow-mp:items`;
    let seenAfterMs: number | undefined;
    plans.set('slow-mp', async (ctx) => {
      for (let n = 0; n < 5; n++) await ctx.emit(article(n));
      const t0 = Date.now();
      while (Date.now() - t0 < 5000) {
        const queued = new Set((await jobsOf('slow-mp')).flatMap((j) => j.items.map((i) => postIdOf(i))));
        // Whatever the crawl state remembers is already on the queue.
        for (const id of await redis.hkeys(stateKey)) expect(queued.has(id), `${id} remembered before it was queued`).toBe(true);
        if (queued.size === 5) {
          seenAfterMs = Date.now() - t0;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // Still inside the run: the group left on its own, not at the end of the crawl.
      await eventually(async () => ((await redis.hlen(stateKey)) === 5 ? true : undefined), 5000, 'the state of the first group');
      for (let n = 5; n < 8; n++) await ctx.emit(article(n));
      return { requests: 1, failures: [] };
    });
    const report = await crawl('slow-mp');
    expect(report.outcome).toBe('ok');
    expect(seenAfterMs).toBeDefined();
    expect(seenAfterMs!).toBeLessThan(2500);
    const jobs = await jobsOf('slow-mp');
    expect(jobs.map((j) => j.items.length).sort()).toEqual([3, 5]);
    expect(await redis.hlen(stateKey)).toBe(8);
  });

  it('a crawl that fails half-way queues what it collected, with its state, and the next run queues nothing new for it', async () => {
    plans.set('broken-mp', async (ctx) => {
      for (let n = 0; n < 250; n++) await ctx.emit(article(1000 + n));
      throw new Error('socket hang up');
    });
    const failed = await crawl('broken-mp');
    expect(failed.outcome).toBe('failed');
    const jobs = await jobsOf('broken-mp');
    expect(jobs.flatMap((j) => j.items)).toHaveLength(250);
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(await redis.hlen(`${iso.redisPrefix}:crawl:broken-mp:items`)).toBe(250);

    plans.set('broken-mp', async (ctx) => {
      for (let n = 0; n < 250; n++) await ctx.emit(article(1000 + n));
      await ctx.emit(article(2000));
      return { requests: 1, failures: [] };
    });
    const next = await crawl('broken-mp');
    expect(next.outcome).toBe('ok');
    expect(next.itemsUnchanged).toBe(250);
    expect(next.itemsNew).toBe(1);
    const after = await jobsOf('broken-mp');
    expect(after.length).toBe(jobs.length + 1);
    expect(after.flatMap((j) => j.items)).toHaveLength(251);
  });

  it('deleted, restored and deleted again: each observation is its own item on the queue', async () => {
    const listing = (present: boolean) => async (ctx: CollectContext): Promise<CollectOutcome> => {
      if (present) await ctx.emit(article(7, '青山县发布冬季供暖通知。'));
      return { requests: 1, failures: [], completeScopes: [{ scope: 'articles', platformIds: present ? ['batch-7'] : [] }] };
    };
    for (const present of [true, false, true, false]) {
      plans.set('flip-mp', listing(present));
      expect((await crawl('flip-mp')).outcome).toBe('ok');
      // Each observation is ingested before the next run, as a position changing over days would be.
      await eventually(async () => ((await busy(queues.ingest)) === 0 ? true : undefined), 60_000, 'ingest drained');
    }
    const items = (await jobsOf('flip-mp')).flatMap((j) => j.items).sort((a, b) => a.collectedAt.localeCompare(b.collectedAt));
    expect(items.map((i) => i.change)).toEqual(['new', 'deleted', 'edited', 'deleted']);
    expect(new Set(items.map((i) => ingestJobIdOf(i))).size).toBe(4);
    // One document for the post: deleted now, the earlier deletion kept.
    const post = await posts.get(postIdOf(items[0]!));
    expect(post?.deleted).toBeDefined();
    expect(post?.pastDeletions).toHaveLength(1);
  });
});
