import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useDashboardApp } from '../support/dashboard-app.js';
import { logIn, openPage, saveScreenshot } from '../support/browser.js';

describe('a role-aware dashboard in Chromium', () => {
  const env = useDashboardApp('api');

  it('a duty officer sees no administration in the menu and is turned away from admin pages and the queue board', async () => {
    const { page, errors } = await openPage(env.browser);
    await logIn(page, env.url, 'duty');
    const menu = page.getByRole('navigation', { name: '主菜单' });
    await menu.getByText('预警大屏').waitFor();
    expect(await menu.textContent()).not.toContain('系统管理');
    for (const path of ['/admin', '/admin/users', '/admin/roster', '/admin/channels']) {
      await page.goto(new URL(path, env.url).toString());
      await page.getByText('无权访问').first().waitFor();
      expect(page.url()).toContain('/forbidden');
    }
    await saveScreenshot(page, 'forbidden-duty');
    const queues = await page.goto(new URL('/admin/queues', env.url).toString());
    expect(queues?.status()).toBe(403);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('someone not signed in is sent to the log-in page, then back where they were going', async () => {
    const { page } = await openPage(env.browser);
    await page.goto(new URL('/alerts', env.url).toString());
    await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('redirect') === '/alerts');
    await page.getByLabel('用户名').fill('chief');
    await page.getByLabel('密码').fill('qianshao-demo');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL((u) => u.pathname === '/alerts');
    // The list as shown goes out as a workbook (the same filters, here 只看超时).
    await page.goto(new URL('/alerts?overdue=true', env.url).toString());
    await page.getByRole('heading', { name: '预警列表' }).waitFor();
    const [file, request] = await Promise.all([
      page.waitForEvent('download'),
      page.waitForRequest((r) => r.url().includes('/api/alerts/export.xlsx')),
      page.getByRole('button', { name: '导出 Excel' }).click(),
    ]);
    expect(file.suggestedFilename()).toMatch(/^预警列表-\d{4}-\d{2}-\d{2}\.xlsx$/);
    expect(new URL(request.url()).searchParams.get('overdue')).toBe('true');
    const saved = await file.path();
    expect(readFileSync(saved).subarray(0, 2).toString()).toBe('PK');
    await page.close();
  });

  it('an admin sees the administration pages and reaches bull-board at /admin/queues', async () => {
    const { page, errors } = await openPage(env.browser);
    await logIn(page, env.url, 'admin');
    await page.getByRole('navigation', { name: '主菜单' }).getByText('系统管理').click();
    await page.getByRole('heading', { name: '系统管理' }).waitFor();
    for (const title of ['用户与角色', '值班表', '升级策略', '通知渠道', '预案模板', '敏感时期', '队列监控']) {
      expect(await page.locator('.admin-cards').textContent()).toContain(title);
    }
    expect(errors).toEqual([]);
    const queues = await page.goto(new URL('/admin/queues', env.url).toString());
    expect(queues?.status()).toBe(200);
    expect(await queues?.text()).toContain('__UI_CONFIG__');
    // Read-only: bull-board's own actions would change the queues with no audit record.
    for (const action of ['pause', 'empty', 'obliterate']) {
      const refused = await page.request.put(new URL(`/admin/queues/api/queues/notify/${action}`, env.url).toString());
      expect([action, refused.status()]).toEqual([action, 405]);
    }
    await page.close();
  });
});
