import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { isolation } from '../support/isolation.js';
import { freePort, runQianshao, waitForOutput, type AppProcess } from '../support/app-process.js';
import { launchChromium, logIn, openPage, saveScreenshot } from '../support/browser.js';

describe('a role-aware dashboard in Chromium', () => {
  const iso = isolation();
  let app: AppProcess;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    const apiPort = await freePort();
    url = `http://127.0.0.1:${apiPort}/`;
    app = runQianshao(['api', '--demo'], { API_PORT: String(apiPort), REDIS_PREFIX: iso.redisPrefix, ES_INDEX_PREFIX: iso.indexPrefix });
    await waitForOutput(app, 'Dashboard:');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await iso.cleanup();
  });

  it('a duty officer sees no administration in the menu and is turned away from admin pages and the queue board', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, url, 'duty');
    const menu = page.getByRole('navigation', { name: '主菜单' });
    await menu.getByText('预警大屏').waitFor();
    expect(await menu.textContent()).not.toContain('系统管理');
    for (const path of ['/admin', '/admin/users', '/admin/roster', '/admin/channels']) {
      await page.goto(new URL(path, url).toString());
      await page.getByText('无权访问').first().waitFor();
      expect(page.url()).toContain('/forbidden');
    }
    await saveScreenshot(page, 'forbidden-duty');
    const queues = await page.goto(new URL('/admin/queues', url).toString());
    expect(queues?.status()).toBe(403);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('someone not signed in is sent to the log-in page, then back where they were going', async () => {
    const { page } = await openPage(browser);
    await page.goto(new URL('/alerts', url).toString());
    await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('redirect') === '/alerts');
    await page.getByLabel('用户名').fill('chief');
    await page.getByLabel('密码').fill('qianshao-demo');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL((u) => u.pathname === '/alerts');
    await page.close();
  });

  it('an admin sees the administration pages and reaches bull-board at /admin/queues', async () => {
    const { page, errors } = await openPage(browser);
    await logIn(page, url, 'admin');
    await page.getByRole('navigation', { name: '主菜单' }).getByText('系统管理').click();
    await page.getByRole('heading', { name: '系统管理' }).waitFor();
    for (const title of ['用户与角色', '值班表', '升级策略', '通知渠道', '预案模板', '敏感时期', '队列监控']) {
      expect(await page.locator('.admin-cards').textContent()).toContain(title);
    }
    expect(errors).toEqual([]);
    const queues = await page.goto(new URL('/admin/queues', url).toString());
    expect(queues?.status()).toBe(200);
    expect(await queues?.text()).toContain('__UI_CONFIG__');
    await page.close();
  });
});
