import { Queue, Worker, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { QianshaoError } from '../core/errors.js';
import type { CollectedItem } from '../core/posts/collected-item.js';
import type { NotifyJob } from '../core/notify/notification.js';

/** A queue exists only where retry, concurrency or rate-limit needs differ (DESIGN.md, data flow). */
export const QUEUE_NAMES = ['crawl', 'ingest', 'alert', 'notify'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface CrawlJob {
  sourceId: string;
}
export interface IngestJob {
  item: CollectedItem;
}
export interface AlertJob {
  postId: string;
}

/** One delivery to one channel, or a digest flush (`digest: channelId`) of deliveries held back by a rate limit. */
export type NotifyQueueJob = { delivery: NotifyJob } | { digest: string };

export interface Queues {
  crawl: Queue<CrawlJob>;
  ingest: Queue<IngestJob>;
  alert: Queue<AlertJob>;
  notify: Queue<NotifyQueueJob>;
  close(): Promise<void>;
}

/** BullMQ needs `maxRetriesPerRequest: null` on worker connections; every role uses the same settings. */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  // Failed jobs are kept (with their data) so nothing is lost: they can be inspected and retried.
  removeOnFail: false,
} as const;

export function createQueues(connection: Redis, prefix: string): Queues {
  const opts = { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  const crawl = new Queue<CrawlJob>('crawl', { ...opts, defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, attempts: 1 } });
  const ingest = new Queue<IngestJob>('ingest', opts);
  const alert = new Queue<AlertJob>('alert', opts);
  const notify = new Queue<NotifyQueueJob>('notify', opts);
  return {
    crawl,
    ingest,
    alert,
    notify,
    async close() {
      await Promise.all([crawl.close(), ingest.close(), alert.close(), notify.close()]);
    },
  };
}

/**
 * Starts a worker whose processor may throw our errors: a non-retryable one (bad input) fails the
 * job at once and keeps it in the failed set; anything else is retried with backoff.
 */
export function startWorker<T>(
  name: QueueName,
  processor: (job: Job<T>) => Promise<unknown>,
  deps: { connection: Redis; prefix: string; concurrency: number; log: Logger },
): Worker<T> {
  const wrapped: Processor<T> = async (job) => {
    try {
      return await processor(job);
    } catch (err) {
      if (err instanceof QianshaoError && !err.retryable) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };
  const worker = new Worker<T>(name, wrapped, { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency });
  worker.on('failed', (job, err) => deps.log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
  worker.on('error', (err) => deps.log.error({ queue: name, err: err.message }, 'worker error'));
  return worker;
}
