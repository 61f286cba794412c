import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { Source } from '../core/sources/source.js';
import { ingestJobIdOf } from '../pipeline/ingest/normalize.js';
import { startWorker, type CrawlJob, type Queues } from '../pipeline/queues.js';
import type { CrawlReport } from './shared/crawl-source.js';
import { crawlPosition, type ApiCollectors } from './crawl-position.js';

export interface CrawlerRoleDeps {
  sources: readonly Source[];
  queues: Queues;
  connection: Redis;
  prefix: string;
  defaultEverySeconds: number;
  maxRequestsPerRun: number;
  timeoutSeconds: number;
  log: Logger;
  /** Collectors of the kinds read through a platform's API. */
  collectors: ApiCollectors;
  /** Where credentials named by sources' `…Env` fields are read; process.env when absent. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where the last crawl report of each source is kept, for health. */
  recordReport(report: CrawlReport): Promise<void>;
}

/**
 * The crawl scheduler and crawl worker: each enabled source gets a BullMQ job scheduler; each crawl
 * run pushes every item to `ingest` with a job id derived from the item, so a re-crawl adds nothing
 * the pipeline has not seen.
 */
export async function startCrawlerRole(deps: CrawlerRoleDeps): Promise<{ close(): Promise<void> }> {
  const byId = new Map(deps.sources.map((s) => [s.id, s]));
  // Push sources are never crawled: other systems submit their items.
  const enabled = deps.sources.filter((s) => s.enabled && s.kind !== 'push');
  for (const source of enabled) {
    await deps.queues.crawl.upsertJobScheduler(
      `source:${source.id}`,
      { every: (source.everySeconds ?? deps.defaultEverySeconds) * 1000 },
      { name: 'crawl', data: { sourceId: source.id } },
    );
  }
  // Schedulers of sources that were removed or disabled must stop too.
  for (const scheduler of await deps.queues.crawl.getJobSchedulers()) {
    const id = scheduler.key.replace(/^source:/, '');
    if (!enabled.some((s) => s.id === id)) await deps.queues.crawl.removeJobScheduler(scheduler.key);
  }

  const worker: Worker<CrawlJob> = startWorker<CrawlJob>(
    'crawl',
    async (job) => {
      const source = byId.get(job.data.sourceId);
      if (!source) return { skipped: 'unknown source' };
      if (source.kind === 'push') return { skipped: 'push source' };
      const report = await crawlPosition(source, {
        collectors: deps.collectors,
        ...(deps.env ? { env: deps.env } : {}),
        maxRequests: deps.maxRequestsPerRun,
        timeoutSeconds: deps.timeoutSeconds,
        onItem: async (item) => {
          await deps.queues.ingest.add('item', { item }, { jobId: ingestJobIdOf(item) });
        },
      });
      await deps.recordReport(report);
      deps.log.info({ source: source.id, pages: report.pagesFetched, items: report.itemsEmitted, failures: report.failures.length }, 'crawl finished');
      return report;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 2, log: deps.log },
  );
  return {
    async close() {
      await worker.close();
    },
  };
}
