/**
 * The alert wall's first meaningful paint with 10,000 alerts in the index: the real api role on
 * loopback, real Elasticsearch, real Chromium. "Meaningful" = the counters and the first alert rows
 * are on screen (measured in the page at the first animation frame after the rows exist, from the
 * navigation's start). Cold = a new browser context (empty cache); warm = a second navigation.
 *
 * npm run bench:wall [-- --alerts 10000 --runs 5]
 */
import { Client } from '@elastic/elasticsearch';
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
    const cold: number[] = [];
    const warm: number[] = [];
    const coldJs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      await context.addCookies([{ name: 'qs_session', value: cookie, domain: '127.0.0.1', path: '/' }]);
      const page = await context.newPage();
      const js: Promise<number>[] = [];
      page.on('response', (r) => {
        if (r.url().endsWith('.js')) js.push(r.body().then((b) => gzipSync(b, { level: 9 }).length).catch(() => 0));
      });
      for (const bucket of [cold, warm]) {
        await page.goto(`${base}/wall`);
        await page.locator('tr.wall-row').first().waitFor();
        bucket.push(await page.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => resolve(performance.now())))));
        if (bucket === cold) coldJs.push((await Promise.all(js)).reduce((a, b) => a + b, 0));
        if (i === 0) {
          const marks = await page.evaluate(() => {
            const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
            const res = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.includes('/api/'));
            return [`DOMContentLoaded ${nav.domContentLoadedEventEnd.toFixed(0)}`, ...res.map((r) => `${new URL(r.name).pathname} ${r.startTime.toFixed(0)}–${r.responseEnd.toFixed(0)}`)].join('; ');
          });
          console.log(`${bucket === cold ? 'cold' : 'warm'} run 1 timeline (ms): ${marks}`);
        }
      }
      await context.close();
    }
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    console.log(`GET /api/wall (200 open alerts + counters), median of ${RUNS}: ${median(api).toFixed(0)} ms`);
    console.log(`first meaningful paint, cold cache, median of ${RUNS}: ${median(cold).toFixed(0)} ms (all: ${cold.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`first meaningful paint, warm cache, median of ${RUNS}: ${median(warm).toFixed(0)} ms (all: ${warm.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`JavaScript the wall loads before its first paint (gzipped): ${(median(coldJs) / 1024).toFixed(1)} KB`);
    console.log(`1-minute load average: ${load}`);
  } finally {
    await browser.close();
    await app.stop();
    await es.close();
    await iso.cleanup();
  }
}

await main();
