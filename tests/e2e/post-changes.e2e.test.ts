import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Queue } from 'bullmq';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { createLogger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import { RulesRegistry } from '../../core/rules/rules-registry.js';
import { DEFAULT_SIGNAL_THRESHOLDS } from '../../core/signals/early-signal.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { ingestJobIdOf, postIdOf } from '../../pipeline/ingest/normalize.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { startPipelineRole } from '../../pipeline/pipeline-role.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { startDemoApi, type AppProcess } from '../support/app-process.js';
import { createTestDesk } from '../support/alerting-harness.js';
import { launchChromium, openPage, saveScreenshot } from '../support/browser.js';
import { eventually, isolation } from '../support/isolation.js';

const at = (minutes: number) => new Date(Date.now() - (60 - minutes) * 60_000).toISOString();
const comment: CollectedItem = {
  sourceId: 'demo-website',
  kind: 'comment',
  url: 'http://127.0.0.1:8601/xwzx/gzdt/202611/t20261120_9.html#c9',
  platformId: 'c9',
  title: '关于城区执法的通报',
  text: '城管暴力执法<script>window.__pwned=1</script>，大家都看见了',
  collectedAt: at(0),
  change: 'new',
};
const article: CollectedItem = {
  sourceId: 'demo-website',
  kind: 'article',
  url: 'http://127.0.0.1:8601/xwzx/gzdt/202611/t20261120_9.html',
  title: '关于城区执法的通报',
  text: '<img src=x onerror="window.__pwned=2">城管执法过程中存在暴力执法问题，正在调查。',
  collectedAt: at(0),
  change: 'new',
};

describe('deleted and edited posts in the dashboard (Chromium)', () => {
  const iso = isolation();
  const names = indexNames(iso.indexPrefix);
  const redis = createRedis(iso.redisUrl);
  const es = createEsClient({ url: iso.esUrl, indexPrefix: iso.indexPrefix });
  const log = createLogger('silent');
  let queues: Queues;
  let role: { close(): Promise<void> };
  let rules: RulesRegistry;
  let alerts: Awaited<ReturnType<typeof createTestDesk>>['alerts'];
  let app: AppProcess;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let url: string;

  async function ingest(items: CollectedItem[]): Promise<void> {
    await queues.ingest.addBulk(items.map((item) => ({ name: 'item', data: { item }, opts: { jobId: ingestJobIdOf(item) } })));
    const busy = async (q: Queue) => Object.values(await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);
    await eventually(async () => ((await busy(queues.ingest)) + (await busy(queues.alert)) === 0 ? true : undefined), 60_000, 'queues drained');
  }

  beforeAll(async () => {
    await ensureIndices(es, names);
    queues = createQueues(redis, iso.redisPrefix);
    const bulk = new BulkIndexer(es, { flushMs: 10 });
    const posts = new EsPostStore(es, names.posts, bulk);
    rules = RulesRegistry.load(path.join(configDir, 'rules'), { log });
    const desk = await createTestDesk({ es, redis, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix });
    alerts = desk.alerts;
    const run = wireIngest({ redis, prefix: iso.redisPrefix, segment: createSegmenter(rules.current().ruleSet.words), classify: createClassifier(() => rules.current()), posts, events: new EsEventStore(es, names.events, bulk), signals: new EsSignalStore(es, names.signals, bulk), queues, eventWindowHours: 72, signalThresholds: DEFAULT_SIGNAL_THRESHOLDS, now: () => new Date() });
    role = startPipelineRole({ ingest: run, posts, desk: desk.desk, events: new EsEventStore(es, names.events, bulk), queues, deadLetters: new RedisDeadLetters(redis, iso.redisPrefix), connection: redis, prefix: iso.redisPrefix, ingestConcurrency: 8, log });

    // First crawl, then the comment disappears and the article is reworded (the earlier text is hostile markup too).
    await ingest([comment, article]);
    await ingest([
      { ...comment, text: '', collectedAt: at(30), change: 'deleted' },
      { ...article, text: '城管执法过程规范，相关情况已核实。', collectedAt: at(30), change: 'edited' },
    ]);

    ({ app, base: url } = await startDemoApi(iso));
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
    await page.goto(url);
    await page.waitForURL(/\/login/);
    await page.getByLabel('用户名').fill('duty');
    await page.getByLabel('密码').fill('qianshao-demo');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await role?.close();
    rules?.close();
    await queues?.close();
    await es.close();
    redis.disconnect();
    await iso.cleanup();
  });

  it('the alert detail shows the deleted badge, the 原帖已删除 history line and the kept text, all as text', async () => {
    const alert = (await alerts.touchingPost(postIdOf(comment))).find((a) => a.postIds.includes(postIdOf(comment)))!;
    await page.goto(new URL(`/alerts/${alert.id}`, url).toString());
    const post = page.locator(`.post[data-post-id="${postIdOf(comment)}"]`);
    await post.locator('.deleted-badge').waitFor({ timeout: 20_000 });
    expect(await post.locator('.deleted-badge').textContent()).toContain('已删除');
    expect(await post.textContent()).toContain('<script>window.__pwned=1</script>');
    await page.getByRole('tab', { name: '处置记录' }).click();
    await expect.poll(() => page.locator('.detail-tabs').textContent()).toContain('原帖已删除');
    expect(await page.locator('.post script, .post img').count()).toBe(0);
    await saveScreenshot(page, 'alert-detail-deleted');
  });

  it('the edited article shows 原文 beside 修改后, the earlier markup as text', async () => {
    const alert = (await alerts.touchingPost(postIdOf(article))).find((a) => a.postIds.includes(postIdOf(article)))!;
    await page.goto(new URL(`/alerts/${alert.id}`, url).toString());
    const post = page.locator(`.post[data-post-id="${postIdOf(article)}"]`);
    await post.locator('.edited-badge').waitFor({ timeout: 20_000 });
    await post.getByRole('button', { name: /查看修改记录/ }).click();
    const versions = post.locator('.versions .version');
    expect(await versions.count()).toBe(2);
    expect(await versions.nth(0).textContent()).toContain('修改后（当前）');
    expect(await versions.nth(1).textContent()).toContain('原文（第 1 版）');
    expect(await versions.nth(1).locator('.version-text').textContent()).toBe(article.text);
    expect(await page.locator('.versions img, .versions script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await post.locator('.versions').scrollIntoViewIfNeeded();
    await saveScreenshot(page, 'alert-detail-edited');
  });

  it('search filters 已删除 and 已修改, and opens an edited post’s versions from the list', async () => {
    await es.indices.refresh({ index: names.posts });
    await page.goto(new URL('/search?changes=deleted&sort=time', url).toString());
    await page.locator('.search-hit').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.search-hit').count()).toBe(1);
    expect(await page.locator('.search-hit .deleted-badge').count()).toBe(1);
    await page.goto(new URL('/search?changes=edited&sort=time', url).toString());
    const hit = page.locator(`.search-hit[data-post-id="${postIdOf(article)}"]`);
    await hit.waitFor({ timeout: 20_000 });
    await hit.getByRole('button', { name: '查看修改记录' }).click();
    await hit.getByRole('button', { name: /查看修改记录（原文 1 版）/ }).click();
    expect(await hit.locator('.version-text').nth(1).textContent()).toBe(article.text);
    await saveScreenshot(page, 'search-edited');
  });

  it('links a post to its original only by an http(s) URL (a post indexed before URLs were checked may hold javascript:)', async () => {
    const [doc] = (await es.search({ index: names.posts, query: { term: { id: postIdOf(article) } } })).hits.hits;
    await es.update({ index: doc!._index, id: doc!._id!, doc: { url: 'javascript:window.__pwned=3' }, refresh: true });
    const alert = (await alerts.touchingPost(postIdOf(article))).find((a) => a.postIds.includes(postIdOf(article)))!;
    await page.goto(new URL(`/alerts/${alert.id}`, url).toString());
    const post = page.locator(`.post[data-post-id="${postIdOf(article)}"]`);
    await post.locator('.post-text').waitFor({ timeout: 20_000 });
    expect(await post.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await post.textContent()).toContain('原文地址：javascript:window.__pwned=3');
    await page.goto(new URL('/search?changes=edited&sort=time', url).toString());
    const hit = page.locator(`.search-hit[data-post-id="${postIdOf(article)}"]`);
    await hit.waitFor({ timeout: 20_000 });
    expect(await hit.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await hit.getByRole('link', { name: '原文' }).count()).toBe(0);
    // An http(s) URL is still a link.
    await page.goto(new URL('/search?changes=deleted&sort=time', url).toString());
    const kept = page.locator(`.search-hit[data-post-id="${postIdOf(comment)}"]`);
    await kept.waitFor({ timeout: 20_000 });
    expect(await kept.getByRole('link', { name: '原文' }).getAttribute('href')).toBe(comment.url);
  });

  it('has raised no script errors and no CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
