import type { Queue } from 'bullmq';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { INGEST_BATCH_SIZE, ingestBatchJobs } from '../../pipeline/ingest/ingest-batch.js';
import type { IngestJob } from '../../pipeline/queues.js';
import { CrawlError } from './crawl-error.js';
import type { CrawlLock } from './crawl-lock.js';
import type { CrawlState, CrawlStateChanges, ItemMemory, PageMemory } from './crawl-state.js';

/** Items per group, the size of one ingest batch job. */
export const OUTBOX_MAX_ITEMS = INGEST_BATCH_SIZE;
/** A group waits at most this long after its first entry: items reach the pipeline while a long crawl goes on. */
export const OUTBOX_MAX_WAIT_MS = 1000;
/** State writes per group when few items come (a re-crawl of unchanged pages writes pages only). */
export const OUTBOX_MAX_WRITES = 500;

export interface CrawlOutboxOptions {
  /** Where the items go: the `ingest` queue, as batch jobs. */
  queue: Pick<Queue<IngestJob>, 'addBulk'>;
  /** The crawl state, written behind the items; its writes are fenced by `lock`. */
  state: CrawlState;
  /** The source's run lock, confirmed before each group's items are queued. */
  lock: Pick<CrawlLock, 'confirm'>;
  maxItems?: number;
  maxWaitMs?: number;
  maxWrites?: number;
}

/** What a run handed over, for its log line. */
export interface OutboxCounts {
  /** Flushes that wrote anything. */
  groups: number;
  /** Batch jobs added (a job the queue already held counts too: it was found, not added twice). */
  batchJobs: number;
  items: number;
  /** Pages and items remembered in the crawl state. */
  stateWrites: number;
  /** Deletions not queued because the run had lost its lock (see `CrawlOutbox`). */
  deletionsDropped: number;
}

interface Group {
  items: CollectedItem[];
  pages: Map<string, PageMemory>;
  memories: Map<string, ItemMemory>;
}

const emptyGroup = (): Group => ({ items: [], pages: new Map(), memories: new Map() });
const isEmpty = (g: Group) => g.items.length + g.pages.size + g.memories.size === 0;

/**
 * What one crawl run hands over, in groups: its items, queued on `ingest` as batch jobs through
 * `ingestBatchJobs` (ids derived from the items' deterministic ingest ids), and its crawl-state
 * writes, written in one round trip after the group's items are queued, never before. A group
 * leaves when it holds `maxItems` items or `maxWrites` state writes, or `maxWaitMs` after its first
 * entry, whichever comes first; `close()` sends the last one, also after a run failed half-way, so
 * what was collected is queued.
 *
 * Guarantees:
 * - state is never ahead of the queue: groups are written one after the other, each one's items
 *   before its state, and once a group fails nothing later is written (every later call fails
 *   with the same error). A crash therefore loses at most the state of the groups not yet written
 *   (normally the one being written and the one filling: a time limit never queues a group behind
 *   a write still going on), whose items the next run collects again; re-queued in other groups,
 *   they dedupe at ingest (the dedupe stage remembers the content hash indexed per post);
 * - the run reads its own writes: `state` answers from the groups not yet written before asking
 *   the store;
 * - an edit or deletion keeps its own ingest id (keyed by when it was seen), so a post deleted,
 *   restored and deleted again is three items, never merged into one;
 * - only the holder of the source's run lock writes state. Each group's items are queued after the
 *   lock is confirmed (so everything in them was decided against state no other run had written)
 *   and its state is written in one step that checks the lock. Once either finds the lock gone the
 *   run is superseded: no more state is written (every later state call, and `close()`, throws the
 *   `superseded` CrawlError) and what the run collects is still queued — wordings it read are
 *   observations the newer run may no longer find — except deletions, which it may have inferred
 *   from the newer run's memory and which the next run infers again if they are real (the stale
 *   run's marks were never written).
 */
