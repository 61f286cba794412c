import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { Client } from '@elastic/elasticsearch';
import { isolation } from '../support/isolation.js';
import { startDemoApi, type AppProcess } from '../support/app-process.js';
import { launchChromium, logIn, openPage, saveScreenshot } from '../support/browser.js';
import { indexNames, monthlyPostsIndex } from '../../pipeline/elasticsearch/indices.js';

describe('the report page in Chromium', () => {
  const iso = isolation();
  let app: AppProcess;
  let browser: Browser;
  let url: string;
  const es = new Client({ node: iso.esUrl });

  beforeAll(async () => {
    ({ app, base: url } = await startDemoApi(iso));
    // Three posts collected an hour ago, one with a hostile title: this quarter's report counts them.
    const at = new Date(Date.now() - 3_600_000).toISOString();
    const index = monthlyPostsIndex(indexNames(iso.indexPrefix).posts, at);
    const titles = ['县医院收费问题', '<img src=x onerror=alert(1)>道路积水', '学校食堂反映'];
    for (const [i, title] of titles.entries()) {
      await es.index({ index, id: `e2e-${i}`, document: { id: `e2e-${i}`, sourceId: 'demo-website', kind: 'article', url: `http://127.0.0.1/e2e-${i}`, title, text: '网民反映的情况', collectedAt: at, publishedAt: at, at, sentiment: { label: i === 0 ? 'negative' : 'neutral' } } });
    }
    await es.indices.refresh({ index });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await iso.cleanup();
    await es.close();
  });

  it('a section chief generates this quarter’s report, follows a figure to the search that re-runs it, writes the conclusion, and reads it again after a reload', async () => {
    const { page, errors } = await openPage(browser, { width: 1366, height: 900 });
    await logIn(page, url, 'chief');
    await page.getByRole('navigation', { name: '主菜单' }).getByText('研判报告').click();
    await page.getByRole('heading', { name: '分析研判报告' }).waitFor();

    await page.getByRole('radio', { name: '季度' }).check({ force: true });
    await page.getByRole('combobox', { name: '报告时段', exact: true }).click();
    await page.getByRole('option', { name: /（本季度）/ }).click();
    await page.getByRole('button', { name: '生成报告' }).click();
    const view = page.getByRole('article', { name: '报告预览' });
    await view.getByRole('heading', { name: /网络舆情分析研判报告/ }).waitFor();
    expect(page.url()).toMatch(/\/reports\?period=\d{4}-Q[1-4]&scope=unit/);
    const total = view.locator('.report-figure', { hasText: '采集信息总量' });
    expect(await total.locator('.figure-value').textContent()).toBe('3条');

    // The volume chart is the server's SVG, loaded as an image.
    const chart = view.getByRole('img', { name: '信息量走势' });
    await chart.waitFor();
    await expect.poll(() => chart.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await saveScreenshot(page, 'report-page');

    // 复核: the same three posts in the search, counted by collection time.
    const reportUrl = page.url();
    await total.getByRole('link', { name: '复核：采集信息总量' }).click();
    await page.waitForURL((u) => u.pathname === '/search' && u.searchParams.get('timeField') === 'collectedAt');
    await page.getByText('共 3 条').waitFor();
    expect(await page.getByText('<img src=x onerror=alert(1)>道路积水').count()).toBeGreaterThan(0);

    await page.goto(reportUrl);
    await view.getByRole('heading', { name: /网络舆情分析研判报告/ }).waitFor();
    const conclusion = `本季度网上舆情总体平稳，县医院收费问题需持续关注。${Date.now()}`;
    await page.getByLabel('研判结论', { exact: true }).fill(conclusion);
    await page.getByLabel('下一步工作打算', { exact: true }).fill('加强县长信箱留言办理督办。');
    await page.getByRole('button', { name: '保存研判结论' }).click();
    await page.locator('.el-message', { hasText: '研判结论已保存' }).waitFor();

    await page.reload();
    await view.getByRole('heading', { name: /网络舆情分析研判报告/ }).waitFor();
    expect(await page.getByLabel('研判结论', { exact: true }).inputValue()).toBe(conclusion);
    expect(await page.getByLabel('下一步工作打算', { exact: true }).inputValue()).toBe('加强县长信箱留言办理督办。');

    // Nothing was kept yet: the page shows a live build. Keeping it for the meeting is a separate, deliberate act.
    await page.getByText('按当前数据生成，未存档').waitFor();
    await page.getByRole('button', { name: '存为研判会版本' }).click();
    await page.locator('.el-message', { hasText: '已存为研判会版本' }).waitFor();
    await page.reload();
    await page.getByText(/^研判会版本（/).waitFor();
    expect(await page.getByLabel('研判结论', { exact: true }).inputValue()).toBe(conclusion);
    await expect.poll(() => chart.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('a figure on alerts opens the alert list with the report’s period and level applied', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, url, 'duty');
    await page.goto(new URL('/reports', url).toString());
    await page.getByRole('button', { name: '生成报告' }).click();
    const red = page.locator('.report-figure', { hasText: '一级（红）预警' });
    await red.getByRole('link').click();
    await page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.get('level') === '1' && !!u.searchParams.get('from'));
    await page.getByText('等级：一级').waitFor();
    // A duty officer reads reports but may not write the conclusions.
    await page.goBack();
    await page.getByRole('heading', { name: '研判结论' }).waitFor();
    expect(await page.getByLabel('研判结论', { exact: true }).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
