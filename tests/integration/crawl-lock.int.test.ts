import path from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { SourceSchema } from '../../core/sources/source.js';
import type { CollectContext, CollectOutcome } from '../../crawlers/collector.js';
import { requestCrawl, startCrawlerRole } from '../../crawlers/crawler-role.js';
import type { CrawlReport } from '../../crawlers/shared/crawl-source.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { RedisSourceHealthStore } from '../../crawlers/shared/source-health.js';
import { RedisSourceRegistry } from '../../crawlers/shared/source-registry.js';
import { postIdOf } from '../../pipeline/ingest/normalize.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { eventually, isolation } from '../support/isolation.js';

const owner = { section: '县委宣传部', person: '陈静' };
const LOCK_MS = 600;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The process stands still (a long GC pause, a stopped VM): no timer fires, so no renewal is sent. */
const standStill = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
type Emitted = Parameters<CollectContext['emit']>[0];
/** A WeChat article as the stand-in platform lists it. */
const article = (n: number): Emitted => ({ kind: 'article', url: `https://mp.weixin.qq.com/s/fenced-${n}`, platformId: `fenced-${n}`, title: `工作动态 ${n}`, text: `青山县第${n}期工作动态。` });

/** The per-source run lock of the crawler role on real Redis: renewed while a run lasts, and no health or crawl state saved by a run that lost it. */
describe('the crawl run lock', () => {
  const iso = isolation();
  const redis = createRedis(iso.redisUrl);
  const log = createLogger('silent');
  const health = new RedisSourceHealthStore(redis, iso.redisPrefix);
  let queues: Queues;
  let crawler: { close(): Promise<void> };
  const reports = new Map<string, CrawlReport[]>();
  /** What the stand-in platform does on each run of a source, by run number (1-based). */
  const plans = new Map<string, (ctx: CollectContext, run: number) => Promise<CollectOutcome>>();
  const runs = new Map<string, number>();
  const lockKey = (id: string) => `${iso.redisPrefix}:crawl:${id}:lock`;

  async function crawlAndWait(id: string): Promise<unknown> {
    const jobId = await requestCrawl(queues.crawl, id, { by: 'test' });
    return eventually(async () => {
      const job = await queues.crawl.getJob(jobId);
      return job && (await job.isCompleted()) ? (job.returnvalue as unknown) : undefined;
    }, 20_000, `crawl job ${jobId}`);
  }

  beforeAll(async () => {
    queues = createQueues(redis, iso.redisPrefix);
    const sources = ['long-mp', 'lost-mp', 'paused-mp'].map((id) => SourceSchema.parse({ id, kind: 'wechat-mp', name: id, owner, enabled: false, api: { appidEnv: 'QS_TEST_UNUSED_APPID', secretEnv: 'QS_TEST_UNUSED_SECRET' } }));
    const registry = new RedisSourceRegistry(redis, iso.redisPrefix);
    await registry.seed(sources);
    crawler = await startCrawlerRole({
      registry,
      health,
      healthPolicy: { alertAfterFailures: 3, remindEveryMinutes: 60 },
      evidence: new DiskEvidenceStore(path.join(tmpdir(), `qs-evidence-${iso.redisPrefix}`)),
      queues,
      connection: redis,
      prefix: iso.redisPrefix,
      defaultEverySeconds: 3600,
      maxRequestsPerRun: 100,
      timeoutSeconds: 10,
      lockMs: LOCK_MS,
      log,
      collectors: {
        'wechat-mp': async (source, ctx) => {
          const run = (runs.get(source.id) ?? 0) + 1;
          runs.set(source.id, run);
          return plans.get(source.id)!(ctx, run);
        },
      },
      recordReport: async (report) => void reports.set(report.sourceId, [...(reports.get(report.sourceId) ?? []), report]),
    });
  });

  afterAll(async () => {
    await crawler?.close();
    await queues?.close();
    redis.disconnect();
    await iso.cleanup();
  });

  it('a run that outlasts its lock keeps it renewed: a second run of the source meanwhile is skipped, not run alongside', async () => {
    let during: unknown;
    plans.set('long-mp', async (_ctx, run) => {
      if (run > 1) return { requests: 1, failures: [] };
      // The lease nearly spent, as a 30-minute lock is late in a long run: only a renewal keeps it.
      await redis.pexpire(lockKey('long-mp'), LOCK_MS / 2);
      await sleep(3 * LOCK_MS);
      during = await crawlAndWait('long-mp');
      return { requests: 1, failures: [] };
    });
    const first = await crawlAndWait('long-mp');
    expect(during).toEqual({ skipped: 'already-running' });
    expect(runs.get('long-mp')).toBe(1);
    expect(first).toMatchObject({ outcome: 'ok' });
    expect((await health.get('long-mp'))?.lastSuccessAt).toBeDefined();
    // Given up at the end of the run.
    expect(await redis.exists(lockKey('long-mp'))).toBe(0);
  });

  it('a run that lost its lock to another run saves no health over that run\'s', async () => {
    plans.set('lost-mp', async () => {
      // Another run took the lock (this one's ran out while it stood still).
      await redis.set(lockKey('lost-mp'), 'another-run', 'PX', 60_000);
      return { requests: 1, failures: [{ url: '', error: 'HTTP 503', code: 'http_503', cause: '服务暂时不可用' }] };
    });
    const result = await crawlAndWait('lost-mp');
    expect(await health.get('lost-mp')).toBeUndefined();
    expect(result).toMatchObject({ outcome: 'failed', skipped: 'lock-lost' });
    expect(reports.get('lost-mp')).toHaveLength(1);
    // The other run's lock stays theirs.
    expect(await redis.get(lockKey('lost-mp'))).toBe('another-run');
  });

  it('a run that stood still past its lease, while the next run collected and saved, writes no crawl state over that run\'s when it resumes: it ends superseded, its items are queued, a deletion it inferred from the other run\'s memory is not', async () => {
    const id = 'paused-mp';
    /** What the account lists now. */
    let listed = [article(1), article(2), article(4)];
    let second: unknown;
    const listing = (items: Emitted[]) => ({ requests: 1, failures: [], completeScopes: [{ scope: 'articles', platformIds: items.map((i) => i.platformId!) }] });
    plans.set(id, async (ctx, run) => {
      if (run > 1) {
        for (const item of listed) await ctx.emit(item);
        return listing(listed);
      }
      const read = [...listed];
      standStill(2 * LOCK_MS);
      // Meanwhile article 3 is published and article 4, which only this run read, is taken down;
      // the next run finds the lock free, collects and saves.
      listed = [article(1), article(2), article(3)];
      second = await crawlAndWait(id);
      // This run resumes and hands over what it read before it stood still.
      for (const item of read) await ctx.emit(item);
      return listing(read);
    });
    const first = await crawlAndWait(id);
    expect(second).toMatchObject({ outcome: 'ok', itemsEmitted: 3 });
    expect(runs.get(id)).toBe(2);

    // The second run's memory stands: its listing (article 3 in it) and article 3 not deleted.
    const pages = `${iso.redisPrefix}:crawl:${id}:pages`;
    const postId = (n: number) => postIdOf({ sourceId: id, ...article(n) });
    const memory = async () => ({
      listing: (JSON.parse((await redis.hget(pages, 'api-scope:articles'))!) as { itemIds: string[] }).itemIds,
      items: (await redis.hkeys(`${iso.redisPrefix}:crawl:${id}:items`)).sort(),
      article3: JSON.parse((await redis.hget(`${iso.redisPrefix}:crawl:${id}:items`, postId(3)))!) as { deletedAt?: string },
    });
    expect(await memory()).toEqual({ listing: [1, 2, 3].map(postId), items: [1, 2, 3].map(postId).sort(), article3: expect.not.objectContaining({ deletedAt: expect.anything() }) });
    // The stood-still run ends superseded; its health is not saved.
    expect(first).toMatchObject({ skipped: 'superseded' });
    expect(reports.get(id)?.at(-1)?.error?.errorClass).toBe('superseded');
    const queued = async () => (await queues.ingest.getJobs(['waiting'], 0, 1000)).flatMap((j) => ('items' in j.data ? j.data.items : [j.data.item])).map((i) => `${i.platformId} ${i.change}`).sort();
    // Article 4, which only the stood-still run read, reaches the pipeline; no deletion of article 3 does.
    expect(await queued()).toEqual(['fenced-1 new', 'fenced-2 new', 'fenced-3 new', 'fenced-4 new']);
    expect(await health.get(id)).toMatchObject({ consecutiveFailures: 0, lastSuccessAt: expect.any(String) });

    // Article 3 is deleted later: the next run, reading the second run's listing, finds it gone.
    listed = [article(1), article(2)];
    expect(await crawlAndWait(id)).toMatchObject({ outcome: 'ok', itemsEmitted: 1 });
    expect(await queued()).toContain('fenced-3 deleted');
  });
});