export class CrawlOutbox {
  /** The crawl state as the run sees it: reads include the writes still waiting in a group. */
  readonly state: CrawlState;
  readonly counts: OutboxCounts = { groups: 0, batchJobs: 0, items: 0, stateWrites: 0, deletionsDropped: 0 };
  private readonly maxItems: number;
  private readonly maxWaitMs: number;
  private readonly maxWrites: number;
  private group = emptyGroup();
  /** Groups handed to a flush and not written yet, oldest first. */
  private readonly unwritten: Group[] = [];
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  /** Set once the run lock was found gone: the run's state writes are over, its items still go. */
  private superseded: CrawlError | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CrawlOutboxOptions) {
    this.maxItems = options.maxItems ?? OUTBOX_MAX_ITEMS;
    this.maxWaitMs = options.maxWaitMs ?? OUTBOX_MAX_WAIT_MS;
    this.maxWrites = options.maxWrites ?? OUTBOX_MAX_WRITES;
    const store = options.state;
    this.state = {
      pages: (urls) => this.read(urls, (g) => g.pages, (rest) => store.pages(rest)),
      items: (ids) => this.read(ids, (g) => g.memories, (rest) => store.items(rest)),
      savePage: (url, page) => this.remember({ pages: new Map([[url, page]]), items: new Map() }),
      saveItems: (items) => this.remember({ pages: new Map(), items }),
      write: (changes) => this.remember(changes),
      // The store answers for everything once what waits is written.
      urlsWithLabel: async (label) => {
        await this.flush();
        return store.urlsWithLabel(label);
      },
    };
  }

  /** Hands one item over; waits only while its full group is being queued. */
  readonly add = async (item: CollectedItem): Promise<void> => {
    this.throwIfFailed();
    if (this.superseded && item.change === 'deleted') {
      this.counts.deletionsDropped++;
      return;
    }
    this.group.items.push(item);
    this.arm();
    if (this.group.items.length >= this.maxItems) await this.flush();
  };

  /** Sends what waits now; resolves once it and every group before it are written. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (isEmpty(this.group)) return this.tail;
    const group = this.group;
    this.group = emptyGroup();
    this.unwritten.push(group);
    this.tail = this.tail.then(() =>
      this.write(group).catch((err: unknown) => {
        // Redis refusing the hand-over is the crawler's own failure, not the site's (a retryable `internal`).
        throw new CrawlError('internal', `handing crawled items to the ingest queue failed: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
      }),
    );
    this.tail.catch((error: unknown) => void (this.failure ??= { error }));
    return this.tail;
  }

  /**
   * Sends the last group; throws what any group failed with (its items and state were not written),
   * or, when the run lost its lock, the `superseded` CrawlError once its items are queued.
   */
  async close(): Promise<void> {
    await this.flush();
    if (this.superseded) throw this.superseded;
  }

  private async write(group: Group): Promise<void> {
    if (!this.superseded && group.items.length > 0 && !(await this.options.lock.confirm())) this.superseded = new CrawlError('superseded', 'the run lock was lost before a group of crawled items was queued');
    const items = this.superseded ? group.items.filter((i) => i.change !== 'deleted') : group.items;
    this.counts.deletionsDropped += group.items.length - items.length;
    if (items.length > 0) {
      const jobs = ingestBatchJobs(items);
      await this.options.queue.addBulk(jobs);
      this.counts.batchJobs += jobs.length;
      this.counts.items += items.length;
    }
    if (!this.superseded && group.pages.size + group.memories.size > 0) {
      try {
        await this.options.state.write({ pages: group.pages, items: group.memories });
        this.counts.stateWrites += group.pages.size + group.memories.size;
      } catch (err) {
        if (!(err instanceof CrawlError && err.errorClass === 'superseded')) throw err;
        // Its items are queued: the run that holds the lock now collects them again, and they dedupe at ingest.
        this.superseded = err;
      }
    }
    this.counts.groups++;
    // Only a written group stops answering reads: until then the store still holds the older memory.
    this.unwritten.splice(this.unwritten.indexOf(group), 1);
  }

  private async remember(changes: CrawlStateChanges): Promise<void> {
    this.throwIfFailed();
    if (this.superseded) throw this.superseded;
    for (const [url, page] of changes.pages) this.group.pages.set(url, page);
    for (const [id, memory] of changes.items) this.group.memories.set(id, memory);
    this.arm();
    if (this.group.pages.size + this.group.memories.size >= this.maxWrites) await this.flush();
  }

  private async read<T>(keys: readonly string[], of: (g: Group) => Map<string, T>, fetch: (rest: string[]) => Promise<Map<string, T>>): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const newestFirst = [this.group, ...[...this.unwritten].reverse()];
    const rest: string[] = [];
    for (const key of keys) {
      const holder = newestFirst.find((g) => of(g).has(key));
      if (holder) found.set(key, of(holder).get(key)!);
      else rest.push(key);
    }
    if (rest.length > 0) for (const [key, value] of await fetch(rest)) found.set(key, value);
    return found;
  }

  private arm(): void {
    if (this.timer || isEmpty(this.group)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Behind a write still going on, the group keeps filling instead of queueing up as small ones.
      if (this.unwritten.length > 0) return this.arm();
      // A failure here is kept and thrown to the run's next call or its close().
      void this.flush().catch(() => undefined);
    }, this.maxWaitMs);
    this.timer.unref();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
