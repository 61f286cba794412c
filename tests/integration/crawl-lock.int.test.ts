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
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { eventually, isolation } from '../support/isolation.js';

const owner = { section: '县委宣传部', person: '陈静' };
const LOCK_MS = 600;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The per-source run lock of the crawler role on real Redis: renewed while a run lasts, and no health saved by a run that lost it. */
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
    const sources = ['long-mp', 'lost-mp'].map((id) => SourceSchema.parse({ id, kind: 'wechat-mp', name: id, owner, enabled: false, api: { appidEnv: 'QS_TEST_UNUSED_APPID', secretEnv: 'QS_TEST_UNUSED_SECRET' } }));
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
});
