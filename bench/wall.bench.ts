/**
 * The alert wall's first meaningful paint with 10,000 alerts in the index: the real api role on
 * loopback, real Elasticsearch, real Chromium. "Meaningful" = the counters and the first alert rows
 * are on screen (measured in the page at the first animation frame after the rows exist, from the
 * navigation's start). Cold = a new browser context (empty cache); warm = a second navigation.
 * Two readings of that frame: "polled" waits for the row from Playwright and then asks the page for
 * its next frame, so it lands after whatever long task follows the first render (the numbers before
 * 2026-12-07 are this reading); "observed" is taken in the page by a MutationObserver installed
 * before the page's scripts, at the first frame after the first row is inserted.
 * `--timeline` prints, for the first cold run, when each request was queued, sent and answered.
 *
 * npm run bench:wall [-- --alerts 10000 --runs 5]
 */
import { Client } from '@elastic/elasticsearch';
import { loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { isolation } from '../tests/support/isolation.js';
import { freePort, runQianshao, waitForOutput } from '../tests/support/app-process.js';
import { CHROMIUM_ARGS } from '../tests/support/browser.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ALERTS = arg('alerts', 10_000);
const RUNS = arg('runs', 5);
const TIMELINE = process.argv.includes('--timeline');
const STATUSES = ['new', 'new', 'acknowledged', 'handling', 'responded', 'closed', 'closed', 'closed', 'false_positive'];
const TERMS = ['暴力执法', '集体上访', '食物中毒', '拆迁补偿', '路面塌陷', '噪音扰民'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function seed(es: Client, index: string, n: number): Promise<void> {
  const mapping = await es.indices.getMapping({ index });
  const fields = new Set(Object.keys(Object.values(mapping)[0]?.mappings.properties ?? {}));
  const t0 = Date.now();
  for (let start = 0; start < n; start += 2000) {
    const ops: unknown[] = [];
    for (let i = start; i < Math.min(n, start + 2000); i++) {
      const term = TERMS[i % TERMS.length]!;
      const at = new Date(t0 - i * 60_000).toISOString();
      const doc: Record<string, unknown> = {
        id: `bench-${i}`,
        packId: 'demo-sensitive',
        category: '敏感词',
        level: (i % 4) + 1,
        status: STATUSES[i % STATUSES.length],
        title: `第${i}号测试预警：网友反映${term}问题（命中：${term}）`,
        sourceId: `source-${i % 12}`,
        postIds: [`post-${i}`],
        terms: [term],
        hits: [{ postId: `post-${i}`, term, packId: 'demo-sensitive', category: '敏感词', level: (i % 4) + 1, start: 6, end: 6 + term.length, field: 'title' }],
        createdAt: at,
        updatedAt: at,
      };
      for (const k of Object.keys(doc)) if (!fields.has(k)) delete doc[k];
      ops.push({ index: { _index: index, _id: doc.id } }, doc);
    }
    const res = await es.bulk({ operations: ops, refresh: false });
    if (res.errors) throw new Error(`bulk seeding failed: ${JSON.stringify(res.items.find((x) => x.index?.error)?.index?.error)}`);
  }
  await es.indices.refresh({ index });
}

async function main(): Promise<void> {
  const iso = isolation();
  const port = await freePort();
  const app = runQianshao(['api', '--demo'], { API_PORT: String(port), REDIS_PREFIX: iso.redisPrefix, ES_INDEX_PREFIX: iso.indexPrefix });
  const es = new Client({ node: iso.esUrl });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    await waitForOutput(app, 'Dashboard:');
    const index = `${iso.indexPrefix}-alerts`;
    await seed(es, index, ALERTS);
    console.log(`seeded ${(await es.count({ index })).count} alerts into ${index}`);
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'duty', password: 'qianshao-demo' }) });
    const cookie = /qs_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    if (!cookie) throw new Error(`login failed: ${login.status}`);
    const api: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const r = await fetch(`${base}/api/wall`, { headers: { cookie: `qs_session=${cookie}` } });
      await r.json();
      api.push(performance.now() - t);
    }
    const loadAtStart = loadavg()[0]!.toFixed(1);
    const cold: number[] = [];
    const warm: number[] = [];
    const coldJs: number[] = [];
    const coldSeen: number[] = [];
    const warmSeen: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      await context.addCookies([{ name: 'qs_session', value: cookie, domain: '127.0.0.1', path: '/' }]);
      const page = await context.newPage();
      await page.addInitScript(() => {
        const w = window as unknown as { __firstRowFrame?: Promise<number> };
        w.__firstRowFrame = new Promise((resolve) => {
          const seen = new MutationObserver(() => {
            if (!document.querySelector('tr.wall-row')) return;
            seen.disconnect();
            requestAnimationFrame(() => resolve(performance.now()));
          });
          document.addEventListener('DOMContentLoaded', () => seen.observe(document.body, { childList: true, subtree: true }));
        });
      });
      const js: Promise<number>[] = [];
      page.on('response', (r) => {
        if (r.url().endsWith('.js')) js.push(r.body().then((b) => gzipSync(b, { level: 9 }).length).catch(() => 0));
      });
      for (const bucket of [cold, warm]) {
        await page.goto(`${base}/wall`);
        await page.locator('tr.wall-row').first().waitFor();
        bucket.push(await page.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => resolve(performance.now())))));
        (bucket === cold ? coldSeen : warmSeen).push(await page.evaluate(() => (window as unknown as { __firstRowFrame: Promise<number> }).__firstRowFrame));
        if (bucket === cold) coldJs.push((await Promise.all(js)).reduce((a, b) => a + b, 0));
        if (i === 0) {
          const marks = await page.evaluate(() => {
            const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
            const res = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.includes('/api/'));
            return [`DOMContentLoaded ${nav.domContentLoadedEventEnd.toFixed(0)}`, ...res.map((r) => `${new URL(r.name).pathname} ${r.startTime.toFixed(0)}–${r.responseEnd.toFixed(0)}`)].join('; ');
          });
          if (TIMELINE && bucket === cold) {
            const phases = await page.evaluate(() =>
              (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map(
                (r) => `  ${new URL(r.name).pathname.padEnd(48)} queued ${r.startTime.toFixed(0).padStart(5)}  sent ${r.requestStart.toFixed(0).padStart(5)}  first byte ${r.responseStart.toFixed(0).padStart(5)}  done ${r.responseEnd.toFixed(0).padStart(5)}`,
              ),
            );
            console.log(`cold run 1, every request (ms from navigation start):\n${phases.join('\n')}`);
          }
          console.log(`${bucket === cold ? 'cold' : 'warm'} run 1 timeline (ms): ${marks}`);
        }
      }
      await context.close();
    }
    console.log(`GET /api/wall (200 open alerts + counters), median of ${RUNS}: ${median(api).toFixed(0)} ms`);
    const all = (xs: number[]) => `median of ${RUNS}: ${median(xs).toFixed(0)} ms (all: ${xs.map((x) => x.toFixed(0)).join(', ')})`;
    console.log(`first meaningful paint, cold cache, polled, ${all(cold)}`);
    console.log(`first meaningful paint, warm cache, polled, ${all(warm)}`);
    console.log(`first meaningful paint, cold cache, observed, ${all(coldSeen)}`);
    console.log(`first meaningful paint, warm cache, observed, ${all(warmSeen)}`);
    console.log(`JavaScript the wall loads before its first paint (gzipped): ${(median(coldJs) / 1024).toFixed(1)} KB`);
    console.log(`1-minute load average: ${loadAtStart} before the browser runs, ${loadavg()[0]!.toFixed(1)} after`);
  } finally {
    await browser.close();
    await app.stop();
    await es.close();
    await iso.cleanup();
  }
}

await main();
