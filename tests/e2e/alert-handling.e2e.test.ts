import { beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { useDashboardApp } from '../support/dashboard-app.js';
import { logIn, openPage, saveScreenshot } from '../support/browser.js';

/**
 * The whole handling of one alert through the dashboard, as a section chief does it, with the
 * keyboard: 签收 → 启动预案 → 完成步骤 → 回应 → 办结 → 转整改, then search for the post.
 */
describe('handling an alert from the wall to the ledger in Chromium', () => {
  const env = useDashboardApp('all');
  const marker = `e2e${Date.now().toString(36)}`;
  let page: Page;
  let errors: string[];
  let alertPath: string;
  let staleRetries = 0;

  const status = () => page.getByTestId('alert-status');
  const toolbar = () => page.getByRole('toolbar', { name: '处置操作' });

  /** Presses a button the way a keyboard user does: focus it, then Enter. */
  async function press(button: Locator): Promise<void> {
    await button.focus();
    await page.keyboard.press('Enter');
  }

  /** Opens an action from the toolbar by keyboard and returns its dialog. */
  async function openAction(label: string): Promise<Locator> {
    await press(toolbar().getByRole('button', { name: label, exact: true }));
    const dialog = page.getByRole('dialog', { name: label });
    await dialog.waitFor();
    return dialog;
  }

  async function confirm(dialog: Locator, label: string): Promise<void> {
    await press(dialog.getByRole('button', { name: `确定${label}` }));
  }

  /**
   * Confirms a complete dialog. The demo keeps crawling, so a new post may join the alert between
   * loading and confirming; the page then shows the fresh alert and asks to confirm again, as a
   * person would.
   */
  async function submit(dialog: Locator, label: string): Promise<void> {
    await confirm(dialog, label);
    const stale = dialog.getByRole('alert').filter({ hasText: '请核对后再次确认' });
    await dialog.waitFor({ state: 'hidden', timeout: 20_000 }).catch(async (err: unknown) => {
      if (!(await stale.isVisible())) throw err;
      staleRetries++;
      await confirm(dialog, label);
      await dialog.waitFor({ state: 'hidden', timeout: 20_000 });
    });
  }

  beforeAll(async () => {
    ({ page, errors } = await openPage(env.browser));
  });

  it('a post planted on the demo site becomes an alert on the wall, opened from the keyboard', async () => {
    await logIn(page, env.url, 'chief');
    await page.goto(new URL('/wall', env.url).toString());
    await page.getByRole('heading', { name: '预警大屏' }).waitFor();
    const form = new URLSearchParams({ title: `${marker}食堂`, content: `学校食堂疑似食物中毒，多名学生送医。${marker}`, author: '家长' });
    await fetch(`${env.site}/hdjl/lyb/submit`, { method: 'POST', body: form, redirect: 'manual' });
    const row = page.locator('tr.wall-row', { hasText: marker }).first();
    await row.waitFor({ timeout: 90_000 });
    expect(await row.textContent()).toContain('待签收');
    await press(row);
    await page.waitForURL(/\/alerts\//);
    alertPath = new URL(page.url()).pathname;
    await page.locator('.post-text mark', { hasText: '食物中毒' }).first().waitFor();
    expect(await status().textContent()).toContain('待签收');
  });

  it('签收 with a note turns the status to 已签收', async () => {
    const dialog = await openAction('签收');
    await dialog.getByRole('textbox', { name: '备注' }).fill('已电话联系学校核实');
    await submit(dialog, '签收');
    await expect.poll(() => status().textContent(), { timeout: 20_000 }).toContain('已签收');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('启动预案 asks for a template and shows its checklist, nothing done yet', async () => {
    const dialog = await openAction('启动预案');
    await confirm(dialog, '启动预案');
    expect(await dialog.getByRole('alert').textContent()).toContain('请填写：预案模板');
    const select = dialog.getByRole('combobox', { name: '预案模板' });
    await select.focus();
    await page.keyboard.type('重大');
    await page.getByRole('option', { name: '重大舆情应对预案' }).waitFor();
    await page.keyboard.press('Enter');
    await submit(dialog, '启动预案');
    const steps = page.locator('.plan-steps > li');
    await expect.poll(() => steps.count(), { timeout: 20_000 }).toBe(5);
    expect(await page.locator('.plan-checklist').textContent()).toContain('重大舆情应对预案');
    expect(await steps.locator('.step-check').allTextContents()).toEqual(['☐', '☐', '☐', '☐', '☐']);
  });

  /** Completes one plan step from its checklist row, by keyboard. */
  async function completeStep(title: string, note: string, evidence?: string): Promise<Locator> {
    const step = page.locator('.plan-steps > li', { hasText: title });
    await press(step.getByRole('button', { name: '完成此步' }));
    await step.getByRole('textbox', { name: '完成情况' }).fill(note);
    if (evidence) await step.getByRole('textbox', { name: '证据' }).fill(evidence);
    await press(step.getByRole('button', { name: '确认完成' }));
    await expect.poll(() => step.locator('.step-check').textContent(), { timeout: 20_000 }).toBe('☑');
    return step;
  }

  it('完成此步 asks for a note and the evidence the step requires, then ticks the step', async () => {
    const step = page.locator('.plan-steps > li', { hasText: '核实情况' });
    await press(step.getByRole('button', { name: '完成此步' }));
    await press(step.getByRole('button', { name: '确认完成' }));
    expect(await step.getByRole('alert').textContent()).toContain('请填写完成情况');
    await step.getByRole('textbox', { name: '完成情况' }).fill('学校确认 3 名学生就医，已无大碍');
    await press(step.getByRole('button', { name: '确认完成' }));
    expect(await step.getByRole('alert').textContent()).toContain('此步骤需要提供证据');
    await step.getByRole('textbox', { name: '证据' }).fill('https://example.gov.cn/hexin/2026-001');
    await press(step.getByRole('button', { name: '确认完成' }));
    await expect.poll(() => step.locator('.step-check').textContent(), { timeout: 20_000 }).toBe('☑');
    expect(await step.textContent()).toContain('chief 于');
    expect(await step.textContent()).toContain('学校确认 3 名学生就医，已无大碍');
    expect(await step.getByRole('link', { name: 'https://example.gov.cn/hexin/2026-001' }).count()).toBe(1);
    expect(await page.locator('.plan-steps > li .step-check').allTextContents()).toEqual(['☑', '☐', '☐', '☐', '☐']);
  });

  it('回应 refuses an empty response, then records it: 已回应', async () => {
    const dialog = await openAction('回应');
    await confirm(dialog, '回应');
    expect(await dialog.getByRole('alert').textContent()).toContain('请填写：回应内容');
    await dialog.getByRole('textbox', { name: '回应内容' }).fill('在县政府网站发布情况通报');
    await submit(dialog, '回应');
    await expect.poll(() => status().textContent(), { timeout: 20_000 }).toContain('已回应');
  });

  it('办结 is refused while plan steps are open, naming them; with the plan done it closes: 已办结', async () => {
    let dialog = await openAction('办结');
    await dialog.getByRole('textbox', { name: '办结情况' }).fill('学生均已出院，食堂停业整顿');
    await confirm(dialog, '办结');
    await expect.poll(() => dialog.getByRole('alert').textContent(), { timeout: 20_000 }).toContain('预案尚有未完成的步骤：报告领导、发布回应、跟踪研判、总结评估');
    await press(dialog.getByRole('button', { name: '取消' }));
    await dialog.waitFor({ state: 'hidden' });
    expect(await status().textContent()).toContain('已回应');

    await completeStep('报告领导', '已向分管领导报告');
    await completeStep('发布回应', '情况通报已发布', 'https://example.gov.cn/tongbao/2026-001');
    await completeStep('跟踪研判', '舆情平稳');
    await completeStep('总结评估', '形成总结材料', '总结〔2026〕1号');
    dialog = await openAction('办结');
    await dialog.getByRole('textbox', { name: '办结情况' }).fill('学生均已出院，食堂停业整顿');
    await submit(dialog, '办结');
    await expect.poll(() => status().textContent(), { timeout: 20_000 }).toContain('已办结');
    await expect.poll(() => toolbar().getByRole('button').allTextContents()).toEqual(['重新打开', '转整改']);
    await saveScreenshot(page, 'alert-closed');
  });

  it('转整改 asks for problem, measures, responsible and deadline, and the item links back to the alert', async () => {
    const dialog = await openAction('转整改');
    await confirm(dialog, '转整改');
    expect(await dialog.getByRole('alert').textContent()).toContain('请填写：问题描述、整改措施、责任人、整改时限');
    await dialog.getByRole('textbox', { name: '问题描述' }).fill(`${marker} 食堂卫生管理不到位`);
    await dialog.getByRole('textbox', { name: '整改措施' }).fill('全县学校食堂开展食品安全检查');
    const responsible = dialog.getByRole('combobox', { name: '责任人' });
    await responsible.focus();
    await page.keyboard.type('duty');
    await page.getByRole('option', { name: /张值班/ }).waitFor();
    await page.keyboard.press('Enter');
    const deadline = dialog.getByRole('combobox', { name: '整改时限' }).or(dialog.getByRole('textbox', { name: '整改时限' }));
    await deadline.fill('2030-06-30 18:00:00');
    await page.keyboard.press('Enter');
    await submit(dialog, '转整改');
    await dialog.waitFor({ state: 'hidden', timeout: 20_000 });

    await page.getByRole('tab', { name: '整改台账' }).click();
    const link = page.getByRole('link', { name: `${marker} 食堂卫生管理不到位` });
    await link.waitFor({ timeout: 20_000 });
    expect(await page.getByRole('tabpanel', { name: '整改台账' }).textContent()).toContain('待整改');
    await press(link);
    await page.waitForURL(/\/ledger/);
    const row = page.locator('.el-table__row', { hasText: `${marker} 食堂卫生管理不到位` });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('duty');
    expect(await row.textContent()).toContain('待整改');
    await saveScreenshot(page, 'ledger');
    await press(row.getByRole('link', { name: '来源预警' }));
    await page.waitForURL((u) => u.pathname === alertPath);
    expect(await status().textContent()).toContain('已办结');
  });

  it('the audit trail on the alert names every step with who did it and why', async () => {
    await page.getByRole('tab', { name: '审计记录' }).click();
    const trail = page.getByRole('tabpanel', { name: '审计记录' });
    await expect.poll(() => trail.textContent(), { timeout: 20_000 }).toContain('转整改');
    const text = (await trail.textContent()) ?? '';
    for (const entry of ['刘科长（科室负责人）：签收（已电话联系学校核实）', '启动预案', '完成预案步骤（学校确认 3 名学生就医，已无大碍）', '回应（在县政府网站发布情况通报）', '办结（学生均已出院，食堂停业整顿）', '转整改']) {
      expect(text).toContain(entry);
    }
    expect(text).not.toMatch(/alert\./);
    await saveScreenshot(page, 'alert-audit');
  });

  it('search finds the planted post with the matched words highlighted as text', async () => {
    await page.goto(new URL('/search', env.url).toString());
    await page.getByRole('textbox', { name: '检索词' }).fill(`食物中毒 ${marker}`);
    await page.keyboard.press('Enter');
    const hit = page.locator('.search-hit', { hasText: marker }).first();
    await hit.waitFor({ timeout: 20_000 });
    expect(await hit.locator('.snippet mark').allTextContents()).toEqual(expect.arrayContaining(['食物中毒', marker]));
    expect(await hit.locator('.post-title mark').allTextContents()).toContain(marker);
    expect(await hit.locator('.snippet').textContent()).toContain(`学校食堂疑似食物中毒，多名学生送医。${marker}`);
    expect(new URL(page.url()).searchParams.get('q')).toBe(`食物中毒 ${marker}`);
    await saveScreenshot(page, 'search');
  });

  it('has raised no script errors and no CSP violations', () => {
    // Refusals log their 409 like any failed request: the close refused above, and any stale confirmation retried.
    const refused = errors.filter((e) => /status of 409/.test(e));
    expect(refused.length).toBeLessThanOrEqual(1 + staleRetries);
    expect(errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
  });
});
