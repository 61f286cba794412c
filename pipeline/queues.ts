import { DelayedError, Queue, Worker, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { BusyError, QianshaoError, UnavailableError } from '../core/errors.js';
import type { CollectedItem } from '../core/posts/collected-item.js';
import type { NotifyJob } from '../core/notify/notification.js';
import type { AlertHandOver } from '../core/events/event.js';
import type { PostChange } from '../core/alerts/post-change-note.js';
import type { SignalRecord } from '../core/signals/early-signal.js';
import type { RedisDeadLetters } from './redis/dead-letters.js';

/** A queue exists only where retry, concurrency or rate-limit needs differ (DESIGN.md, data flow). */
export const QUEUE_NAMES = ['crawl', 'ingest', 'alert', 'escalate', 'notify', 'probe'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface CrawlJob {
  sourceId: string;
  /** A "crawl now" request: runs even while the source backs off. */
  manual?: boolean;
  requestedBy?: string;
  /** Keep a screenshot of browser-rendered pages as evidence. */
  screenshot?: boolean;
}
/** One availability probe of a website position's home page (self-inspection, 站点无法访问). */
export interface ProbeJob {
  sourceId: string;
}
/** A position's collection failed N times in a row (`raise`), still fails (`remind`), or works again (`recovered`). */
export interface SourceHealthJob {
  sourceId: string;
  sourceName: string;
  owner: { section: string; person: string };
  signal: 'raise' | 'remind' | 'recovered';
  consecutiveFailures: number;
  errorClass?: string;
  /** Chinese cause for staff. */
  cause?: string;
  message?: string;
  /** Start of the coverage gap. */
  since: string;
  at: string;
}
/** A deleted, reworded or restored post, for the alerts that hold it or its event (job name `post-change`). */
export type PostChangeJob = PostChange;
/** A position's deletions left their baseline (job name `deletion-spike`). */
export type DeletionSpikeJob = SignalRecord;
/** One item (job name `item`: a crawler's, a replayed dead letter) or a batch of them (job name `items`: a push, see `ingest-batch.ts`). */
export type IngestJob = { item: CollectedItem } | { items: CollectedItem[] };
/** A post with hits, handed to alert evaluation with the event it belongs to. */
export type AlertJob = AlertHandOver;
export type AlertQueueJob = AlertJob | SourceHealthJob | PostChangeJob | DeletionSpikeJob;
/** One alert clock: fires at its due time unless the alert moved on (then the token no longer matches). */
export interface EscalateJob {
  alertId: string;
  clockId: string;
  token: string;
  dueAt: string;
}

/** One delivery to one channel, or a digest flush (`digest: channelId`) of deliveries held back by a rate limit. */
export type NotifyQueueJob = { delivery: NotifyJob } | { digest: string };

export interface Queues {
  crawl: Queue<CrawlJob>;
  ingest: Queue<IngestJob>;
  /** Jobs named `evaluate` carry an AlertJob; `source-health` a SourceHealthJob; `post-change` a PostChangeJob; `deletion-spike` a DeletionSpikeJob. */
  alert: Queue<AlertQueueJob>;
  escalate: Queue<EscalateJob>;
  notify: Queue<NotifyQueueJob>;
  /** Availability probes: one attempt each (a failed probe is a measurement, not an error), results kept briefly. */
  probe: Queue<ProbeJob>;
  close(): Promise<void>;
}

/**
 * BullMQ needs `maxRetriesPerRequest: null` on worker connections; every role uses the same settings.
 * `autoPipelining` sends the commands issued in one tick as one write: for the ingest stages, whose
 * items of a batch job reach each stage together (measured: less CPU in the worker and in Redis per
 * post). Not for BullMQ's own connection.
 */
export function createRedis(url: string, opts: { autoPipelining?: boolean } = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, enableAutoPipelining: opts.autoPipelining === true });
}

/**
 * How long a failed job stays in BullMQ's failed set (for bull-board, and holding its id): 30 days,
 * the newest 10 000 per queue. Nothing is lost with it: an ingest or alert job's data stays in its
 * dead letter until replayed, a failed delivery is in the delivery log (and a later job for the same
 * notification finds the failed or missing holder alike: `gone`), and the reconciler re-arms a clock
 * still pending whose job failed or is missing alike. Kept for ever, failures would one day fill
 * Redis, which refuses every write then (`noeviction`).
 */
export const FAILED_JOBS_KEPT = { age: 30 * 86_400, count: 10_000 } as const;

const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: FAILED_JOBS_KEPT,
} as const;

