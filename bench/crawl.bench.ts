/**
 * Crawl benchmarks against loopback fixtures (`bench/crawl-site.ts`):
 *  1. static pages per second, first crawl of a 5,000-article site (plus its 250 list pages);
 *  2. the re-crawl of the unchanged site: share of detail pages fetched again (target ≤ 5 %);
 *  3. browser-rendered pages per second (JavaScript-written lists, every page rendered in Chromium);
 *  4. the same site with `render: browser-lists` (lists rendered, detail pages fetched as HTML).
 * The crawl memory is the real one (Redis, a throw-away prefix). Peak RSS is sampled every 50 ms
 * for this Node process; Chromium's processes are sampled from /proc (CPU seconds, summed PSS).
 *
 * `--credentials` gives the browser runs a source cookie and authorization header for the bench
 * host, so the cost of sending them hop by hop is in the numbers.
 *
 *   npm run bench:crawl [-- --articles 5000 --browser-articles 200 --only static|browser --credentials]
 */
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { WebsiteSourceSchema } from '../core/sources/source.js';
import { crawlPageSource } from '../crawlers/routes-for.js';
import { RedisCrawlState } from '../crawlers/shared/crawl-state.js';
import { startBenchSite } from './crawl-site.js';
import { reapedChildrenCpuSeconds, sampleDescendants } from './process-tree.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ARTICLES = arg('articles', 5000);
const BROWSER_ARTICLES = arg('browser-articles', 200);
const CONCURRENCY = arg('browser-concurrency', 4);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const CREDENTIALS = process.argv.includes('--credentials');
if (CREDENTIALS) Object.assign(process.env, { QS_BENCH_COOKIE: 'SESSIONID=bench', QS_BENCH_AUTH: 'Bearer bench-token' });

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `qsbench-${randomBytes(4).toString('hex')}`;

async function run(render: 'static' | 'browser' | 'browser-lists', articles: number, concurrency: number) {
  const site = await startBenchSite({ articles, render: render === 'static' ? 'static' : 'browser' });
  const source = WebsiteSourceSchema.parse({
    id: `bench-${render}`,
    kind: 'website',
    name: 'bench',
    owner: { section: 'bench', person: 'bench' },
    entryPoints: [`${site.url}/col/index.html`],
    allowedHosts: [new URL(site.url).host],
    render,
    ...(CREDENTIALS && render !== 'static' ? { credentials: { cookie: 'QS_BENCH_COOKIE', authorization: 'QS_BENCH_AUTH' } } : {}),
    crawl: { delayMs: 0, perHostConcurrency: concurrency, maxPages: articles + site.listPages + 10, maxDepth: site.listPages + 5, robotsTxt: 'ignore', revisitRecentDays: 7 },
  });
  const state = new RedisCrawlState(redis, prefix, source.id);
  let items = 0;
  const options = { state, maxRequests: 100_000, timeoutSeconds: 30, onItem: async () => void items++ };
  const chromium = render === 'static' ? undefined : sampleDescendants();
  const reaped0 = reapedChildrenCpuSeconds();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const first = await crawlPageSource(source, options);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pages = first.pagesFetched + first.pagesUnchanged;
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const result: Record<string, unknown> = {
    render,
    ...(CREDENTIALS && render !== 'static' ? { credentials: true } : {}),
    articles,
    pages,
    items,
    failures: first.failures.length,
    ...(first.failures.length > 0 ? { firstFailure: first.failures[0] } : {}),
    seconds: Number(seconds.toFixed(2)),
    pagesPerSecond: Number((pages / seconds).toFixed(1)),
    nodeCpuSeconds: Number(nodeCpu.toFixed(2)),
  };
  if (chromium) {
    const tree = chromium.stop();
    const reaped = reapedChildrenCpuSeconds() - reaped0;
    const browserCpu = Math.max(tree.cpuSeconds, reaped);
    Object.assign(result, {
      chromiumCpuSeconds: Number(browserCpu.toFixed(2)),
      chromiumCpuSampled: Number(tree.cpuSeconds.toFixed(2)),
      chromiumCpuReaped: Number(reaped.toFixed(2)),
      chromiumPeakPss: mb(tree.peakPssBytes),
      chromiumProcesses: tree.processes,
      pagesPerCpuSecond: Number((pages / (nodeCpu + browserCpu)).toFixed(1)),
    });
  } else {
    result.pagesPerCpuSecond = Number((pages / nodeCpu).toFixed(1));
  }
  if (render === 'static') {
    items = 0;
    const t1 = performance.now();
    const again = await crawlPageSource(source, options);
    Object.assign(result, {
      recrawlSeconds: Number(((performance.now() - t1) / 1000).toFixed(2)),
      recrawlDetailFetched: again.detailFetched,
      recrawlDetailSkipped: again.detailSkipped,
      recrawlDetailShare: `${((100 * again.detailFetched) / articles).toFixed(2)} %`,
      recrawlItemsEmitted: items,
    });
  }
  await site.close();
  return result;
}

try {
  if (ONLY !== 'browser') console.log(JSON.stringify(await run('static', ARTICLES, 16)));
  if (ONLY !== 'static') console.log(JSON.stringify(await run('browser', BROWSER_ARTICLES, CONCURRENCY)));
  if (ONLY !== 'static') console.log(JSON.stringify(await run('browser-lists', BROWSER_ARTICLES, CONCURRENCY)));
  console.log(JSON.stringify({ peakRss: mb(peakRss), node: process.version, cpus: (await import('node:os')).cpus().length, loadavg: (await import('node:os')).loadavg().map((l) => l.toFixed(2)) }));
} finally {
  clearInterval(sampler);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}
