import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { SecretHosts } from '../core/config/secret-hosts.js';
import type { Source } from '../core/sources/source.js';
import { startWorker, type CrawlJob, type Queues, type SourceHealthJob } from '../pipeline/queues.js';
import { crawlPosition, type ApiCollectors } from './crawl-position.js';
import { toCrawlError } from './shared/crawl-error.js';
import { CrawlOutbox } from './shared/crawl-outbox.js';
import { takeCrawlLock, type CrawlLock } from './shared/crawl-lock.js';
import { RedisCrawlState } from './shared/crawl-state.js';
import { emptyReport, type CrawlReport } from './shared/crawl-source.js';
import type { EvidenceStore } from './shared/evidence-store.js';
import { applyRun, decideCrawlStart, emptyHealth, type HealthPolicy, type SourceHealthStore } from './shared/source-health.js';
import type { SourceRegistry } from './shared/source-registry.js';

export interface CrawlerRoleDeps {
  registry: SourceRegistry;
  health: SourceHealthStore;
  healthPolicy: HealthPolicy;
  evidence: EvidenceStore;
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
  /** Where each bound secret may be sent (`secrets.hosts`). */
  secretHosts?: SecretHosts;
  now?: () => Date;
  /** How long a source's run lock lives without a renewal (a live run renews it every third of it); 30 minutes when absent. */
  lockMs?: number;
  /** Where the last crawl report of each source is kept. */
  recordReport(report: CrawlReport): Promise<void>;
}

/** The job scheduler of one source: created or changed in place, removed when the source is disabled. */
export async function scheduleSource(queue: Queue<CrawlJob>, source: Source, defaultEverySeconds: number): Promise<'scheduled' | 'removed'> {
  const key = `source:${source.id}`;
  // Push sources are never crawled: other systems submit their items.
  if (!source.enabled || source.kind === 'push') {
    await queue.removeJobScheduler(key);
    return 'removed';
  }
  const repeat = source.cron ? { pattern: source.cron } : { every: (source.everySeconds ?? defaultEverySeconds) * 1000 };
  await queue.upsertJobScheduler(key, repeat, { name: 'crawl', data: { sourceId: source.id } });
  return 'scheduled';
}

/** Asks for a run now, outside the schedule ("crawl now"); returns the job id. */
export async function requestCrawl(queue: Queue<CrawlJob>, sourceId: string, options: { screenshot?: boolean; by: string }): Promise<string> {
  const jobId = `manual-${sourceId}-${randomUUID()}`;
  await queue.add('crawl', { sourceId, manual: true, requestedBy: options.by, ...(options.screenshot ? { screenshot: true } : {}) }, { jobId });
  return jobId;
}

/**
 * The crawl scheduler and crawl worker: each enabled source gets a BullMQ job scheduler; a run reads
 * the source afresh from the registry (so edits apply without a restart), waits out a block backoff,
 * hands every new, edited or deleted item to `ingest` in batch jobs (a `CrawlOutbox`: up to 100
 * items, or what came within a second, with the crawl state written behind them), and folds the
 * run into the source's health under the source's run lock (renewed while the run lasts; a run that
 * lost it saves no health, and its crawl state writes are refused from then on: it ends superseded),
 * raising a source-health alert after N failures in a row and repeating
 * it until the source recovers.
 */
