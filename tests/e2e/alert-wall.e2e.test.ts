import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useDashboardApp } from '../support/dashboard-app.js';
import { openPage, saveScreenshot } from '../support/browser.js';

describe('the alert wall and alert detail in Chromium', () => {
  const env = useDashboardApp('all');
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ({ page, errors } = await openPage(env.browser));
  });

  it('asks for a login under a strict CSP and says so in Chinese when the password is wrong', async () => {
    const res = await page.goto(env.url);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.waitForURL(/\/login/);
    await page.getByLabel('用户名').fill('duty');
    await page.getByLabel('密码').fill('wrong-password');
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => page.locator('.login-card .form-error').textContent(), { timeout: 20_000 }).toContain('用户名或密码错误');
  });

  it('after login shows the wall with counters and the crawled alert for 暴力执法 with its level', async () => {
    await page.getByLabel('密码').fill('qianshao-demo');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('heading', { name: '预警大屏' }).waitFor();
    const row = page.locator('tr.wall-row', { hasText: '暴力执法' }).first();
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toContain('二级橙');
    expect(await row.textContent()).toContain('待签收');
    await expect.poll(async () => Number(await page.locator('.counter[data-level="2"] strong').textContent())).toBeGreaterThan(0);
    await saveScreenshot(page, 'wall-desk');
  });

  it('shows a post planted on the demo site as a new alert without a reload, flashing', async () => {
    const marker = `e2e${Date.now().toString(36)}`;
    const reloads: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && reloads.push(f.url()));
    const form = new URLSearchParams({ title: `${marker}食堂`, content: `学校食堂疑似食物中毒，多名学生送医。${marker}`, author: '家长' });
    await fetch(`${env.site}/hdjl/lyb/submit`, { method: 'POST', body: form, redirect: 'manual' });
    const row = page.locator('tr.wall-row', { hasText: marker }).first();
    await row.waitFor({ timeout: 60_000 });
    expect(await row.getAttribute('class')).toContain('flash');
    expect(reloads).toEqual([]);
  });

  it('opens the alert detail with the matched term highlighted as a <mark> and explained', async () => {
    await page.locator('tr.wall-row', { hasText: '暴力执法' }).first().click();
    await page.waitForURL(/\/alerts\//);
    const mark = page.locator('.post-text mark', { hasText: '暴力执法' }).first();
    await mark.waitFor();
    expect(await page.locator('.explain').first().textContent()).toContain('命中词「暴力执法」');
    await saveScreenshot(page, 'alert-detail');
  });

  it('renders hostile crawled text as text: markup in a message never becomes an element or runs', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">集体上访<script>window.__pwned=2</script>';
    const form = new URLSearchParams({ title: '<b>求助</b>', content: hostile, author: '<i>网友</i>' });
    await fetch(`${env.site}/hdjl/lyb/submit`, { method: 'POST', body: form, redirect: 'manual' });
    await page.goto(env.url);
    const row = page.locator('tr.wall-row', { hasText: '<b>求助</b>' }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/alerts\//);
    const post = page.locator('.post', { hasText: 'onerror' }).first();
    await post.waitFor({ timeout: 60_000 });
    expect(await page.locator('.post :is(img, script, b, i), .detail-head :is(img, script, b, i)').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await post.textContent()).toContain('<img src=x onerror=');
    expect(await post.locator('mark', { hasText: '集体上访' }).count()).toBe(1);
  });

  it('has a wall-display mode with large type and no controls', async () => {
    await page.goto(new URL('/wall/display', env.url).toString());
    await page.locator('.wall-card').first().waitFor();
    expect(await page.locator('.wall-display button, .wall-display select, .wall-display input').count()).toBe(0);
    await saveScreenshot(page, 'wall-display');
    await page.setViewportSize({ width: 3840, height: 2160 });
    const size = await page.locator('.wall-card h2').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(size).toBeGreaterThanOrEqual(48);
    await saveScreenshot(page, 'wall-display-4k');
    await page.setViewportSize({ width: 1366, height: 768 });
  });

  it('opened cold, sends the session check before its code and loads that code styled in a handful of requests', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1366, height: 768 } });
    try {
      await context.addCookies(await page.context().cookies());
      const cold = await context.newPage();
      await cold.goto(new URL('/wall', env.url).toString());
      await cold.locator('tr.wall-row').first().waitFor({ timeout: 60_000 });
      const requests = await cold.evaluate(() =>
        (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => ({ path: new URL(r.name).pathname, start: r.startTime })),
      );
      const me = requests.find((r) => r.path === '/api/auth/me');
      const shell = requests.find((r) => /\/assets\/wall-shell-.*\.js$/.test(r.path));
      expect(me).toBeDefined();
      expect(shell).toBeDefined();
      // Asked for before the wall's code, it cannot queue behind it on the six connections per host.
      expect(me!.start).toBeLessThanOrEqual(shell!.start);
      expect(requests.filter((r) => r.path.startsWith('/assets/')).length).toBeLessThanOrEqual(6);
      // The shell carries the Element Plus styles of the wall's controls, not only their code.
      const select = cold.locator('.el-select__wrapper').first();
      expect(await select.evaluate((el) => getComputedStyle(el).display)).toBe('flex');
    } finally {
      await context.close();
    }
  });

  it('has raised no script errors and no CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
