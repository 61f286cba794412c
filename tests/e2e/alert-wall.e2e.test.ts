import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { isolation } from '../support/isolation.js';
import { freePort, runQianshao, waitForOutput, type AppProcess } from '../support/app-process.js';

/** Debian's Chromium, started the way this closed network needs (no background connections). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

describe('the alert wall in Chromium', () => {
  const iso = isolation();
  let app: AppProcess;
  let browser: Browser;
  let page: Page;
  let url: string;
  let site: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const [apiPort, sitePort] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${apiPort}/`;
    site = `http://127.0.0.1:${sitePort}`;
    app = runQianshao(['all', '--demo'], {
      API_PORT: String(apiPort),
      DEMO_SITE_PORT: String(sitePort),
      REDIS_PREFIX: iso.redisPrefix,
      ES_INDEX_PREFIX: iso.indexPrefix,
    });
    await waitForOutput(app, 'Dashboard:');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      // 401s are expected: the session probe before login and the wrong-password attempt.
      if (msg.type() === 'error' && !msg.text().includes('status of 401')) pageErrors.push(msg.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await iso.cleanup();
  });

  it('asks for a login and says so in Chinese when the password is wrong', async () => {
    const res = await page.goto(url);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByLabel('用户名').fill('duty');
    await page.getByLabel('密码').fill('wrong-password');
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('用户名密码错误');
  });

  it('after login, shows the crawled alert for 暴力执法 with its level and the highlighted term', async () => {
    await page.getByLabel('密码').fill('qianshao-demo');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('heading', { name: '前哨 · 预警大屏' }).waitFor();
    const row = page.locator('tr', { hasText: '暴力执法' }).first();
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toContain('二级橙');
    await row.click();
    const mark = page.locator('.detail mark', { hasText: '暴力执法' }).first();
    await mark.waitFor();
    expect(await page.locator('.detail').textContent()).toContain('命中词「暴力执法」');
  });

  it('renders hostile crawled text as text: markup in a message never becomes an element', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">集体上访<script>window.__pwned=2</script>';
    const form = new URLSearchParams({ title: '<b>求助</b>', content: hostile, author: '<i>网友</i>' });
    await fetch(`${site}/hdjl/lyb/submit`, { method: 'POST', body: form, redirect: 'manual' });
    const row = page.locator('tr', { hasText: '<b>求助</b>' }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await page.locator('.detail .post', { hasText: 'onerror' }).first().waitFor();
    expect(await page.locator('.detail img, .detail script, .detail b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('.detail .post', { hasText: 'onerror' }).first().textContent()).toContain('<img src=x');
  });

  it('has raised no script errors and loaded nothing that is missing', () => {
    expect(pageErrors).toEqual([]);
  });
});