export async function startCrawlerRole(deps: CrawlerRoleDeps): Promise<{ close(): Promise<void>; reschedule(): Promise<number> }> {
  const now = deps.now ?? (() => new Date());
  const lockMs = deps.lockMs ?? 30 * 60_000;
  /** The job scheduler of every source in the registry (at start, and again after Redis lost them); returns how many sources there are. */
  async function reschedule(): Promise<number> {
    const stored = await deps.registry.list();
    for (const { source } of stored) await scheduleSource(deps.queues.crawl, source, deps.defaultEverySeconds);
    // Schedulers of sources that no longer exist must stop too.
    for (const scheduler of await deps.queues.crawl.getJobSchedulers()) {
      const id = scheduler.key.replace(/^source:/, '');
      if (!stored.some((s) => s.source.id === id)) await deps.queues.crawl.removeJobScheduler(scheduler.key);
    }
    return stored.length;
  }
  await reschedule();

  async function runOnce(job: CrawlJob): Promise<unknown> {
    const entry = await deps.registry.get(job.sourceId);
    if (!entry) return { skipped: 'unknown-source' };
    const source = entry.source;
    if (source.kind === 'push') return { skipped: 'push-source' };
    if (!source.enabled && !job.manual) return { skipped: 'disabled' };
    // One run per source at a time: a manual run and a scheduled one share the same memory and health.
    // The health is read and saved under the lock, so no run folds itself into a health another run replaces.
    const lock = await takeCrawlLock(deps.connection, `${deps.prefix}:crawl:${source.id}:lock`, lockMs);
    if (!lock) return { skipped: 'already-running' };
    try {
      return await runLocked(job, source, lock, entry.origin === 'api');
    } finally {
      await lock.release();
    }
  }

  async function runLocked(job: CrawlJob, source: Source, lock: CrawlLock, writtenThroughApi: boolean): Promise<unknown> {
    const health = (await deps.health.get(source.id)) ?? emptyHealth(source.id);
    const start = decideCrawlStart(health, now(), job.manual === true);
    if (start === 'backoff') {
      deps.log.info({ source: source.id, until: health.backoff?.until }, 'crawl skipped: backing off');
      return { skipped: start };
    }
    let report: CrawlReport | undefined;
    const outbox = new CrawlOutbox({ queue: deps.queues.ingest, state: new RedisCrawlState(deps.connection, deps.prefix, source.id, lock), lock });
    try {
      report = await crawlPosition(source, {
        collectors: deps.collectors,
        ...(deps.env ? { env: deps.env } : {}),
        ...(deps.secretHosts ? { secretHosts: deps.secretHosts } : {}),
        requireSecretBindings: writtenThroughApi,
        state: outbox.state,
        evidence: deps.evidence,
        maxRequests: deps.maxRequestsPerRun,
        timeoutSeconds: deps.timeoutSeconds,
        now,
        screenshot: job.screenshot === true,
        onItem: outbox.add,
      });
      await outbox.close();
    } catch (err) {
      // What was collected before a run failed half-way is queued all the same (a failed close
      // wrote neither those items nor their state: the next run collects them again).
      await outbox.close().catch(() => undefined);
      // Nothing a source does may stop the worker: the failure becomes the run's recorded outcome.
      const e = toCrawlError(err);
      const at = now().toISOString();
      report = { ...(report ?? emptyReport(source.id, at)), finishedAt: at, outcome: 'failed', error: { errorClass: e.errorClass, message: e.message } };
    }
    // Superseded: a crawl state write of this run was refused, the lock being another run's (or no one's) by then.
    const superseded = report.error?.errorClass === 'superseded';
    if (superseded || !(await lock.confirm())) {
      // Another run may hold the lock and have read the health and the crawl state this run started from: its saves win.
      deps.log.warn(
        { source: source.id, outcome: report.outcome, queued: outbox.counts.items, stateWrites: outbox.counts.stateWrites, deletionsDropped: outbox.counts.deletionsDropped },
        superseded ? 'crawl superseded: the run lost its lock, its later crawl state and its health are not saved, its items are queued' : 'crawl lock lost during the run: its health is not saved',
      );
      await deps.recordReport(report);
      return { outcome: report.outcome, skipped: superseded ? 'superseded' : 'lock-lost', itemsEmitted: report.itemsEmitted };
    }
    const { health: next, signal } = applyRun(health, report, now(), deps.healthPolicy);
    await deps.health.save(next);
    await deps.recordReport(report);
    if (signal !== 'none') {
      const alert: SourceHealthJob = {
        sourceId: source.id,
        sourceName: source.name,
        owner: source.owner,
        signal,
        consecutiveFailures: next.consecutiveFailures,
        ...(next.lastError ? { errorClass: next.lastError.errorClass, cause: next.lastError.cause, message: next.lastError.message } : {}),
        since: next.gaps.at(-1)?.from ?? now().toISOString(),
        at: now().toISOString(),
      };
      await deps.queues.alert.add('source-health', alert, { jobId: `source-health-${source.id}-${signal}-${alert.at}` });
    }
    deps.log.info(
      { source: source.id, outcome: report.outcome, error: report.error?.errorClass, pages: report.pagesFetched, unchanged: report.pagesUnchanged, skipped: report.detailSkipped, new: report.itemsNew, edited: report.itemsEdited, deleted: report.itemsDeleted, failures: report.failures.length, signal, batchJobs: outbox.counts.batchJobs, queued: outbox.counts.items },
      'crawl finished',
    );
    return { outcome: report.outcome, signal, itemsEmitted: report.itemsEmitted };
  }

  const worker: Worker<CrawlJob> = startWorker<CrawlJob>('crawl', (job) => runOnce(job.data), { connection: deps.connection, prefix: deps.prefix, concurrency: 2, log: deps.log });
  return {
    reschedule,
    async close() {
      await worker.close();
    },
  };
}
