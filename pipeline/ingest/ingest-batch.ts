import { createHash } from 'node:crypto';
import { CollectedItemSchema, type CollectedItem } from '../../core/posts/collected-item.js';
import { BusyError, QianshaoError, UnavailableError } from '../../core/errors.js';
import type { IngestJob } from '../queues.js';
import type { DeadLetter, RedisDeadLetters } from '../redis/dead-letters.js';
import { ingestJobIdOf } from './normalize.js';
import type { IngestOutcome } from './ingest-path.js';

/** Items per batch job: a page of a push or a bench load, small enough that one slow item holds back little. */
export const INGEST_BATCH_SIZE = 100;

/**
 * Completed batch jobs kept (with their items): as many items as the queue keeps of one-item jobs
 * (10,000), not 10,000 batches of them. A batch re-sent after its job was removed is queued again
 * and its items dedupe as duplicates at ingest.
 */
const BATCHES_KEPT = { age: 24 * 3600, count: 100 };

/**
 * Batch jobs for `items`, at most `size` items each, items that occur twice kept once. A batch's id
 * is derived from its items' ids, so the same batch queued again finds the existing job.
 */
export function ingestBatchJobs(
  items: readonly CollectedItem[],
  size = INGEST_BATCH_SIZE,
): { name: 'items'; data: { items: CollectedItem[] }; opts: { jobId: string; removeOnComplete: typeof BATCHES_KEPT } }[] {
  const seen = new Set<string>();
  const unique = items.filter((item) => {
    const id = ingestJobIdOf(item);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const jobs = [];
  for (let i = 0; i < unique.length; i += size) {
    const chunk = unique.slice(i, i + size);
    const hash = createHash('sha256');
    for (const item of chunk) hash.update(ingestJobIdOf(item)).update('\u0000');
    jobs.push({ name: 'items' as const, data: { items: chunk }, opts: { jobId: `batch-${hash.digest('hex').slice(0, 40)}`, removeOnComplete: BATCHES_KEPT } });
  }
  return jobs;
}

/** What the processor needs of a BullMQ job. */
export interface IngestQueueJob {
  id?: string | undefined;
  data: IngestJob;
  attemptsMade: number;
  opts: { attempts?: number };
  updateData(data: IngestJob): Promise<void>;
}

export interface IngestJobDeps {
  ingest(raw: unknown): Promise<IngestOutcome>;
  /** Told a batch's items before they start (`IngestPath.lookAhead`). */
  lookAhead?(items: readonly unknown[]): void;
  deadLetters: RedisDeadLetters;
  /** Items in flight at once in this process, over all jobs (the bulk indexer batches their writes). */
  itemsInFlight: number;
}

/**
 * Runs `ingest` jobs. A one-item job throws as the item does (the worker dead-letters or retries
 * it). A batch job keeps every guarantee per item:
 * - a poison item (a non-retryable error) is dead-lettered alone, as the one-item job it would have
 *   been (id = the item's ingest job id, so a replay queues it as such); its batch-mates go on;
 * - when items fail for a while (Elasticsearch down, another retryable error), the batch shrinks to
 *   the items still owed and is retried (a dependency outage waits without spending an attempt);
 *   the items done before are not touched again, and even a crash before the shrink only makes
 *   them dedupe as duplicates, since every stage is idempotent per item;
 * - an item whose post another worker holds (`BusyError`) is owed; a batch owed only such items is
 *   delayed by the worker without spending an attempt, and they are never dead-lettered;
 * - on its last attempt, the items that still fail are dead-lettered alone and the batch completes;
 *   when a letter cannot be written, the batch shrinks to the items neither done nor lettered and
 *   waits as in an outage (no attempt spent), so the worker never dead-letters the batch as a whole
 *   and no item done or lettered is lettered again.
 */
export function createIngestJobProcessor(deps: IngestJobDeps): (job: IngestQueueJob) => Promise<unknown> {
  const limit = createLimiter(deps.itemsInFlight);
  return async (job) => {
    if ('item' in job.data) return limit(() => deps.ingest((job.data as { item: CollectedItem }).item));
    const items = job.data.items;
    deps.lookAhead?.(items);
    // Once a dependency is down, the items not started yet are owed at once instead of each waiting to fail.
    let outage: UnavailableError | undefined;
    const settled = await Promise.allSettled(
      items.map((item) =>
        limit(async () => {
          if (outage) throw outage;
          try {
            return await deps.ingest(item);
          } catch (err) {
            if (err instanceof UnavailableError) outage ??= err;
            throw err;
          }
        }),
      ),
    );
    const owed: { item: CollectedItem; err: unknown }[] = [];
    // A batch's result is kept with the job: counts, not one outcome per item.
    const decisions: Partial<Record<IngestOutcome['decision'], number>> = {};
    const attempts = job.attemptsMade + 1;
    const lastAttempt = attempts >= (job.opts.attempts ?? 1);
    const letters: { item: CollectedItem; letter: Omit<DeadLetter, 'replays'> }[] = [];
    for (const [index, result] of settled.entries()) {
      if (result.status === 'fulfilled') {
        decisions[result.value.decision] = (decisions[result.value.decision] ?? 0) + 1;
        continue;
      }
      const item = items[index]!;
      const err: unknown = result.reason;
      const permanent = err instanceof QianshaoError && !err.retryable;
      // An outage waits, a busy post waits for its holder: neither is an attempt used up.
      if (permanent || (lastAttempt && !(err instanceof UnavailableError) && !(err instanceof BusyError))) {
        letters.push({
          item,
          letter: {
            id: letterIdOf(item, job.id),
            queue: 'ingest',
            name: 'item',
            data: { item },
            code: permanent ? (err as QianshaoError).code : 'attempts_exhausted',
            reason: err instanceof Error ? err.message : String(err),
            attempts,
            failedAt: new Date().toISOString(),
          },
        });
      } else owed.push({ item, err });
    }
    // Every letter is tried; one that could not be written keeps its item owed, so neither the items
    // done nor the ones lettered are ever lettered again (by the worker's fallback for the whole job).
    const written = await Promise.allSettled(letters.map(({ letter }) => deps.deadLetters.add(letter)));
    for (const [i, w] of written.entries()) {
      if (w.status === 'rejected') owed.push({ item: letters[i]!.item, err: new UnavailableError(`dead letter could not be written: ${String(w.reason)}`, 'dead_letters_unavailable', { cause: w.reason }) });
    }
    const deadLettered = written.filter((w) => w.status === 'fulfilled').length;
    if (owed.length === 0) return { items: items.length, decisions, deadLettered };
    if (owed.length < items.length) {
      await job.updateData({ items: owed.map((o) => o.item) }).catch((err: unknown) => {
        throw new UnavailableError(`the batch could not shrink to the items still owed: ${String(err)}`, 'unavailable', { cause: err });
      });
    }
    // An outage anywhere in the batch makes the whole batch wait for the dependency; an item that
    // failed otherwise spends an attempt; a batch owed only busy posts is delayed without spending one.
    throw owed.find((o) => o.err instanceof UnavailableError)?.err ?? owed.find((o) => !(o.err instanceof BusyError))?.err ?? owed[0]!.err;
  };
}

/**
 * A dead letter of a batch's item carries the item's own ingest job id; a malformed item, the
 * batch's id and a hash of the item, so writing its letter again (a retry of a shrunk batch, where
 * places move) still finds the one letter.
 */
function letterIdOf(item: unknown, batchId: string | undefined): string {
  const parsed = CollectedItemSchema.safeParse(item);
  if (parsed.success) return ingestJobIdOf(parsed.data);
  return `${batchId ?? 'batch'}-${createHash('sha256').update(JSON.stringify(item) ?? 'undefined').digest('hex').slice(0, 16)}`;
}

/** At most `max` calls run at once; the rest wait in arrival order. */
function createLimiter(max: number): <T>(run: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (run) => {
    if (running < max) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over, not re-counted
    try {
      return await run();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
