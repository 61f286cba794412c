import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { Client } from '@elastic/elasticsearch';
import { RedisProbeLog } from '../../crawlers/probe/probe-log.js';
import { RedisSourceHealthStore, emptyHealth } from '../../crawlers/shared/source-health.js';
import { indexNames, monthlyPostsIndex } from '../../pipeline/elasticsearch/indices.js';
import { createRedis } from '../../pipeline/queues.js';
import { freePort, startDemoApi, type AppProcess } from '../support/app-process.js';
import { launchChromium, logIn, openPage, saveScreenshot } from '../support/browser.js';
import { isolation } from '../support/isolation.js';

const D = 86_400_000;

describe('网站自查 on the positions page in Chromium', () => {
  const iso = isolation();
  const es = new Client({ node: iso.esUrl });
  const redis = createRedis(iso.redisUrl);
  let app: AppProcess;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    const sitePort = await freePort();
    const site = `http://127.0.0.1:${sitePort}`;
    ({ app, base: url } = await startDemoApi(iso, { DEMO_SITE_PORT: String(sitePort) }));
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * D).toISOString();
    // What the crawler and the pipeline would have left: posts of the demo website's columns and board…
    const docs = [
      { id: 'e2e-g1', sourceId: 'demo-website', kind: 'article', url: `${site}/xwzx/gzdt/202612/t1.html`, title: '工作动态一则', at: ago(2), hits: [{ term: '中华人民共合国', category: '错敏词', suggestion: '中华人民共和国' }] },
      { id: 'e2e-t1', sourceId: 'demo-website', kind: 'article', url: `${site}/xwzx/tzgg/202611/t2.html`, title: '通知一则', at: ago(30) },
      { id: 'e2e-r1', sourceId: 'demo-website', kind: 'article', url: `${site}/xwzx/rsxx/202611/t3.html`, title: '人事信息一则', at: ago(22) },
      { id: 'e2e-m1', sourceId: 'demo-message-board', kind: 'message', url: `${site}/hdjl/lyb/detail_LY1.html`, title: '<img src=x onerror="window.__pwned=1">老旧小区加装电梯', at: ago(110) },
    ];
    for (const d of docs) await es.index({ index: monthlyPostsIndex(indexNames(iso.indexPrefix).posts, d.at), id: d.id, document: { ...d, text: '正文', publishedAt: d.at, collectedAt: d.at } });
    await es.indices.refresh({ index: `${indexNames(iso.indexPrefix).posts}-*` });
    // …their collection health, and a week of hourly probes with 4 failures (2.4 %).
    const health = new RedisSourceHealthStore(redis, iso.redisPrefix);
    for (const id of ['demo-website', 'demo-message-board']) await health.save({ ...emptyHealth(id), lastAttemptAt: ago(0), lastSuccessAt: ago(0) });
    const probes = new RedisProbeLog(redis, iso.redisPrefix, 8);
    for (let h = 0; h < 7 * 24; h++) await probes.record('demo-website', { at: new Date(now - (h + 0.5) * 3_600_000).toISOString(), ok: h % 50 !== 7, status: h % 50 !== 7 ? 200 : 503, durationMs: 80 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await iso.cleanup();
    redis.disconnect();
    await es.close();
  });

  it('a section chief sees each item with its figure and threshold, checks what was counted, and turns the failing item into a ledger item', async () => {
    const { page, errors } = await openPage(browser, { width: 1366, height: 900 });
    await logIn(page, url, 'chief');
    await page.getByRole('navigation', { name: '主菜单' }).getByText('阵地健康').click();
    await page.getByRole('tab', { name: '网站自查' }).click();
    await page.waitForURL((u) => u.searchParams.get('tab') === 'inspection');

    const card = page.locator('[data-source-id="demo-website"]');
    await card.getByText('总体：不合格').waitFor();
    const row = (label: string) => card.locator('tr.el-table__row', { hasText: label });
    expect(await row('站点无法访问').locator('.finding-status').textContent()).toBe('通过');
    expect(await row('站点无法访问').textContent()).toContain('2.4%（4/168 次失败）');
    expect(await row('首页不更新').locator('.finding-status').textContent()).toBe('通过');
    expect(await row('栏目不更新（空白栏目）').locator('.finding-status').textContent()).toBe('预警');
    expect(await row('互动回应差').locator('.finding-status').textContent()).toBe('不合格');
    expect(await row('互动回应差').textContent()).toContain('最久 110 天未回应');
    expect(await row('严重表述错误').locator('.finding-status').textContent()).toBe('预警');
    // New-media accounts never collected are 数据不足, not a pass.
    expect(await page.locator('[data-source-id="demo-weibo"] .verdict').textContent()).toBe('总体：数据不足');

    // What was counted: the unanswered 留言, its crawled title shown as text.
    await row('互动回应差').locator('.el-table__expand-icon').click();
    const trace = card.locator('.trace-table', { hasText: 'detail_LY1' });
    await trace.waitFor();
    expect(await trace.textContent()).toContain('<img src=x onerror="window.__pwned=1">老旧小区加装电梯');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await row('栏目不更新（动态要闻、通知公告、政策文件）').locator('.el-table__expand-icon').click();
    await card.locator('.trace-table', { hasText: '人事信息' }).getByText('超期未更新').waitFor();
    await saveScreenshot(page, 'inspection-panel');

    // Passing items offer nothing; the failing one becomes a 整改台账 item.
    expect(await row('站点无法访问').getByRole('button', { name: '转整改' }).count()).toBe(0);
    await row('互动回应差').getByRole('button', { name: '转整改' }).click();
    const dialog = page.getByRole('dialog', { name: '转整改（自查问题）' });
    expect(await dialog.getByLabel('问题描述').inputValue()).toContain('【不合格】青山县人民政府门户网站：互动回应差');
    await dialog.getByLabel('整改措施').fill('三日内答复超期留言，建立留言办理督办台账。');
    await dialog.getByLabel('责任人').fill('duty');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '（duty）' }).click();
    await dialog.getByRole('button', { name: '确定转整改' }).click();
    await dialog.getByRole('link', { name: '查看整改事项' }).click();
    await page.waitForURL((u) => u.pathname === '/ledger' && u.searchParams.has('id'));
    await page.getByText('三日内答复超期留言', { exact: false }).first().waitFor();

    const items = await page.evaluate(async () => (await (await fetch('/api/ledger?source=self_inspection')).json()) as { items: { source: string; sourceRef?: string; responsible: string; section?: string }[] });
    expect(items.items).toEqual([expect.objectContaining({ source: 'self_inspection', sourceRef: '网站自查·青山县人民政府门户网站·互动回应差', responsible: 'duty', section: '县政府办公室' })]);
    expect(errors).toEqual([]);
  });
});
