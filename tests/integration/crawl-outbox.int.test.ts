import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { CrawlError } from '../../crawlers/shared/crawl-error.js';
import { takeCrawlLock, type CrawlLock } from '../../crawlers/shared/crawl-lock.js';
import { CrawlOutbox } from '../../crawlers/shared/crawl-outbox.js';
import { RedisCrawlState, type ItemMemory } from '../../crawlers/shared/crawl-state.js';
import { ingestJobIdOf, postIdOf } from '../../pipeline/ingest/normalize.js';
import type { IngestJob } from '../../pipeline/queues.js';
import { isolation } from '../support/isolation.js';

const item = (n: number, at = '2026-12-07T09:00:00.000Z'): CollectedItem => ({ sourceId: 'outbox', kind: 'comment', url: `https://www.example.gov.cn/c/${n}.html`, platformId: `c${n}`, text: `第${n}条留言`, collectedAt: at, change: 'new' });
const memoryOf = (i: CollectedItem): ItemMemory => ({ hash: `hash-${i.platformId}`, url: i.url, kind: i.kind });

/** A describe block's Redis connection and ingest queue (handed over by `use`), its run locks released and its keys removed after it. */
function useQueue(iso: ReturnType<typeof isolation>, locks: CrawlLock[], use: (redis: Redis, queue: Queue<IngestJob>) => void): void {
  let redis: Redis | undefined;
  let queue: Queue<IngestJob> | undefined;
  beforeAll(() => {
    redis = new Redis(iso.redisUrl);
    queue = new Queue<IngestJob>('ingest', { connection: redis, prefix: iso.redisPrefix });
    use(redis, queue);
  });
  afterAll(async () => {
    for (const lock of locks) await lock.release();
    await queue?.close();
    await redis?.quit();
    await iso.cleanup();
  });
}