export function createQueues(connection: Redis, prefix: string): Queues {
  const opts = { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  const crawl = new Queue<CrawlJob>('crawl', { ...opts, defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, attempts: 1 } });
  const ingest = new Queue<IngestJob>('ingest', opts);
  const alert = new Queue<AlertQueueJob>('alert', opts);
  const escalate = new Queue<EscalateJob>('escalate', { ...opts, defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { age: 3600 } } });
  const notify = new Queue<NotifyQueueJob>('notify', opts);
  const probe = new Queue<ProbeJob>('probe', { ...opts, defaultJobOptions: { attempts: 1, removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 7 * 86_400 } } });
  return {
    crawl,
    ingest,
    alert,
    escalate,
    notify,
    probe,
    async close() {
      await Promise.all([crawl.close(), ingest.close(), alert.close(), escalate.close(), notify.close(), probe.close()]);
    },
  };
}

export interface WorkerDeps {
  connection: Redis;
  prefix: string;
  concurrency: number;
  log: Logger;
  /** Where jobs that will never succeed go; without it they stay in BullMQ's failed set only. */
  deadLetters?: RedisDeadLetters;
  /**
   * When a dependency is down (`UnavailableError`), put the job back at the head of the queue
   * without spending an attempt and stop fetching for a while (1 s doubling to `maxMs`), instead of
   * burning retries: the queue waits for the dependency and catches up when it returns.
   */
  waitWhenUnavailable?: { queue: Queue; initialMs?: number; maxMs?: number };
}

/**
 * Starts a worker whose processor may throw our errors:
 * - a non-retryable one (bad input, a document Elasticsearch rejects) fails the job at once and
 *   dead-letters it, so a poison item never blocks the queue;
 * - `UnavailableError`, with `waitWhenUnavailable`, pauses the worker (see there);
 * - `BusyError` (another worker holds the post) delays that job alone, without spending an attempt,
 *   and never dead-letters it (`busyDelay`): it runs again once the holder is done;
 * - anything else is retried with the queue's exponential backoff, and dead-lettered with
 *   `attempts_exhausted` when the last attempt fails.
 * A failed job also stays in BullMQ's failed set with its data (`FAILED_JOBS_KEPT`).
 */
/**
 * How long a job whose post another worker holds waits before it runs again, by how often it found
 * the post busy (BullMQ's started-but-not-counted runs): 1 s doubling to 30 s, with jitter so the
 * waiters of one post do not come back together.
 */
export function busyDelay(busyRuns: number): number {
  const base = Math.min(1_000 * 2 ** Math.max(0, Math.min(busyRuns - 1, 5)), 30_000);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

export function startWorker<T>(name: QueueName, processor: (job: Job<T>) => Promise<unknown>, deps: WorkerDeps): Worker<T> {
  let unavailableStreak = 0;
  const wrapped: Processor<T> = async (job, token) => {
    try {
      const result = await processor(job);
      unavailableStreak = 0;
      return result;
    } catch (err) {
      const wait = deps.waitWhenUnavailable;
      if (wait && err instanceof UnavailableError) {
        const delay = Math.min((wait.initialMs ?? 1_000) * 2 ** Math.min(unavailableStreak++, 16), wait.maxMs ?? 30_000);
        if (unavailableStreak === 1 || unavailableStreak % 10 === 0) deps.log.warn({ queue: name, jobId: job.id, delayMs: delay, err: err.message }, 'dependency unavailable; waiting');
        await wait.queue.rateLimit(delay);
        throw Worker.RateLimitError();
      }
      if (err instanceof BusyError) {
        // `moveToDelayed` skips the attempt count; BullMQ then leaves the delayed job alone.
        await job.moveToDelayed(Date.now() + busyDelay(job.attemptsStarted - job.attemptsMade), token);
        throw new DelayedError();
      }
      const permanent = err instanceof QianshaoError && !err.retryable;
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if ((permanent || lastAttempt) && deps.deadLetters) {
        await deps.deadLetters.add({
          id: String(job.id),
          queue: name,
          name: job.name,
          data: job.data,
          code: permanent ? (err as QianshaoError).code : 'attempts_exhausted',
          reason: err instanceof Error ? err.message : String(err),
          attempts: job.attemptsMade + 1,
          failedAt: new Date().toISOString(),
        });
      }
      if (permanent) throw new UnrecoverableError(`${(err as QianshaoError).code}: ${(err as Error).message}`);
      throw err;
    }
  };
  const worker = new Worker<T>(name, wrapped, { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency });
  worker.on('failed', (job, err) => deps.log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
  worker.on('error', (err) => deps.log.error({ queue: name, err: err.message }, 'worker error'));
  return worker;
}
