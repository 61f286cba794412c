/**
 * The quarterly report over a quarter-sized corpus (`npm run bench:report -- [--posts N] [--alerts N]`),
 * against the real Elasticsearch at ES_URL (default http://127.0.0.1:9200).
 *
 * Corpus (synthetic, seeded, built into indices under a random prefix that is deleted at the end):
 * 1,000,000 posts, 85 % collected in 2026-Q3 and 15 % in Q2 (the comparison), over 12 sources,
 * 6 kinds, 5 domains (+ some unclassified), 3 sentiment labels, 2–6 keywords each drawn from a
 * 400-word vocabulary with Zipf-like frequencies; messages (留言) partly answered. 10,000 alerts in
 * Q3 with the whole lifecycle (level, status, category, acknowledged/responded/closed times,
 * escalation step, the policy's per-level clocks), plus 1,000 in Q2.
 *
 * Timed: the bulk load (docs/s), then after a force merge `ReportService.generate('2026-Q3', unit)`,
 * `renderDocx(report)` and generate + render DOCX — one warm-up, then the median of 3 runs each,
 * Elasticsearch's request cache cleared before each run that queries (a report is generated rarely). A
 * breakdown times the posts aggregations, one alert scan and each chart's PNG on its own. Exits
 * non-zero when generate + DOCX takes more than 10 s (issue #7).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client, type estypes } from '@elastic/elasticsearch';
import { parsePeriod, previousPeriod } from '../core/reports/period.js';
import { POSTS_MAPPING } from '../pipeline/elasticsearch/indices.js';
import { loadReportData } from '../reports/report-data.js';
import { ReportService } from '../reports/report-service.js';
import { chartToPng } from '../reports/render/charts.js';
import { renderDocx } from '../reports/render/docx.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const POSTS = arg('posts', 1_000_000);
const ALERTS = arg('alerts', 10_000);
const RUNS = 3;
const TARGET_MS = 10_000;

const ES_URL = process.env.ES_URL ?? 'http://127.0.0.1:9200';
const prefix = `bench-report-${randomBytes(4).toString('hex')}`;
const idx = { posts: `${prefix}-posts`, alerts: `${prefix}-alerts`, reports: `${prefix}-reports` };
const es = new Client({ node: ES_URL, requestTimeout: 600_000 });

// Seeded PRNG (mulberry32) so every run loads the same corpus.
let seed = 0x9e3779b9;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
function weighted<T>(list: readonly (readonly [T, number])[]): T {
  let r = rand() * list.reduce((s, [, w]) => s + w, 0);
  for (const [v, w] of list) if ((r -= w) < 0) return v;
  return list[list.length - 1]![0];
}

const SOURCES = Array.from({ length: 12 }, (_, i) => ({ id: `src-${i + 1}`, name: `阵地${i + 1}` }));
const SOURCE_WEIGHTS = SOURCES.map((s, i) => [s.id, 12 - i] as const);
const KINDS = [['article', 30], ['comment', 35], ['message', 10], ['weibo', 15], ['video', 5], ['notice', 5]] as const;
const DOMAINS = [['民生经济和社会', 35], ['生态环境', 15], ['教育卫生', 20], ['政务服务', 20], ['安全生产', 5], [undefined, 5]] as const;
const SENTIMENTS = [['neutral', 60], ['positive', 20], ['negative', 20]] as const;
const SYLLABLES = '收费医院学校道路拆迁补贴污染噪声物业停车供水供暖医保养老就业招聘征地工资欠薪食品安全环保投诉办事窗口审批网格社区村委扶贫低保救助交通事故'.match(/../g)!;
const VOCAB = Array.from({ length: 400 }, (_, i) => `${SYLLABLES[i % SYLLABLES.length]}${i >= SYLLABLES.length ? SYLLABLES[(i * 7) % SYLLABLES.length] : ''}`);
// Zipf-like: word i has weight 1/(i+1); sampled by inverse CDF over the cumulative weights.
const CUM = VOCAB.reduce<number[]>((acc, _, i) => (acc.push((acc[i - 1] ?? 0) + 1 / (i + 1)), acc), []);
function keyword(): string {
  const r = rand() * CUM[CUM.length - 1]!;
  let lo = 0;
  let hi = CUM.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUM[mid]! < r) lo = mid + 1;
    else hi = mid;
  }
  return VOCAB[lo]!;
}

const Q3 = parsePeriod('2026-Q3');
const Q2 = previousPeriod(Q3);
const at = (p: { from: Date; to: Date }) => new Date(p.from.getTime() + rand() * (p.to.getTime() - p.from.getTime()));

async function* posts(): AsyncGenerator<Record<string, unknown>> {
  for (let i = 0; i < POSTS; i++) {
    const collected = at(rand() < 0.85 ? Q3 : Q2);
    const published = new Date(collected.getTime() - rand() * 3 * 86_400_000);
    const kind = weighted(KINDS);
    const domain = weighted(DOMAINS);
    const keywords = Array.from({ length: 2 + Math.floor(rand() * 5) }, keyword);
    yield {
      id: `p${i}`,
      sourceId: weighted(SOURCE_WEIGHTS),
      kind,
      title: `${keywords[0]}相关信息${i}`,
      collectedAt: collected.toISOString(),
      publishedAt: published.toISOString(),
      keywords: [...new Set(keywords)],
      sentiment: { label: weighted(SENTIMENTS), score: Math.round(rand() * 100) / 100 },
      ...(domain ? { domain } : {}),
      ...(kind === 'message' && rand() < 0.7 ? { reply: { text: '您好，已转交相关部门办理。', at: new Date(published.getTime() + rand() * 20 * 86_400_000).toISOString() } } : {}),
    };
  }
}

const POLICY = { levels: { red: { acknowledgeSeconds: 900, respondSeconds: 18_000 }, orange: { acknowledgeSeconds: 900, respondSeconds: 18_000 }, yellow: { acknowledgeSeconds: 1800, respondSeconds: 172_800 }, blue: { acknowledgeSeconds: 3600, respondSeconds: 172_800 } } };
const CATEGORIES = ['负面', '涉稳', '民生诉求', '突发事件', '涉政务服务'];
const STATUSES = [['closed', 50], ['responded', 15], ['acknowledged', 10], ['new', 10], ['false_positive', 10], ['escalated', 5]] as const;

async function* alerts(): AsyncGenerator<Record<string, unknown>> {
  const total = ALERTS + Math.round(ALERTS / 10);
  for (let i = 0; i < total; i++) {
    const created = at(i < ALERTS ? Q3 : Q2);
    const status = weighted(STATUSES);
    const level = weighted([[1, 5], [2, 15], [3, 40], [4, 40]] as const);
    const plus = (s: number) => new Date(created.getTime() + s * 1000).toISOString();
    const ack = 60 + rand() * 5400;
    const respond = ack + 600 + rand() * 60 * 3600;
    yield {
      id: `a${i}`,
      title: `预警${i}：${keyword()}`,
      level,
      status,
      category: pick(CATEGORIES),
      sourceId: weighted(SOURCE_WEIGHTS),
      createdAt: created.toISOString(),
      escalationStep: status === 'escalated' ? 1 + Math.floor(rand() * 2) : rand() < 0.05 ? 1 : 0,
      policy: POLICY,
      postIds: Array.from({ length: 1 + Math.floor(rand() * 5) }, () => `p${Math.floor(rand() * POSTS)}`),
      ...(status !== 'new' ? { acknowledgedAt: plus(ack), acknowledgedBy: pick(['duty', 'chief', 'leader']) } : {}),
      ...(status === 'responded' || status === 'closed' ? { respondedAt: plus(respond) } : {}),
      ...(status === 'closed' || status === 'false_positive' ? { closedAt: plus(respond + 3600) } : {}),
      ...(rand() < 0.3 ? { assignee: { id: 'chief', name: '刘科长' } } : {}),
    };
  }
}

const LOAD_SETTINGS = { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' };
const postProps = POSTS_MAPPING.properties!;
const POSTS_BENCH_MAPPING: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: Object.fromEntries(['id', 'sourceId', 'kind', 'domain', 'keywords', 'sentiment', 'collectedAt', 'publishedAt', 'reply', 'title'].map((f) => [f, postProps[f]!])),
};
const ALERTS_BENCH_MAPPING: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: { type: 'keyword' },
    level: { type: 'byte' },
    status: { type: 'keyword' },
    category: { type: 'keyword' },
    sourceId: { type: 'keyword' },
    createdAt: { type: 'date' },
    acknowledgedAt: { type: 'date' },
    respondedAt: { type: 'date' },
    closedAt: { type: 'date' },
    policy: { type: 'object', enabled: false },
  },
};

async function load(index: string, docs: AsyncGenerator<Record<string, unknown>>): Promise<{ ms: number; count: number }> {
  const t0 = performance.now();
  const stats = await es.helpers.bulk({
    datasource: docs,
    onDocument: () => ({ index: { _index: index } }),
    flushBytes: 5_000_000,
    concurrency: 2,
    retries: 3,
    wait: 2000,
    onDrop: (d) => {
      throw new Error(`bulk dropped a document: ${JSON.stringify(d.error)}`);
    },
  });
  return { ms: performance.now() - t0, count: stats.successful };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}
/** One warm-up, then RUNS timed runs; `before` runs untimed ahead of each timed run. */
async function medianOf<T>(fn: () => Promise<T> | T, before?: () => Promise<unknown>): Promise<{ ms: number; runs: number[]; value: T }> {
  await fn(); // warm-up
  const runs: number[] = [];
  let value!: T;
  for (let i = 0; i < RUNS; i++) {
    await before?.();
    const r = await timed(fn);
    runs.push(r.ms);
    value = r.value;
  }
  return { ms: median(runs), runs, value };
}
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const load1 = () => loadavg().map((l) => l.toFixed(1)).join(' / ');

