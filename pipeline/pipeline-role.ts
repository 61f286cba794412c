import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import type { AlertStore } from './elasticsearch/es-alert-store.js';
import type { PostStore } from './elasticsearch/es-post-store.js';
import { evaluateAlerts } from './alert/evaluate-alerts.js';
import type { IngestOutcome } from './ingest/ingest-path.js';
import { startWorker, type AlertJob, type IngestJob, type Queues, type SourceHealthJob } from './queues.js';
import type { RedisDeadLetters } from './redis/dead-letters.js';
import { sourceHealthAlert } from './alert/source-health-alert.js';
import { NotFoundError } from '../core/errors.js';

export interface PipelineRoleDeps {
  ingest(raw: unknown): Promise<IngestOutcome>;
  posts: PostStore;
  alerts: AlertStore;
  queues: Pick<Queues, 'ingest' | 'alert'>;
  deadLetters: RedisDeadLetters;
  connection: Redis;
  prefix: string;
  /** Ingest jobs in flight per process: the bulk indexer batches their writes, so this sets batch size. */
  ingestConcurrency: number;
  log: Logger;
  now(): Date;
  /** Told of every alert created or merged (the API's live stream listens). */
  onAlert(alertId: string, outcome: 'created' | 'merged'): Promise<void>;
}

/** Ingest and alert-evaluation workers. Both wait (without spending attempts) while Elasticsearch is down. */
export function startPipelineRole(deps: PipelineRoleDeps): { close(): Promise<void> } {
  const common = { connection: deps.connection, prefix: deps.prefix, log: deps.log, deadLetters: deps.deadLetters };
  const ingestWorker = startWorker<IngestJob>('ingest', (job) => deps.ingest(job.data.item), {
    ...common,
    concurrency: deps.ingestConcurrency,
    waitWhenUnavailable: { queue: deps.queues.ingest },
  });
  const alertWorker = startWorker<AlertJob | SourceHealthJob>(
    'alert',
    async (job) => {
      if (job.name === 'source-health') {
        const alert = sourceHealthAlert(job.data as SourceHealthJob);
        if (!alert) return { outcome: 'recovered' };
        const outcome = await deps.alerts.createOrMerge(alert);
        if (outcome !== 'unchanged') await deps.onAlert(alert.id, outcome);
        deps.log.warn({ alertId: alert.id, source: alert.sourceId, outcome }, 'source-health alert');
        return { id: alert.id, outcome };
      }
      const data = job.data as AlertJob;
      const post = await deps.posts.get(data.postId, data.index);
      if (!post) throw new NotFoundError(`post ${data.postId} is not indexed`);
      const results = [];
      for (const alert of evaluateAlerts(post, deps.now())) {
        const outcome = await deps.alerts.createOrMerge(alert);
        if (outcome !== 'unchanged') await deps.onAlert(alert.id, outcome);
        deps.log.info({ alertId: alert.id, level: alert.level, terms: alert.terms, outcome, eventId: data.eventId }, 'alert evaluated');
        results.push({ id: alert.id, outcome });
      }
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
