import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import { SourceSchema, type Source } from '../../core/sources/source.js';
import { emptyHealth, RedisSourceHealthStore } from '../../crawlers/shared/source-health.js';
import { RedisSourceRegistry } from '../../crawlers/shared/source-registry.js';
import { startCrawlStallWatch } from '../../pipeline/alert/crawl-stall-watch.js';
import { sourceHealthAlert } from '../../pipeline/alert/source-health-alert.js';
import { createQueues, type SourceHealthJob } from '../../pipeline/queues.js';
import { isolation } from '../support/isolation.js';

// 采集停滞 (issue 5): a failing run raises its alert, but runs that stop coming (the crawler process
// down, its schedule lost) must raise one too; the worker's watch does, once per stall.

const owner = { section: '网信办', person: '王芳' };
const board = (id: string, over: Record<string, unknown> = {}): Source =>
  SourceSchema.parse({ id, kind: 'message-board', name: `${id}留言板`, owner, everySeconds: 600, entryPoints: ['http://127.0.0.1:9/lyb/'], allowedHosts: ['127.0.0.1:9'], ...over });

describe('the collection stall watch (real Redis)', () => {
  const iso = isolation();
  const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
  const queues = createQueues(redis, iso.redisPrefix);
  const registry = new RedisSourceRegistry(redis, iso.redisPrefix);
  const health = new RedisSourceHealthStore(redis, iso.redisPrefix);
  const t0 = Date.parse('2026-12-08T02:00:00.000Z');
  let now = new Date(t0);

  afterAll(async () => {
    await queues.close();
    redis.disconnect();
    await iso.cleanup();
  });

  const stallJobs = async () => (await queues.alert.getJobs(['waiting', 'delayed'])).filter((j) => j.name === 'source-health').map((j) => j.data as SourceHealthJob);

  it('raises one source-health alert for a position whose runs stopped, none for one still collected, blocked or pushed, and none again on the next look', async () => {
    await registry.seed([board('stopped'), board('running'), board('blocked'), board('pushed', { kind: 'push', tokenEnv: 'QS_PUSH_TOKEN' })]);
    const ranAt = (id: string, minutesAgo: number, over = {}) => health.save({ ...emptyHealth(id), lastAttemptAt: new Date(t0 - minutesAgo * 60_000).toISOString(), ...over });
    await ranAt('stopped', 5);
    await ranAt('running', 5);
    await ranAt('blocked', 5, { backoff: { until: new Date(t0 + 3 * 3_600_000).toISOString(), delayMs: 3 * 3_600_000 } });
    const watch = startCrawlStallWatch({ registry, health, queues, defaultEverySeconds: 60, minGraceMs: 15 * 60_000, timeZone: 'Asia/Shanghai', now: () => now, log: createLogger('silent') });
    try {
      now = new Date(t0 + 20 * 60_000);
      expect(await watch.checkOnce()).toEqual([]);
      // Forty minutes on: 'running' ran meanwhile, 'stopped' did not (three intervals of ten minutes passed).
      now = new Date(t0 + 40 * 60_000);
      await ranAt('running', -38);
      expect(await watch.checkOnce()).toEqual(['stopped']);
      expect(await watch.checkOnce()).toEqual(['stopped']);
      const jobs = await stallJobs();
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ sourceId: 'stopped', signal: 'raise', errorClass: 'stalled', since: new Date(t0 - 5 * 60_000).toISOString() });
      expect(jobs[0]!.cause).toContain('最近一次采集在 2026-12-08 09:55');
      // The alert it becomes says what happened and whose position it is.
      expect(sourceHealthAlert(jobs[0]!)!.title).toBe(`阵地采集停滞：stopped留言板（${jobs[0]!.cause}；责任人 网信办 王芳）`);
    } finally {
      watch.close();
    }
  });
});