describe('the crawl outbox: items queued in batch jobs, the crawl state written behind them', () => {
  const iso = isolation();
  let redis: Redis;
  let queue: Queue<IngestJob>;
  let n = 0;
  const locks: CrawlLock[] = [];
  /** A fresh source per test: its own crawl state keys, written under its run lock. */
  const stateOf = async () => {
    const id = `outbox-${++n}`;
    const lock = (await takeCrawlLock(redis, `${iso.redisPrefix}:crawl:${id}:lock`, 60_000))!;
    locks.push(lock);
    return { store: new RedisCrawlState(redis, iso.redisPrefix, id, lock), lock };
  };
  const queued = async () => (await queue.getJobs(['waiting'], 0, 10_000)).flatMap((j) => ('items' in j.data ? j.data.items : [j.data.item]));

  useQueue(iso, locks, (r, q) => {
    redis = r;
    queue = q;
  });

  it('a full group leaves at once as one batch job; its state is written with it, and the last group on close', async () => {
    await queue.obliterate({ force: true });
    const { store, lock } = await stateOf();
    const outbox = new CrawlOutbox({ queue, state: store, lock, maxWaitMs: 60_000 });
    const items = Array.from({ length: 230 }, (_, i) => item(i));
    for (const i of items) {
      await outbox.add(i);
      await outbox.state.saveItems(new Map([[postIdOf(i), memoryOf(i)]]));
    }
    // 230 items: two full groups queued, 30 waiting (the time limit is far away).
    expect(await queue.count()).toBe(2);
    await outbox.close();
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => ('items' in j.data ? j.data.items.length : 1)).sort()).toEqual([100, 100, 30]);
    expect((await queued()).map((i) => ingestJobIdOf(i)).sort()).toEqual(items.map((i) => ingestJobIdOf(i)).sort());
    expect((await store.items(items.map((i) => postIdOf(i)))).size).toBe(230);
    expect(outbox.counts).toMatchObject({ batchJobs: 3, items: 230, stateWrites: 230 });
  });

  it('the run reads its own writes before they reach Redis, and Redis has them only after the flush', async () => {
    const { store, lock } = await stateOf();
    const outbox = new CrawlOutbox({ queue, state: store, lock, maxWaitMs: 60_000 });
    const page = { label: 'DETAIL', fetchedAt: '2026-12-07T09:00:00.000Z', bodyHash: 'b1', itemIds: ['p1'] };
    await outbox.state.savePage('https://www.example.gov.cn/a.html', page);
    await outbox.state.saveItems(new Map([['p1', { hash: 'h1', url: 'https://www.example.gov.cn/a.html', kind: 'article' }]]));
    expect((await outbox.state.pages(['https://www.example.gov.cn/a.html', 'https://www.example.gov.cn/b.html'])).get('https://www.example.gov.cn/a.html')).toEqual(page);
    expect((await outbox.state.items(['p1'])).get('p1')?.hash).toBe('h1');
    expect((await store.pages(['https://www.example.gov.cn/a.html'])).size).toBe(0);
    // Listing by label asks Redis, so what waits is written first.
    expect(await outbox.state.urlsWithLabel('DETAIL')).toEqual(['https://www.example.gov.cn/a.html']);
    expect((await store.items(['p1'])).get('p1')?.hash).toBe('h1');
    await outbox.close();
  });

  it('a deletion seen twice at different times is two items in the batch, an item handed over twice is one', async () => {
    await queue.obliterate({ force: true });
    const { store, lock } = await stateOf();
    const outbox = new CrawlOutbox({ queue, state: store, lock });
    const deleted = (at: string): CollectedItem => ({ ...item(1, at), text: '', change: 'deleted', previousHash: 'hash-c1' });
    await outbox.add(deleted('2026-12-07T09:00:00.000Z'));
    await outbox.add(deleted('2026-12-07T09:05:00.000Z'));
    await outbox.add(item(2));
    await outbox.add(item(2));
    await outbox.close();
    expect((await queued()).map((i) => `${i.platformId} ${i.change} ${i.collectedAt}`).sort()).toEqual(['c1 deleted 2026-12-07T09:00:00.000Z', 'c1 deleted 2026-12-07T09:05:00.000Z', 'c2 new 2026-12-07T09:00:00.000Z']);
  });

  it('when the queue cannot be reached, neither that group nor any later one is remembered, and the run is told with a retryable internal error', async () => {
    await queue.obliterate({ force: true });
    const { store, lock } = await stateOf();
    // The queue's own connection, which goes away half-way; the crawl state keeps working.
    const connection = new Redis(iso.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    await new Promise((r) => connection.once('ready', r));
    const lost = new Queue<IngestJob>('ingest', { connection, prefix: iso.redisPrefix });
    const outbox = new CrawlOutbox({ queue: lost, state: store, lock, maxItems: 10, maxWaitMs: 60_000 });
    const hand = async (i: CollectedItem) => {
      await outbox.add(i);
      await outbox.state.saveItems(new Map([[postIdOf(i), memoryOf(i)]]));
    };
    for (let i = 0; i < 10; i++) await hand(item(i));
    await outbox.flush();
    expect(await queue.count()).toBe(1);
    connection.disconnect();
    for (let i = 10; i < 19; i++) await hand(item(i));
    const error = await outbox.add(item(19)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CrawlError);
    expect(error).toMatchObject({ errorClass: 'internal', retryable: true });
    // Every later call fails the same way; nothing of the failed groups reaches Redis.
    await expect(outbox.state.savePage('https://www.example.gov.cn/x.html', { label: 'LIST', fetchedAt: '2026-12-07T09:00:00.000Z' })).rejects.toBeInstanceOf(CrawlError);
    await expect(outbox.close()).rejects.toBeInstanceOf(CrawlError);
    expect(await queue.count()).toBe(1);
    const remembered = [...(await store.items(Array.from({ length: 20 }, (_, i) => postIdOf(item(i))))).keys()];
    expect(remembered.sort()).toEqual(Array.from({ length: 10 }, (_, i) => postIdOf(item(i))).sort());
    await lost.close().catch(() => undefined);
  });
});

