import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import type { IngestJob } from '../../pipeline/queues.js';
import { WebsiteSourceSchema, type WebsiteSource } from '../../core/sources/source.js';
import { crawlPageSource } from '../../crawlers/routes-for.js';
import { takeCrawlLock } from '../../crawlers/shared/crawl-lock.js';
import { CrawlOutbox } from '../../crawlers/shared/crawl-outbox.js';
import { RedisCrawlState } from '../../crawlers/shared/crawl-state.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { startDemoSite, type DemoSite } from '../fixtures/demo-site/server.js';
import { isolation } from '../support/isolation.js';

describe('incremental crawling of the demo website, memory in Redis', () => {
  const iso = isolation();
  let site: DemoSite;
  let redis: Redis;
  let ingest: Queue<IngestJob>;
  let evidenceDir: string;
  let source: WebsiteSource;

  // As the crawler role runs it: under the source's run lock, items handed to the ingest queue in batch jobs, the memory written behind them.
  const crawl = async (overrides: Partial<WebsiteSource['crawl']> = {}) => {
    const items: CollectedItem[] = [];
    const s = { ...source, crawl: { ...source.crawl, ...overrides } };
    const lock = (await takeCrawlLock(redis, `${iso.redisPrefix}:crawl:${s.id}:lock`, 60_000))!;
    const outbox = new CrawlOutbox({ queue: ingest, state: new RedisCrawlState(redis, iso.redisPrefix, s.id, lock), lock });
    const report = await crawlPageSource(s, {
      state: outbox.state,
      evidence: new DiskEvidenceStore(evidenceDir),
      maxRequests: 500,
      timeoutSeconds: 10,
      onItem: async (item) => {
        items.push(item);
        await outbox.add(item);
      },
    });
    await outbox.close();
    await lock.release();
    return { report, items };
  };
  const queuedItems = async () => (await ingest.getJobs(['waiting'], 0, 10_000)).flatMap((j) => ('items' in j.data ? j.data.items : [j.data.item]));

  beforeAll(async () => {
    site = await startDemoSite();
    redis = new Redis(iso.redisUrl);
    // No worker: the queued jobs stay waiting, to be read back.
    ingest = new Queue<IngestJob>('ingest', { connection: redis, prefix: iso.redisPrefix });
    evidenceDir = await mkdtemp(path.join(tmpdir(), 'qs-evidence-'));
    source = WebsiteSourceSchema.parse({
        id: 'demo-website',
        kind: 'website',
        name: '青山县人民政府门户网站',
        owner: { section: '县政府办公室', person: '李明' },
        entryPoints: [`${site.url}/xwzx/gzdt/index.html`, `${site.url}/xwzx/tzgg/index.html`],
        crawl: { delayMs: 0, perHostConcurrency: 4 },
      allowedHosts: [new URL(site.url).host],
    });
  });

  afterAll(async () => {
    await site?.close();
    await ingest?.close();
    await redis?.quit();
    await rm(evidenceDir, { recursive: true, force: true });
    await iso.cleanup();
  });

  it('the first run collects every article and comment as new, with attachment text and a raw snapshot', async () => {
    const { report, items } = await crawl();
    expect(report.outcome).toBe('ok');
    expect(report.failures).toEqual([]);
    expect(items.length).toBeGreaterThan(15);
    expect(items.every((i) => i.change === 'new' && i.contentHash)).toBe(true);
    const withFile = items.find((i) => i.attachments?.some((a) => a.text?.includes('511922198503124529')));
    expect(withFile?.attachments?.[0]?.text).toContain('13812341234');
    // Every item is on the ingest queue once, in batch jobs of at most 100.
    const queued = await queuedItems();
    expect(queued.map((i) => i.url).sort()).toEqual(items.map((i) => i.url).sort());
    const snapshot = items[0]!.snapshot!;
    const raw = gunzipSync(await readFile(path.join(evidenceDir, snapshot.path)));
    expect(raw.length).toBeGreaterThan(500);
  });

  it('an unchanged site re-crawled fetches no old detail page and emits nothing', async () => {
    const jobs = await ingest.count();
    const { report, items } = await crawl({ revisitRecentDays: 0 });
    expect(items).toEqual([]);
    expect(await ingest.count()).toBe(jobs);
    expect(report.detailFetched).toBe(0);
    expect(report.detailSkipped).toBeGreaterThan(10);
    expect(report.pagesUnchanged).toBeGreaterThan(0);
  });

  it('an edited article is emitted as edited with its previous hash; a removed comment as deleted', async () => {
    const articlePath = site.articlePaths()[0]!;
    const first = await crawl();
    expect(first.items).toEqual([]);
    site.editArticle(articlePath, ['本文已更新：联系电话 13912345678。']);
    const commentId = site.addComment(articlePath, { text: '这条评论随后被删除' });
    const second = await crawl();
    const edited = second.items.find((i) => i.kind === 'article');
    expect(edited?.change).toBe('edited');
    expect(edited?.previousHash).toMatch(/^[0-9a-f]{32}$/);
    expect(edited?.previousHash).not.toBe(edited?.contentHash);
    expect(second.items.find((i) => i.platformId === commentId)?.change).toBe('new');

    site.removeComment(articlePath, commentId);
    const third = await crawl();
    const deleted = third.items.find((i) => i.platformId === commentId);
    expect(deleted?.change).toBe('deleted');
    expect(deleted?.text).toBe('');
    // Signalled once, not on every run.
    expect((await crawl()).items.filter((i) => i.change === 'deleted')).toEqual([]);
  });

  it('an article taken off the site is recorded as deleted, with its comments', async () => {
    const articlePath = site.articlePaths()[1]!;
    site.removeArticle(articlePath);
    const { items, report } = await crawl();
    const deleted = items.filter((i) => i.change === 'deleted');
    expect(deleted.some((i) => i.kind === 'article' && i.url.endsWith(articlePath))).toBe(true);
    expect(report.failures.some((f) => f.errorClass === 'gone')).toBe(true);
    expect(report.outcome).toBe('ok');
  });

  it('a site that blocks us fails the run with the blocked class, whatever the form of the block', async () => {
    for (const mode of ['403', '429', 'captcha'] as const) {
      site.setBlocked(mode);
      const { report } = await crawl();
      expect(report.outcome, mode).toBe('failed');
      expect(report.error?.errorClass, mode).toBe('blocked');
    }
    site.setBlocked(undefined);
    expect((await crawl()).report.outcome).toBe('ok');
  });

  it('a run whose lock another run takes mid-crawl starts no page after it finds out, queues what it collected, remembers nothing, and ends superseded', async () => {
    const fenced = { ...source, id: 'demo-website-fenced', crawl: { ...source.crawl, perHostConcurrency: 1 } };
    const lockKey = `${iso.redisPrefix}:crawl:${fenced.id}:lock`;
    const lock = (await takeCrawlLock(redis, lockKey, 60_000))!;
    // Every item is its own group, so the run finds out at the first hand-over after the lock went.
    const outbox = new CrawlOutbox({ queue: ingest, state: new RedisCrawlState(redis, iso.redisPrefix, fenced.id, lock), lock, maxItems: 1, maxWaitMs: 60_000 });
    const items: CollectedItem[] = [];
    let newer: Awaited<ReturnType<typeof takeCrawlLock>>;
    const jobs = await ingest.count();
    const run = crawlPageSource(fenced, {
      state: outbox.state,
      evidence: new DiskEvidenceStore(evidenceDir),
      maxRequests: 500,
      timeoutSeconds: 10,
      onItem: async (item) => {
        if (items.length === 0) {
          // The run's lease ran out as it stood still; the next run took the lock.
          await redis.del(lockKey);
          newer = await takeCrawlLock(redis, lockKey, 60_000);
        }
        items.push(item);
        await outbox.add(item);
      },
    });
    await expect(run).rejects.toMatchObject({ errorClass: 'superseded' });
    await expect(outbox.close()).rejects.toMatchObject({ errorClass: 'superseded' });
    // One detail page was under way (one page at a time): its article and comments, and nothing after.
    expect(items.length).toBeGreaterThan(0);
    expect(new Set(items.map((i) => i.snapshot?.path ?? 'none'))).toEqual(new Set([items[0]!.snapshot!.path]));
    expect(await ingest.count()).toBe(jobs + items.length);
    expect(await redis.hlen(`${iso.redisPrefix}:crawl:${fenced.id}:pages`)).toBe(0);
    expect(await redis.hlen(`${iso.redisPrefix}:crawl:${fenced.id}:items`)).toBe(0);
    await newer!.release();
    await lock.release();
  });
});
