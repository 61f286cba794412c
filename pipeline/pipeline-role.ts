import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { PostStore } from './elasticsearch/es-post-store.js';
import type { EventStore } from './elasticsearch/es-event-store.js';
import { evaluateAlerts, standingChangesOf } from './alert/evaluate-alerts.js';
import type { AlertDesk } from './alert/alert-desk.js';
import type { IngestOutcome, IngestPath } from './ingest/ingest-path.js';
import { startWorker, type AlertJob, type AlertQueueJob, type DeletionSpikeJob, type IngestJob, type PostChangeJob, type Queues, type SourceHealthJob } from './queues.js';
import { createIngestJobProcessor } from './ingest/ingest-batch.js';
import { deletionSpikeAlert } from './alert/deletion-spike-alert.js';
import type { RedisDeadLetters } from './redis/dead-letters.js';
import { sourceHealthAlert } from './alert/source-health-alert.js';
import { NotFoundError } from '../core/errors.js';
import { wordingOf } from '../core/posts/post-change.js';

export interface PipelineRoleDeps {
  /** The ingest path (`wireIngest`); its `lookAhead`, when given, hears of a batch's items first. */
  ingest: ((raw: unknown) => Promise<IngestOutcome>) & Partial<Pick<IngestPath, 'lookAhead'>>;
  posts: PostStore;
  desk: AlertDesk;
  /** Reads the event a post belongs to, for its heat. */
  events: Pick<EventStore, 'get'>;
  queues: Pick<Queues, 'ingest' | 'alert'>;
  deadLetters: RedisDeadLetters;
  connection: Redis;
  prefix: string;
  /** Ingest items in flight per process, over one-item and batch jobs: the bulk indexer batches their writes, so this sets batch size. */
  ingestConcurrency: number;
  log: Logger;
}

/** Ingest and alert-evaluation workers. Both wait (without spending attempts) while Elasticsearch is down. */
export function startPipelineRole(deps: PipelineRoleDeps): { close(): Promise<void> } {
  const common = { connection: deps.connection, prefix: deps.prefix, log: deps.log, deadLetters: deps.deadLetters };
  const ingestWorker = startWorker<IngestJob>('ingest', createIngestJobProcessor({ ingest: deps.ingest, lookAhead: deps.ingest.lookAhead, deadLetters: deps.deadLetters, itemsInFlight: deps.ingestConcurrency }), {
    ...common,
    concurrency: deps.ingestConcurrency,
    waitWhenUnavailable: { queue: deps.queues.ingest },
  });
  const alertWorker = startWorker<AlertQueueJob>(
    'alert',
    async (job) => {
      if (job.name === 'post-change') {
        const change = job.data as PostChangeJob;
        const notes = await deps.desk.notePostChange(change);
        deps.log.info({ postId: change.postId, change: change.change, notes }, notes.length ? 'post change noted on alerts' : 'post change touches no alert');
        return notes;
      }
      if (job.name === 'deletion-spike') {
        const signal = deletionSpikeAlert(job.data as DeletionSpikeJob);
        if (!signal) return { outcome: 'not-a-deletion-signal' };
        const result = await deps.desk.raise(signal, job.id);
        deps.log.warn({ alertId: result.alertId, source: signal.sourceId, outcome: result.outcome }, 'deletion-spike alert');
        return result;
      }
      if (job.name === 'source-health') {
        const signal = sourceHealthAlert(job.data as SourceHealthJob);
        if (!signal) return { outcome: 'recovered' };
        const result = await deps.desk.raise(signal, job.id);
        deps.log.warn({ alertId: result.alertId, source: signal.sourceId, outcome: result.outcome }, 'source-health alert');
        return result;
      }
      const data = job.data as AlertJob;
      const indexed = await deps.posts.get(data.postId, data.index);
      if (!indexed) throw new NotFoundError(`post ${data.postId} is not indexed`);
      // The wording handed over, also when the post was reworded since (or it was a stale one kept as
      // a version); a post that keeps no findings of it is evaluated as it reads now.
      const post = wordingOf(indexed, data.contentHash) ?? indexed;
      const results = [];
      const event = await deps.events.get(data.eventId).catch(() => undefined);
      for (const signal of evaluateAlerts(post, { eventId: data.eventId, ...(event ? { eventHeat: event.postCount } : {}) })) {
        const result = await deps.desk.raise(signal, job.id);
        deps.log.info({ alertId: result.alertId, ruleLevel: signal.ruleLevel, terms: signal.terms, outcome: result.outcome, eventId: data.eventId }, 'alert evaluated');
        results.push(result);
      }
      // A post gone before its wording was evaluated: its alerts carry the deletion (its own note may have found none).
      if (results.length > 0) for (const change of standingChangesOf(indexed)) await deps.desk.notePostChange(change);
      return results;
    },
    { ...common, concurrency: 2, waitWhenUnavailable: { queue: deps.queues.alert } },
  );
  return {
    async close() {
      await Promise.all([ingestWorker.close(), alertWorker.close()]);
    },
  };
}