describe('the crawl state fenced by the run lock', () => {
  const iso = isolation();
  let redis: Redis;
  let queue: Queue<IngestJob>;
  const locks: CrawlLock[] = [];
  const lockKey = (id: string) => `${iso.redisPrefix}:crawl:${id}:lock`;
  /** A run of source `id`: its lock taken (with a lease that does not run out in a test) and its state store. */
  const runOf = async (id: string) => {
    const lock = await takeCrawlLock(redis, lockKey(id), 60_000);
    if (!lock) throw new Error(`the lock of ${id} is held`);
    locks.push(lock);
    return { lock, store: new RedisCrawlState(redis, iso.redisPrefix, id, lock) };
  };
  const page = (bodyHash: string) => ({ label: 'LIST', fetchedAt: '2026-12-07T09:00:00.000Z', bodyHash, validators: { etag: `"${bodyHash}"` } });
  const list = 'https://www.example.gov.cn/xwzx/index.html';

  useQueue(iso, locks, (r, q) => {
    redis = r;
    queue = q;
  });

  it('a run whose lease ran out and whose lock another run took writes nothing over that run\'s memory, and is told it was superseded', async () => {
    const stale = await runOf('fenced-store');
    // The stale run stood still past its lease; the next run takes the lock and saves its cursors.
    await redis.del(lockKey('fenced-store'));
    const newer = await runOf('fenced-store');
    await newer.store.write({ pages: new Map([[list, page('newer')]]), items: new Map([['p1', { hash: 'h-newer', url: list, kind: 'article' }]]) });
    // The stale run resumes and saves what it read before it stood still.
    const refused = await stale.store.write({ pages: new Map([[list, page('stale')]]), items: new Map([['p1', { hash: 'h-stale', url: list, kind: 'article' }], ['p2', { hash: 'h2', url: list, kind: 'comment' }]]) }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CrawlError);
    expect(refused).toMatchObject({ errorClass: 'superseded' });
    await expect(stale.store.savePage(list, page('stale'))).rejects.toMatchObject({ errorClass: 'superseded' });
    await expect(stale.store.saveItems(new Map([['p1', { hash: 'h-stale', url: list, kind: 'article' }]]))).rejects.toMatchObject({ errorClass: 'superseded' });
    // Nothing of the refused group was written, the newer run's memory stands.
    expect((await newer.store.pages([list])).get(list)?.bodyHash).toBe('newer');
    expect([...(await newer.store.items(['p1', 'p2']))].map(([id, m]) => `${id} ${m.hash}`)).toEqual(['p1 h-newer']);
    // A run whose lease merely ran out, with no run after it, writes nothing either.
    await redis.del(lockKey('fenced-store'));
    await expect(newer.store.savePage(list, page('late'))).rejects.toMatchObject({ errorClass: 'superseded' });
    expect((await newer.store.pages([list])).get(list)?.bodyHash).toBe('newer');
  });

  it('a superseded outbox still queues the items its run collected, but no deletion and no crawl state; close() ends the run as superseded', async () => {
    await queue.obliterate({ force: true });
    const stale = await runOf('fenced-outbox');
    const outbox = new CrawlOutbox({ queue, state: stale.store, lock: stale.lock, maxWaitMs: 60_000 });
    const seen = [item(1), item(2)];
    for (const i of seen) {
      await outbox.add(i);
      await outbox.state.saveItems(new Map([[postIdOf(i), memoryOf(i)]]));
    }
    await outbox.flush();
    // The run stands still; its lease runs out, the next run takes the lock and writes its own memory of item 2.
    await redis.del(lockKey('fenced-outbox'));
    const newer = await runOf('fenced-outbox');
    await newer.store.saveItems(new Map([[postIdOf(item(2)), { ...memoryOf(item(2)), hash: 'hash-newer' }]]));
    // The stale run goes on: a wording only it read, a deletion it inferred, and their memory.
    const late = item(3);
    const deletion: CollectedItem = { ...item(2), text: '', change: 'deleted', previousHash: 'hash-newer' };
    await outbox.add(late);
    await outbox.add(deletion);
    await outbox.state.saveItems(new Map([[postIdOf(late), memoryOf(late)], [postIdOf(item(2)), { ...memoryOf(item(2)), deletedAt: '2026-12-07T09:10:00.000Z' }]]));
    const ended = await outbox.close().catch((err: unknown) => err);
    expect(ended).toMatchObject({ errorClass: 'superseded' });
    // Every later state call fails the same way.
    await expect(outbox.state.savePage(list, page('stale'))).rejects.toMatchObject({ errorClass: 'superseded' });
    const queued = (await queue.getJobs(['waiting'], 0, 1000)).flatMap((j) => ('items' in j.data ? j.data.items : [j.data.item]));
    expect(queued.map((i) => `${i.platformId} ${i.change}`).sort()).toEqual(['c1 new', 'c2 new', 'c3 new']);
    expect(outbox.counts).toMatchObject({ items: 3, stateWrites: 2, deletionsDropped: 1 });
    const remembered = await newer.store.items([1, 2, 3].map((n) => postIdOf(item(n))));
    expect([...remembered.values()].map((m) => `${m.hash}${m.deletedAt ? ' deleted' : ''}`).sort()).toEqual(['hash-c1', 'hash-newer']);
  });
});
