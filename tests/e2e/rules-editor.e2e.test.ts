import { describe, expect, it } from 'vitest';
import { useDashboardApp } from '../support/dashboard-app.js';
import { logIn, openPage, saveScreenshot } from '../support/browser.js';

describe('editing a rule pack in Chromium', () => {
  const env = useDashboardApp('api');

  it('a section chief edits a pack, sees the error at its line, fixes it, tries it, saves it and sees the new version', async () => {
    const { page, errors } = await openPage(env.browser, { width: 1600, height: 1000 });
    await logIn(page, env.url, 'chief');
    await page.goto(new URL('/rules', env.url).toString());
    await page.getByRole('button', { name: '演示负面舆情词库' }).click();
    const editor = page.getByLabel('规则包 YAML');
    await expect.poll(() => editor.inputValue()).toContain('id: demo-negative');
    await page.getByRole('cell', { name: 'v2' }).waitFor();
    const original = await editor.inputValue();

    // A term with a level that does not exist: the error shows at its line.
    const broken = `${original.trimEnd()}\n  - { term: 拖着不办, level: 9 }\n`;
    await editor.fill(broken);
    await page.getByRole('button', { name: '校验' }).click();
    const line = broken.split('\n').findIndex((l) => l.includes('拖着不办')) + 1;
    const problems = page.getByRole('alert').filter({ hasText: '规则包有' });
    await problems.getByText(`第 ${line} 行`).waitFor();
    expect(await problems.textContent()).toContain('level');
    expect(await page.locator(`.yaml-gutter span[data-line="${line}"]`).getAttribute('class')).toContain('bad');
    await saveScreenshot(page, 'rules-line-error');

    // Fixed, it validates and catches the sample text.
    await editor.fill(broken.replace('level: 9', 'level: 3'));
    await page.getByRole('button', { name: '校验' }).click();
    await page.getByText('校验通过').waitFor();
    await page.getByLabel('样例文本').fill('反映的问题一直拖着不办，已经三个月了');
    await page.getByRole('button', { name: '在样例上试运行' }).click();
    await page.locator('.rule-trial').getByText('命中', { exact: true }).waitFor();

    // Saved with a reason: version 3, in the list, with its diff.
    await page.getByLabel('修改原因').fill('增加“拖着不办”');
    await page.getByRole('button', { name: '保存为新版本' }).click();
    await page.getByText('已保存为版本 3').waitFor();
    expect(await editor.inputValue()).toContain('version: 3');
    const newest = page.locator('.rule-versions .el-table__body tr').first();
    await newest.getByText('v3').waitFor();
    expect(await newest.textContent()).toContain('在线编辑');
    expect(await newest.textContent()).toContain('增加“拖着不办”');
    await newest.getByRole('button', { name: '与上一版差异' }).click();
    const diff = page.getByLabel('版本差异');
    await diff.waitFor();
    expect(await diff.textContent()).toContain('+  - { term: 拖着不办, level: 3 }');
    expect(await page.locator('.rule-diff .diff-add').count()).toBeGreaterThanOrEqual(2);
    await saveScreenshot(page, 'rules-saved-version');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a section chief creates a new pack, which is in force at once and listed with its first version', async () => {
    const { page, errors } = await openPage(env.browser, { width: 1600, height: 1000 });
    await logIn(page, env.url, 'chief');
    await page.goto(new URL('/rules', env.url).toString());
    await page.getByRole('button', { name: '新建规则包' }).click();
    await page.getByRole('tab', { name: 'YAML' }).click();
    const editor = page.getByLabel('规则包 YAML');
    await editor.fill('id: hotline-words\nname: 热线新词\nversion: 1\nlevel: 2\ncategory: 负面\nterms:\n  - 拖欠工资\n');
    await page.getByRole('button', { name: '新建并生效' }).click();
    await page.getByText('请填写新建原因').waitFor();
    await page.getByLabel('新建原因').fill('热线反映集中');
    await page.getByRole('button', { name: '新建并生效' }).click();
    await page.getByText('已新建规则包 hotline-words').waitFor();
    await page.getByRole('button', { name: '热线新词' }).waitFor();
    const first = page.locator('.rule-versions .el-table__body tr').first();
    await first.getByText('v1').waitFor();
    expect(await first.textContent()).toContain('在线新建');
    // From now on it is edited like any pack.
    await page.getByRole('button', { name: '保存为新版本' }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a duty officer sees the rules read-only', async () => {
    const { page, errors } = await openPage(env.browser);
    await logIn(page, env.url, 'duty');
    await page.goto(new URL('/rules', env.url).toString());
    await page.getByRole('button', { name: '演示负面舆情词库' }).click();
    const editor = page.getByLabel('规则包 YAML');
    await expect.poll(() => editor.inputValue()).toContain('id: demo-negative');
    expect(await editor.getAttribute('readonly')).not.toBeNull();
    await page.getByText('只读（当前角色不能修改规则）').waitFor();
    expect(await page.getByRole('button', { name: '保存为新版本' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: '恢复' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
