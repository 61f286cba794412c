import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useDashboardApp } from '../support/dashboard-app.js';
import { logIn, openPage, saveScreenshot } from '../support/browser.js';

/** The YAML in the CodeMirror editor, line by line as it renders them (the packs here fit its viewport). */
async function yamlIn(page: Page): Promise<string> {
  return (await page.locator('.yaml-editor .cm-line').allTextContents()).join('\n');
}

/**
 * Replaces the editor's YAML the way a person pastes it: select all, then a paste event carrying the
 * text, which CodeMirror inserts itself. (Playwright's fill() types into the contenteditable, where
 * Chromium's own editing tries to give the new line elements a style attribute that the CSP refuses.)
 */
async function pasteYaml(page: Page, text: string): Promise<void> {
  const content = page.getByLabel('规则包 YAML');
  await content.click();
  await page.keyboard.press('Control+A');
  await content.evaluate((el, pasted) => {
    const data = new DataTransfer();
    data.setData('text/plain', pasted);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

describe('editing a rule pack in Chromium', () => {
  const env = useDashboardApp('api');

  it('a section chief edits a pack, sees the error at its line, fixes it, tries it, saves it and sees the new version', async () => {
    const { page, errors } = await openPage(env.browser, { width: 1600, height: 1000 });
    await logIn(page, env.url, 'chief');
    await page.goto(new URL('/rules', env.url).toString());
    await page.getByRole('button', { name: '演示负面舆情词库' }).click();
    await expect.poll(() => yamlIn(page)).toContain('id: demo-negative');
    await page.getByRole('cell', { name: 'v2' }).waitFor();
    // CodeMirror highlights the YAML (after its parse, which may finish a moment after the text shows): keys and values are told apart by their own elements.
    await expect.poll(() => page.locator('.yaml-editor .cm-line span').count()).toBeGreaterThan(10);
    const original = await yamlIn(page);

    // A term with a level that does not exist: the error shows at its line.
    const broken = `${original.trimEnd()}\n  - { term: 拖着不办, level: 9 }\n`;
    await pasteYaml(page, broken);
    expect(await yamlIn(page)).toBe(broken.trimEnd() + '\n');
    await page.getByRole('button', { name: '校验' }).click();
    const line = broken.split('\n').findIndex((l) => l.includes('拖着不办')) + 1;
    const problems = page.getByRole('alert').filter({ hasText: '规则包有' });
    await problems.getByText(`第 ${line} 行`).waitFor();
    expect(await problems.textContent()).toContain('level');
    // In the editor: that line, and only that line, is marked as an error, with a marker in its gutter row.
    const badLine = page.locator('.yaml-editor .cm-line', { has: page.locator('.cm-lintRange-error') });
    await badLine.first().waitFor();
    expect(await badLine.count()).toBe(1);
    expect(await badLine.textContent()).toContain('拖着不办');
    const marker = page.locator('.yaml-editor .cm-lint-marker-error');
    expect(await marker.count()).toBe(1);
    const [lineBox, markerBox] = [await badLine.boundingBox(), await marker.boundingBox()];
    expect(Math.abs(lineBox!.y + lineBox!.height / 2 - (markerBox!.y + markerBox!.height / 2))).toBeLessThan(lineBox!.height / 2);
    // Hovering the mark explains it.
    await badLine.locator('.cm-lintRange-error').first().hover();
    const tip = page.locator('.cm-tooltip-lint');
    await tip.waitFor();
    expect(await tip.textContent()).toContain('level');
    // Going to the problem from the list puts the cursor on that line.
    await problems.getByText(`第 ${line} 行`).click();
    await expect.poll(() => page.locator('.yaml-editor .cm-activeLine').textContent()).toContain('拖着不办');
    // CodeMirror's own styles are in force under the strict CSP (its <style> carries the page's nonce).
    expect(await page.locator('.yaml-editor .cm-editor').evaluate((el) => getComputedStyle(el).display)).toBe('flex');
    await saveScreenshot(page, 'rules-line-error');

    // Fixed, it validates and catches the sample text.
    await pasteYaml(page, broken.replace('level: 9', 'level: 3'));
    await page.getByRole('button', { name: '校验' }).click();
    await page.getByText('校验通过').waitFor();
    expect(await page.locator('.yaml-editor .cm-lintRange-error').count()).toBe(0);
    await page.getByLabel('样例文本').fill('反映的问题一直拖着不办，已经三个月了');
    await page.getByRole('button', { name: '在样例上试运行' }).click();
    await page.locator('.rule-trial').getByText('命中', { exact: true }).waitFor();

    // Saved with a reason: version 3, in the list, with its diff.
    await page.getByLabel('修改原因').fill('增加“拖着不办”');
    await page.getByRole('button', { name: '保存为新版本' }).click();
    await page.getByText('已保存为版本 3').waitFor();
    expect(await yamlIn(page)).toContain('version: 3');
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

  it('a problem found on the form tab is marked at its line in the YAML, and "第 N 行" goes to line N of the text as it is now', async () => {
    const { page, errors } = await openPage(env.browser, { width: 1600, height: 1000 });
    await logIn(page, env.url, 'chief');
    await page.goto(new URL('/rules', env.url).toString());
    await page.getByRole('button', { name: '新建规则包' }).click();
    // On the form tab: a term and a scheme whose region words miss a ")".
    await page.getByLabel('词', { exact: true }).first().fill('拖着不办');
    await page.getByRole('button', { name: '添加方案' }).click();
    await page.getByLabel('方案编号').fill('s1');
    await page.getByLabel('方案名称').fill('东关村拆迁');
    await page.getByLabel('地域词').fill('青山县|(东关');
    await page.getByLabel('主体词').fill('村委');
    await page.getByRole('button', { name: '校验' }).click();
    const problems = page.getByRole('alert').filter({ hasText: '规则包有' });
    await problems.getByText('schemes.0.region').waitFor();
    const line = Number(/第 (\d+) 行/.exec((await problems.locator('.problem-line').first().textContent()) ?? '')?.[1]);

    // The YAML tab shows the form's text, with the mark on the region line and only there.
    await page.getByRole('tab', { name: 'YAML' }).click();
    await expect.poll(() => yamlIn(page)).toContain('region: 青山县|(东关');
    const validated = (await yamlIn(page)).split('\n');
    expect(validated[line - 1]).toContain('region: 青山县|(东关');
    const badLine = page.locator('.yaml-editor .cm-line', { has: page.locator('.cm-lintRange-error') });
    await badLine.first().waitFor();
    expect(await badLine.count()).toBe(1);
    expect(await badLine.textContent()).toContain('region: 青山县|(东关');
    expect(await page.locator('.yaml-editor .cm-lint-marker-error').count()).toBe(1);

    // Back on the form, a second term moves every line below it; the list still names the validated line.
    await page.getByRole('tab', { name: '表单' }).click();
    await page.getByRole('button', { name: '添加词条' }).click();
    await page.getByLabel('词', { exact: true }).nth(1).fill('推诿扯皮');
    await problems.getByText(`第 ${line} 行`).click();
    // The editor holds the form's current text, and the cursor is on its line N (no longer the region line).
    await expect.poll(() => yamlIn(page)).toContain('推诿扯皮');
    const current = (await yamlIn(page)).split('\n');
    expect(current[line - 1]).not.toBe(validated[line - 1]);
    await expect.poll(() => page.locator('.yaml-editor .cm-activeLine').textContent()).toBe(current[line - 1]);
    const selected = await page.evaluate(() => window.getSelection()?.toString() ?? '');
    expect(selected).toBe(current[line - 1]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('typing into the YAML with the keyboard (Enter and Backspace across lines) edits the pack and raises no CSP violation', async () => {
    const { page, errors } = await openPage(env.browser, { width: 1600, height: 1000 });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
    });
    await logIn(page, env.url, 'chief');
    await page.goto(new URL('/rules', env.url).toString());
    await page.getByRole('button', { name: '新建规则包' }).click();
    await page.getByRole('tab', { name: 'YAML' }).click();
    await expect.poll(() => yamlIn(page)).toContain('id: new-pack');
    const before = await yamlIn(page);
    await page.getByLabel('规则包 YAML').click();
    // The text ends with a line break: the cursor lands on the empty last line.
    await page.keyboard.press('Control+End');
    await page.keyboard.type('terms:');
    await page.keyboard.press('Enter');
    await page.keyboard.type('- 拖着不办');
    await page.keyboard.press('Enter');
    await page.keyboard.type('- 推诿');
    // A slip: Backspace takes back the four characters, then the line break itself.
    for (let i = 0; i < 5; i++) await page.keyboard.press('Backspace');
    await page.keyboard.type('扯皮');
    await page.keyboard.press('Enter');
    await page.keyboard.type('- 吃拿卡要');
    const typed = await yamlIn(page);
    expect(before.endsWith('\n')).toBe(true);
    expect(typed).toBe(`${before}terms:\n- 拖着不办扯皮\n- 吃拿卡要`);
    // The page's model has the typed text: the server validates exactly that pack.
    await page.getByRole('button', { name: '校验' }).click();
    await page.getByText('校验通过：新规则包（2 个词条，0 个方案）').waitFor();
    // CodeMirror's styles stay in force, and nothing was refused along the way.
    expect(await page.locator('.yaml-editor .cm-editor').evaluate((el) => getComputedStyle(el).display)).toBe('flex');
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);
    expect(errors).toEqual([]);
    // The listener does hear a refusal: a style attribute, the kind fill() provoked, is reported.
    await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<i style="color: red"></i>'));
    await expect.poll(() => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations.join())).toContain('style-src-attr');
    await page.close();
  });

  it('a section chief creates a new pack, which is in force at once and listed with its first version', async () => {
    const { page, errors } = await openPage(env.browser, { width: 1600, height: 1000 });
    await logIn(page, env.url, 'chief');
    await page.goto(new URL('/rules', env.url).toString());
    await page.getByRole('button', { name: '新建规则包' }).click();
    await page.getByRole('tab', { name: 'YAML' }).click();
    await pasteYaml(page, 'id: hotline-words\nname: 热线新词\nversion: 1\nlevel: 2\ncategory: 负面\nterms:\n  - 拖欠工资\n');
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
    await expect.poll(() => yamlIn(page)).toContain('id: demo-negative');
    expect(await editor.getAttribute('aria-readonly')).toBe('true');
    // Typing changes nothing.
    const before = await yamlIn(page);
    await editor.click();
    await page.keyboard.type('拖着不办');
    expect(await yamlIn(page)).toBe(before);
    await page.getByText('只读（当前角色不能修改规则）').waitFor();
    expect(await page.getByRole('button', { name: '保存为新版本' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: '恢复' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
