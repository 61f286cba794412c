import { describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { useDashboardApp } from '../support/dashboard-app.js';
import { logIn, openPage } from '../support/browser.js';

/** Open alerts written straight into this file's alerts index, newest first, as the wall lists them. */
async function seedOpenAlerts(esUrl: string, index: string, n: number): Promise<void> {
  const es = new Client({ node: esUrl });
  try {
    const mapping = await es.indices.getMapping({ index });
    const fields = new Set(Object.keys(Object.values(mapping)[0]?.mappings.properties ?? {}));
    const t0 = Date.now();
    const operations: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const at = new Date(t0 - i * 60_000).toISOString();
      const doc: Record<string, unknown> = {
        id: `rows-${i}`,
        packId: 'demo-sensitive',
        category: '敏感词',
        level: (i % 4) + 1,
        status: 'new',
        title: `第${i}号预警：网友反映集体上访问题`,
        sourceId: `source-${i % 12}`,
        postIds: [`post-${i}`],
        terms: ['集体上访'],
        hits: [{ postId: `post-${i}`, term: '集体上访', packId: 'demo-sensitive', category: '敏感词', level: (i % 4) + 1, start: 11, end: 15, field: 'title' }],
        createdAt: at,
        updatedAt: at,
      };
      for (const k of Object.keys(doc)) if (!fields.has(k)) delete doc[k];
      operations.push({ index: { _index: index, _id: doc.id } }, doc);
    }
    const res = await es.bulk({ operations, refresh: true });
    if (res.errors) throw new Error(`seeding failed: ${JSON.stringify(res.items.find((x) => x.index?.error)?.index?.error)}`);
  } finally {
    await es.close();
  }
}

interface RowWatch {
  /** When each step of the wall's remaining rows ran (its frame callback), page time. */
  steps: number[];
  /** When the wall left the page, and how many rows it had then. */
  goneAt?: number;
  rowsWhenGone?: number;
}

describe('the wall adds its remaining rows in steps, and stops when the page goes', () => {
  const env = useDashboardApp('api');

  it('with 200 open alerts, all 200 rows arrive after the first screenful; leaving mid-way stops the steps at once, without an error', async () => {
    await seedOpenAlerts(env.iso.esUrl, `${env.iso.indexPrefix}-alerts`, 200);
    const { page, errors } = await openPage(env.browser);
    // The steps are told apart from other frame callbacks by their body (the build keeps `+=40`).
    await page.addInitScript(() => {
      const watch: RowWatch = { steps: [] };
      (window as unknown as { __rows: RowWatch }).__rows = watch;
      const raf = window.requestAnimationFrame.bind(window);
      window.requestAnimationFrame = (cb) => {
        const isStep = /\+=\s*40\b/.test(String(cb));
        return raf((t) => {
          if (isStep) watch.steps.push(performance.now());
          cb(t);
        });
      };
    });
    await logIn(page, env.url, 'duty');
    await page.locator('tr.wall-row').first().waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('tr.wall-row').count(), { timeout: 20_000 }).toBe(200);
    const stepsToAll = await page.evaluate(() => (window as unknown as { __rows: RowWatch }).__rows.steps.length);
    expect(stepsToAll).toBeGreaterThanOrEqual(5);

    // From another page (its code now loaded) back to the wall; the moment its first rows show, the
    // duty officer goes to the rules, long before the last step. (Not the alert list: these seeded
    // alerts carry only what the wall reads.)
    await page.getByRole('menuitem', { name: '监测规则' }).click();
    await page.waitForURL(/\/rules$/);
    await page.evaluate(() => {
      const watch = (window as unknown as { __rows: RowWatch }).__rows;
      watch.steps = [];
      const seen = new MutationObserver(() => {
        const wall = document.querySelector('.wall');
        if (wall && !watch.rowsWhenGone && wall.querySelector('tr.wall-row')) {
          watch.rowsWhenGone = -1;
          [...document.querySelectorAll<HTMLElement>('.el-menu-item')].find((el) => el.textContent?.trim() === '监测规则')?.click();
        }
        if (!wall && watch.rowsWhenGone === -1) {
          watch.goneAt = performance.now();
          watch.rowsWhenGone = Number(document.body.dataset.rows ?? 0);
          seen.disconnect();
        }
        if (wall) document.body.dataset.rows = String(wall.querySelectorAll('tr.wall-row').length);
      });
      seen.observe(document.body, { childList: true, subtree: true });
    });
    await page.getByRole('menuitem', { name: '预警大屏' }).click();
    await expect.poll(() => page.evaluate(() => (window as unknown as { __rows: RowWatch }).__rows.goneAt), { timeout: 30_000 }).toBeDefined();
    expect(page.url()).toMatch(/\/rules$/);
    // Time for the rest of the chain (about five frames and tasks) had it not been cancelled.
    await page.waitForTimeout(1500);
    const watch = await page.evaluate(() => (window as unknown as { __rows: RowWatch }).__rows);
    console.log(`rows when the wall went: ${watch.rowsWhenGone}; steps before: ${watch.steps.filter((t) => t <= watch.goneAt!).length}, after: ${watch.steps.filter((t) => t > watch.goneAt!).length}; steps to all 200 on the first visit: ${stepsToAll}`);
    expect(watch.rowsWhenGone).toBeGreaterThanOrEqual(30);
    expect(watch.rowsWhenGone).toBeLessThan(200);
    expect(watch.steps.filter((t) => t > watch.goneAt!)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
