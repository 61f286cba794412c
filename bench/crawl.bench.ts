/**
 * Crawl benchmarks against loopback fixtures (`bench/crawl-site.ts`):
 *  1. static pages per second, first crawl of a 5,000-article site (plus its 250 list pages);
 *  2. the re-crawl of the unchanged site: share of detail pages fetched again (target ≤ 5 %);
 *  3. browser-rendered pages per second (JavaScript-written lists, every page rendered in Chromium);
 *  4. the same site with `render: browser-lists` (lists rendered, detail pages fetched as HTML).
 * The crawl memory is the real one (Redis, a throw-away prefix), and items go to a real `ingest`
 * queue (no worker) as the crawler role hands them over: batch jobs from a `CrawlOutbox`, the crawl
 * state written behind them (`--hand-over per-item`: one job per item and state written at once,
 * as before crawl batching). Redis commands are the deltas of the
 * server's INFO commandstats (commands run inside scripts included): point REDIS_URL at a Redis of
 * the bench's own for exact counts. Peak RSS is sampled every 50 ms for this Node process;
 * Chromium's processes are sampled from /proc (CPU seconds, summed PSS).
 *
 * `--credentials` gives the browser runs a source cookie and authorization header for the bench
 * host, so the cost of sending them hop by hop is in the numbers.
 *
 *   npm run bench:crawl [-- --articles 5000 --browser-articles 200 --only static|browser --credentials --hand-over outbox|per-item]
 */
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { WebsiteSourceSchema } from '../core/sources/source.js';
import type { CollectedItem } from '../core/posts/collected-item.js';
import { ingestJobIdOf } from '../pipeline/ingest/normalize.js';
import { createQueues } from '../pipeline/queues.js';
import { crawlPageSource } from '../crawlers/routes-for.js';
import { takeCrawlLock } from '../crawlers/shared/crawl-lock.js';
import { CrawlOutbox } from '../crawlers/shared/crawl-outbox.js';
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
const PER_ITEM = process.argv.includes('--hand-over') && process.argv[process.argv.indexOf('--hand-over') + 1] === 'per-item';

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `qsbench-${randomBytes(4).toString('hex')}`;
const queues = createQueues(redis, prefix);

/** Commands the Redis server has run, by command, from INFO commandstats. */
async function redisCommands(): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** What the Redis server ran between two readings (this bench's own reading excluded). */
function commandsBetween(before: Map<string, number>, after: Map<string, number>, pages: number): Record<string, unknown> {
  const delta = [...after].map(([cmd, n]) => [cmd, n - (before.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0)] as const).filter(([, n]) => n > 0);
  const total = delta.reduce((sum, [, n]) => sum + n, 0);
  const of = (cmd: string) => delta.find(([c]) => c === cmd)?.[1] ?? 0;
  // A script (a BullMQ add) is one call from the client; the commands it runs inside are counted too.
  const scripts = of('evalsha') + of('eval');
  return { total, perPage: Number((total / Math.max(1, pages)).toFixed(2)), scripts, multi: of('multi'), top: Object.fromEntries(delta.sort((a, b) => b[1] - a[1]).slice(0, 8)) };
}

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
  // As the crawler role does: the crawl state written under the source's run lock.
  const lock = (await takeCrawlLock(redis, `${prefix}:crawl:${source.id}:lock`, 30 * 60_000))!;
  const store = new RedisCrawlState(redis, prefix, source.id, lock);
  let items = 0;
  let outbox: CrawlOutbox | undefined;
  /** One run's options, handing items over as the crawler role does; `done()` after the run. */
  const handOver = () => {
    outbox = PER_ITEM ? undefined : new CrawlOutbox({ queue: queues.ingest, state: store, lock });
    return {
      state: outbox?.state ?? store,
      maxRequests: 100_000,
      timeoutSeconds: 30,
      onItem: async (item: CollectedItem) => {
        items++;
        if (outbox) await outbox.add(item);
        else await queues.ingest.add('item', { item }, { jobId: ingestJobIdOf(item) });
      },
    };
  };
  const done = async () => outbox?.close();
  const chromium = render === 'static' ? undefined : sampleDescendants();
  const reaped0 = reapedChildrenCpuSeconds();
  const cpu0 = process.cpuUsage();
  const commands0 = await redisCommands();
  const t0 = performance.now();
  const first = await crawlPageSource(source, handOver());
  await done();
  const commands = commandsBetween(commands0, await redisCommands(), first.pagesFetched + first.pagesUnchanged);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pages = first.pagesFetched + first.pagesUnchanged;
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const result: Record<string, unknown> = {
    render,
    ...(CREDENTIALS && render !== 'static' ? { credentials: true } : {}),
    handOver: PER_ITEM ? 'per-item' : 'outbox',
    articles,
    pages,
    items,
    failures: first.failures.length,
    ...(first.failures.length > 0 ? { firstFailure: first.failures[0] } : {}),
    seconds: Number(seconds.toFixed(2)),
    pagesPerSecond: Number((pages / seconds).toFixed(1)),
    nodeCpuSeconds: Number(nodeCpu.toFixed(2)),
    ingestJobs: await queues.ingest.count(),
    redisCommands: commands,
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
    const jobs = await queues.ingest.count();
    const again0 = await redisCommands();
    const t1 = performance.now();
    const again = await crawlPageSource(source, handOver());
    await done();
    const againCommands = commandsBetween(again0, await redisCommands(), again.pagesFetched + again.pagesUnchanged);
    Object.assign(result, {
      recrawlSeconds: Number(((performance.now() - t1) / 1000).toFixed(2)),
      recrawlDetailFetched: again.detailFetched,
      recrawlDetailSkipped: again.detailSkipped,
      recrawlDetailShare: `${((100 * again.detailFetched) / articles).toFixed(2)} %`,
      recrawlItemsEmitted: items,
      recrawlIngestJobsAdded: (await queues.ingest.count()) - jobs,
      recrawlRedisCommands: againCommands,
    });
  }
  await lock.release();
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
  await queues.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}
