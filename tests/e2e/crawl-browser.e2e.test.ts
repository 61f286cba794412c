import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { WebsiteSourceSchema } from '../../core/sources/source.js';
import { crawlPageSource } from '../../crawlers/routes-for.js';
import { MemoryCrawlState } from '../../crawlers/shared/crawl-state.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { startDemoSite, type DemoSite } from '../fixtures/demo-site/server.js';

describe('browser render mode: a list written by JavaScript, crawled in Debian Chromium', () => {
  let site: DemoSite;
  let evidenceDir: string;
  beforeAll(async () => {
    site = await startDemoSite();
    evidenceDir = await mkdtemp(path.join(tmpdir(), 'qs-evidence-'));
  });
  afterAll(async () => {
    await site?.close();
    await rm(evidenceDir, { recursive: true, force: true });
  });

  const source = (render: 'static' | 'browser' | 'browser-lists') =>
    WebsiteSourceSchema.parse({
      id: 'js-column',
      kind: 'website',
      name: '图片新闻',
      owner: { section: '县政府办公室', person: '李明' },
      entryPoints: [`${site.url}/xwzx/jsdt/index.html`],
      allowedHosts: [new URL(site.url).host],
      render,
      crawl: { delayMs: 0, perHostConcurrency: 3, maxPages: 12 },
    });

  it('static fetching sees an empty list; rendering in Chromium finds the articles', async () => {
    const staticRun = await crawlPageSource(source('static'), { state: new MemoryCrawlState(), maxRequests: 50, timeoutSeconds: 10, onItem: async () => undefined });
    expect(staticRun.itemsEmitted).toBe(0);

    const items: CollectedItem[] = [];
    const report = await crawlPageSource(source('browser'), {
      state: new MemoryCrawlState(),
      evidence: new DiskEvidenceStore(evidenceDir),
      maxRequests: 50,
      timeoutSeconds: 20,
      screenshot: true,
      onItem: async (i) => void items.push(i),
    });
    expect(report.outcome).toBe('ok');
    const articles = items.filter((i) => i.kind === 'article');
    expect(articles.length).toBeGreaterThanOrEqual(5);
    expect(articles.every((a) => a.title && a.text.length > 20 && a.publishedAt)).toBe(true);
    // Screenshots on demand are evidence next to the raw snapshot.
    const shot = articles[0]!.screenshot!;
    const png = await readFile(path.join(evidenceDir, shot.path));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('browser-lists renders the JavaScript list in Chromium and reads the plain-HTML detail pages over HTTP', async () => {
    const items: CollectedItem[] = [];
    const report = await crawlPageSource(source('browser-lists'), {
      state: new MemoryCrawlState(),
      evidence: new DiskEvidenceStore(evidenceDir),
      maxRequests: 50,
      timeoutSeconds: 20,
      screenshot: true,
      onItem: async (i) => void items.push(i),
    });
    expect(report.outcome).toBe('ok');
    const articles = items.filter((i) => i.kind === 'article');
    expect(articles.length).toBeGreaterThanOrEqual(5);
    expect(articles.every((a) => a.title && a.text.length > 20 && a.publishedAt && a.snapshot)).toBe(true);
    // Only rendered pages have screenshots: the detail pages came over HTTP.
    expect(articles.some((a) => a.screenshot)).toBe(false);
  });
});
