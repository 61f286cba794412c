import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { CrawlReport } from '../../crawlers/shared/crawl-source.js';
import { createLogger } from '../../core/logger.js';
import { startRedisEpoch } from '../../pipeline/redis/redis-epoch.js';
import { createHarness, shortPolicy, signalFor } from '../support/alerting-harness.js';
import { freePort, runQianshao, type AppProcess } from '../support/app-process.js';
import { eventually, isolation } from '../support/isolation.js';
import { loseRedisData } from '../support/redis-loss.js';

/** A describe block's isolated prefixes, a Redis connection to them, and the role process its test starts (stopped after it). */
function useRoleProcess() {
  const iso = isolation();
  const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
  const role: { app?: AppProcess } = {};
  afterAll(async () => {
    await role.app?.stop();
    redis.disconnect();
    await iso.cleanup();
  });
  return { iso, redis, role };
}

describe('when Redis loses its data while the product runs', () => {
  describe('the crawler role', () => {
    const { iso, redis, role } = useRoleProcess();

    /** The process's output joins a failure: it says why a crawl did not come. */
    const showingOutput = <T>(waiting: Promise<T>): Promise<T> => waiting.catch((err: Error) => Promise.reject(new Error(`${err.message}\n${role.app?.output() ?? ''}`)));
    const lastReports = async (): Promise<CrawlReport[]> => Object.values(await redis.hgetall(`${iso.redisPrefix}:crawl:last`)).map((r) => JSON.parse(r) as CrawlReport);

    it('re-seeds the positions from sources.yaml and re-creates their crawl schedulers, so crawls resume within seconds', async () => {
      role.app = runQianshao(['crawler', '--demo'], {
        DEMO_SITE_PORT: String(await freePort()),
        REDIS_URL: iso.redisUrl,
        REDIS_PREFIX: iso.redisPrefix,
        REDIS_EPOCH_CHECK_SECONDS: '1',
        ES_URL: iso.esUrl,
        ES_INDEX_PREFIX: iso.indexPrefix,
      });
      await showingOutput(eventually(async () => ((await lastReports()).length > 0 ? true : undefined), 120_000, 'a first crawl'));
      const epoch = await redis.get(`${iso.redisPrefix}:epoch`);
      expect(epoch).toBeTruthy();

      const lostAt = new Date().toISOString();
      expect(await loseRedisData(redis, iso.redisPrefix)).toBeGreaterThan(0);

      // The demo's positions are crawled every 15 to 60 s; a re-created scheduler runs at once. (A run
      // caught by the loss ends superseded, its lock gone: that is no crawl of the schedule.)
      await showingOutput(
        eventually(
          async () => {
            const after = (await lastReports()).filter((r) => r.startedAt > lostAt && r.error?.errorClass !== 'superseded');
            return after.length >= 3 ? after : undefined;
          },
          12_000,
          'crawls of three positions after the loss',
        ),
      );
      const crawl = new Queue('crawl', { connection: redis, prefix: iso.redisPrefix });
      expect((await crawl.getJobSchedulers()).map((s) => s.key).sort()).toEqual(['source:demo-message-board', 'source:demo-rss', 'source:demo-website', 'source:demo-wechat-mp', 'source:demo-weibo']);
      await crawl.close();
      const sources = await redis.hkeys(`${iso.redisPrefix}:sources`);
      expect(sources).toEqual(expect.arrayContaining(['demo-website', 'demo-message-board', 'demo-rss']));
      expect(await redis.get(`${iso.redisPrefix}:epoch`)).not.toBe(epoch);
      expect(role.app.output()).toContain('Redis lost its data');

      // One audit record of the loss, by whichever process noticed it first.
      const es = new Client({ node: iso.esUrl });
      const audited = await eventually(
        async () => {
          await es.indices.refresh({ index: `${iso.indexPrefix}-audit` });
          const found = await es.search({ index: `${iso.indexPrefix}-audit`, query: { term: { action: 'redis.data_lost' } } });
          return found.hits.hits.length > 0 ? found.hits.hits.length : undefined;
        },
        5_000,
        'the audit record of the loss',
      );
      expect(audited).toBe(1);
      await es.close();
    }, 180_000);
  });

  describe('the worker role', () => {
    const { iso, redis, role } = useRoleProcess();

    const schedulers = async () => {
      const keys: string[] = [];
      for (const name of ['report', 'inspection', 'ledger']) {
        const queue = new Queue(name, { connection: redis, prefix: iso.redisPrefix });
        keys.push(...(await queue.getJobSchedulers()).map((s) => `${name}/${s.key}`));
        await queue.close();
      }
      return keys.sort();
    };
    const ALL = ['inspection/inspection-watch', 'ledger/ledger-deadlines', 'report/report-quarterly', 'report/report-weekly'];

    it('re-creates the report schedules, the self-inspection watch and the ledger deadline check', async () => {
      role.app = runQianshao(['worker', '--demo'], { REDIS_URL: iso.redisUrl, REDIS_PREFIX: iso.redisPrefix, REDIS_EPOCH_CHECK_SECONDS: '1', ES_URL: iso.esUrl, ES_INDEX_PREFIX: iso.indexPrefix });
      await eventually(async () => ((await schedulers()).length === ALL.length ? true : undefined), 120_000, 'the worker started').catch((err: Error) => Promise.reject(new Error(`${err.message}\n${role.app?.output()}`)));
      await loseRedisData(redis, iso.redisPrefix);
      expect(await schedulers()).toEqual([]);
      expect(await eventually(async () => ((await schedulers()).length === ALL.length ? schedulers() : undefined), 6_000, 'the schedulers back')).toEqual(ALL);
    }, 180_000);
  });

  describe('the epoch sentinel', () => {
    const iso = isolation();
    const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
    afterAll(async () => {
      redis.disconnect();
      await iso.cleanup();
    });

    it('processes that notice one loss agree on one new epoch, run their hooks once, and run a failed hook again at the next check', async () => {
      const log = createLogger('silent');
      const hour = 3_600_000;
      const [a, b] = [await startRedisEpoch({ redis, prefix: iso.redisPrefix, everyMs: hour, log }), await startRedisEpoch({ redis, prefix: iso.redisPrefix, everyMs: hour, log })];
      expect(a.current()).toBe(b.current());
      const calls = { a: 0, b: 0 };
      let failOnce = true;
      a.onLost('a', async () => void (calls.a += 1));
      b.onLost('b', async () => {
        calls.b += 1;
        if (failOnce) {
          failOnce = false;
          throw new Error('Redis blinked');
        }
      });
      await Promise.all([a.check(), b.check()]);
      expect(calls).toEqual({ a: 0, b: 0 });

      const before = a.current();
      await loseRedisData(redis, iso.redisPrefix);
      await Promise.all([a.check(), b.check()]);
      expect(a.current()).not.toBe(before);
      expect(b.current()).toBe(a.current());
      expect(await redis.get(`${iso.redisPrefix}:epoch`)).toBe(a.current());
      expect(calls).toEqual({ a: 1, b: 1 });
      // b's hook failed: run again at the next check, a's not.
      await Promise.all([a.check(), b.check()]);
      expect(calls).toEqual({ a: 1, b: 2 });
      await Promise.all([a.check(), b.check()]);
      expect(calls).toEqual({ a: 1, b: 2 });
      await Promise.all([a.stop(), b.stop()]);
    });
  });

  describe('escalation clocks', () => {
    const iso = isolation();
    afterAll(() => iso.cleanup());

    it('an escalation clock due in 3 s whose job was lost fires on time (under 1.5 s late), once', async () => {
      const base = shortPolicy();
      const level = { acknowledgeSeconds: 600, respondSeconds: 600, closeSeconds: 3600, steps: [{ afterSeconds: 3, role: 'section_chief' as const }, { afterSeconds: 600, role: 'leader' as const }] };
      const policy = shortPolicy({ levels: Object.fromEntries(Object.keys(base.levels).map((k) => [k, level])) as typeof base.levels });
      const h = await createHarness({ ...iso, policy });
      // The production reconciler period: on its own it would re-arm the lost job up to a minute late.
      const role = h.startEscalation(60);
      const epoch = await startRedisEpoch({ redis: h.redis, prefix: iso.redisPrefix, everyMs: 1000, log: createLogger('silent'), audit: h.audit });
      epoch.onLost('escalation clocks', () => role.reconcileAfresh());
      try {
        await h.desk.raise(signalFor('lost-clock', 3));
        await new Promise((r) => setTimeout(r, 500));
        expect(await loseRedisData(h.redis, iso.redisPrefix)).toBeGreaterThan(0);

        const fired = await h.waitFor('lost-clock', (a) => a.firedClocks.some((f) => f.clockId === 'escalate-1'), 8_000);
        const step = fired.firedClocks.filter((f) => f.clockId === 'escalate-1');
        expect(step).toHaveLength(1);
        expect(step[0]!.lateMs).toBeLessThan(1500);
        expect(fired.escalationStep).toBe(1);

        await new Promise((r) => setTimeout(r, 1500));
        const records = await h.audit.list({ entityId: 'lost-clock' });
        expect(records.filter((r) => r.action === 'alert.clock.escalation')).toHaveLength(1);
        expect((await h.audit.list({ action: 'redis.data_lost' })).length).toBe(1);
      } finally {
        await epoch.stop();
        await h.close();
      }
    }, 30_000);
  });
});
