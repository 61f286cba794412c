/** The crawler role: the crawl scheduler and crawl worker, the availability prober (and, in the demo, the county's website). */
import path from 'node:path';
import { repoRoot } from '../../core/paths.js';
import { startCrawlerRole as startCrawling } from '../../crawlers/crawler-role.js';
import { createApiCollectors } from '../../crawlers/api-collectors.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { startProber } from '../../crawlers/probe/prober.js';
import { RedisProbeLog } from '../../crawlers/probe/probe-log.js';
import { startHeartbeat } from '../../pipeline/redis/heartbeat.js';
import { startDemoSite } from '../../tests/fixtures/demo-site/server.js';
import type { RoleContext } from './context.js';

export async function startCrawlerRole(ctx: RoleContext): Promise<void> {
  const { config, log, redis, prefix, closers } = ctx;
  if (config.demo.enabled) {
    const site = await startDemoSite({ port: config.demo.sitePort, live: { intervalMs: config.demo.liveIntervalSeconds * 1000 } });
    closers.push(() => site.close());
    log.info({ url: site.url }, 'demo website running');
  }
  const crawler = await startCrawling({
    registry: ctx.registry,
    health: ctx.sourceHealth,
    healthPolicy: { alertAfterFailures: config.crawl.alertAfterFailures, remindEveryMinutes: config.crawl.remindEveryMinutes },
    evidence: new DiskEvidenceStore(path.resolve(repoRoot, config.crawl.evidenceDir)),
    queues: ctx.queues,
    connection: redis,
    prefix,
    defaultEverySeconds: config.crawl.everySeconds,
    maxRequestsPerRun: config.crawl.maxRequestsPerRun,
    timeoutSeconds: config.crawl.requestTimeoutSeconds,
    log,
    collectors: createApiCollectors({ redis, prefix }),
    env: ctx.env,
    secretHosts: ctx.secretHosts,
    recordReport: async (report) => void (await redis.hset(`${prefix}:crawl:last`, report.sourceId, JSON.stringify(report))),
  });
  closers.unshift(() => crawler.close());
  // After the positions are re-seeded (the context's hook runs first).
  ctx.onRedisLost('crawl schedulers', () => crawler.reschedule());
  const inspection = config.inspection;
  if (inspection.prober.enabled) {
    const prober = await startProber({
      registry: ctx.registry,
      log: new RedisProbeLog(redis, prefix, inspection.prober.keepDays),
      queue: ctx.queues.probe,
      connection: redis,
      prefix,
      everyMs: inspection.prober.everyMinutes * 60_000,
      timeoutMs: inspection.availability.timeoutSeconds * 1000,
      logger: log,
      env: ctx.env,
      secretHosts: ctx.secretHosts,
    });
    closers.unshift(() => prober.close());
    ctx.onRedisLost('probe schedulers', () => prober.reschedule());
  }
  const heartbeat = startHeartbeat(redis, prefix, 'crawler');
  closers.unshift(() => heartbeat.stop());
}