async function main(): Promise<number> {
  console.log(`report bench: ${POSTS.toLocaleString('en')} posts, ${ALERTS.toLocaleString('en')} alerts in 2026-Q3, index prefix ${prefix}; load average ${load1()}`);
  await es.indices.create({ index: idx.posts, settings: LOAD_SETTINGS, mappings: POSTS_BENCH_MAPPING });
  await es.indices.create({ index: idx.alerts, settings: LOAD_SETTINGS, mappings: ALERTS_BENCH_MAPPING });

  const postLoad = await load(idx.posts, posts());
  console.log(`loaded ${postLoad.count.toLocaleString('en')} posts in ${fmt(postLoad.ms)} (${Math.round(postLoad.count / (postLoad.ms / 1000)).toLocaleString('en')} docs/s)`);
  const alertLoad = await load(idx.alerts, alerts());
  console.log(`loaded ${alertLoad.count.toLocaleString('en')} alerts in ${fmt(alertLoad.ms)}`);
  const merge = await timed(async () => {
    await es.indices.putSettings({ index: `${prefix}-*`, settings: { refresh_interval: '1s' } });
    await es.indices.refresh({ index: `${prefix}-*` });
    await es.indices.forcemerge({ index: `${prefix}-*`, max_num_segments: 1 });
    await es.indices.refresh({ index: `${prefix}-*` });
  });
  console.log(`refresh + force merge to 1 segment: ${fmt(merge.ms)}; load average ${load1()}`);

  const service = new ReportService({
    es,
    indices: idx,
    unit: '青山县人民政府',
    sources: () => SOURCES,
    gaps: async () => [],
    zombieDays: 14,
    now: () => new Date('2026-10-08T02:00:00Z'),
  });
  await service.ensure();
  const scope = { kind: 'unit' } as const;

  // A quarterly report is generated rarely: every timed run starts with Elasticsearch's request cache
  // cleared, so the aggregations are computed, not served from the cache the warm-up filled.
  const cold = () => es.indices.clearCache({ index: `${idx.posts},${idx.alerts}`, request: true });
  const generate = await medianOf(() => service.generate('2026-Q3', scope), cold);
  const report = generate.value;
  const docx = await medianOf(() => renderDocx(report));
  const both = await medianOf(async () => renderDocx(await service.generate('2026-Q3', scope)), cold);

  // Where the time goes.
  const data = await medianOf(() => loadReportData(es, idx, Q3, Q2, scope), cold);
  const postsAgg = await medianOf(() => es.search({ index: idx.posts, ...(data.value.queries.posts!.body as object) }), cold);
  const alertScan = await medianOf(async () => {
    let n = 0;
    let after: estypes.SortResults | undefined;
    for (;;) {
      const res = await es.search({ index: idx.alerts, size: 2000, query: { range: { createdAt: { gte: Q3.from.toISOString(), lt: Q3.to.toISOString() } } }, sort: [{ createdAt: 'asc' }, { id: 'asc' }], ...(after ? { search_after: after } : {}) });
      n += res.hits.hits.length;
      if (res.hits.hits.length < 2000) return n;
      after = res.hits.hits[res.hits.hits.length - 1]!.sort;
    }
  });
  const charts = report.sections.flatMap((s) => s.charts);
  const chartTimes = await medianOf(() =>
    charts.map((c) => {
      const t0 = performance.now();
      chartToPng(c, 720, 360, 2);
      return performance.now() - t0;
    }),
  );
  const perChart = chartTimes.value;
  const docxNoCharts = await medianOf(() => renderDocx(report, { charts: false }));
  const bytes = (await renderDocx(report)).length;
  const maxRss = process.resourceUsage().maxRSS * 1024;

  const rows: [string, string][] = [
    ['ReportService.generate(2026-Q3, unit)', `${fmt(generate.ms)} (runs ${generate.runs.map(fmt).join(', ')})`],
    ['renderDocx(report)', `${fmt(docx.ms)} (runs ${docx.runs.map(fmt).join(', ')}); ${(bytes / 1024).toFixed(0)} KiB, ${charts.length} charts`],
    ['generate + render DOCX', `${fmt(both.ms)} (runs ${both.runs.map(fmt).join(', ')})`],
    ['  loadReportData (all queries in parallel)', fmt(data.ms)],
    ['  posts aggregations alone', `${fmt(postsAgg.ms)} (last run: ES took ${postsAgg.value.took} ms)`],
    ['  one alert scan (Q3, search_after × 2000)', `${fmt(alertScan.ms)} (${alertScan.value} alerts)`],
    ['  renderDocx without charts', fmt(docxNoCharts.ms)],
    ['  chart PNGs, one after another', `${fmt(chartTimes.ms)} (${perChart.map((ms) => Math.round(ms)).join(' + ')} ms)`],
    ['peak RSS (resourceUsage maxRSS)', mb(maxRss)],
    ['heap used / rss now (memoryUsage)', `${mb(process.memoryUsage().heapUsed)} / ${mb(process.memoryUsage().rss)}`],
  ];
  console.log(`\n| step | median of ${RUNS} after 1 warm-up |\n|---|---|`);
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(`\nreport: ${report.sections.length} sections; posts total ${report.sections[0]?.figures.find((f) => f.label === '采集信息总量')?.value}; load average ${load1()}`);
  const ok = both.ms <= TARGET_MS;
  console.log(ok ? `generate + DOCX ${fmt(both.ms)} ≤ 10 s ✓` : `generate + DOCX ${fmt(both.ms)} > 10 s ✗`);
  return ok ? 0 : 1;
}

let code: number;
try {
  code = await main();
} catch (err) {
  console.error(err);
  code = 1;
} finally {
  await es.indices.delete({ index: Object.values(idx), ignore_unavailable: true }).catch((err: unknown) => console.error('could not delete the bench indices', err));
  await es.close();
}
process.exit(code);
