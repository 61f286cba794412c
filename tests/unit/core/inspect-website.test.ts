import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config/load-config.js';
import { configDir } from '../../../core/paths.js';
import { decideInspectionNotice, NOTIFYING_NOTICES } from '../../../core/inspection/inspection-notice.js';
import { inspectAvailability, inspectColumns, inspectHomePage, inspectInteraction, inspectMisstatements, inspectNewMedia, inspectWebsite, verdictOf } from '../../../core/inspection/inspect-website.js';
import { DEFAULT_INSPECTION_CONFIG, DEFAULT_INSPECTION_POLICY as P, InspectionPolicySchema, type InspectionConfig } from '../../../core/inspection/inspection-policy.js';
import type { ColumnMeasurement, MisstatementHit, Probe, UnansweredMessage, WebsiteMeasurements } from '../../../core/inspection/website-measurements.js';
import { columnPrefix, SourceSchema, websiteColumns, type WebsiteSource } from '../../../core/sources/source.js';

const NOW = new Date('2026-12-07T10:00:00.000Z');
const H = 3_600_000;
const D = 24 * H;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

/**
 * `perDay` probes spread evenly over each of the last `days` 24-hour days; the first `failures`
 * of the window (oldest first) fail. `slowMs` makes every failure a slow success instead.
 */
function probes(perDay: number, days: number, failures = 0, opts: { slowMs?: number; thinDay?: { day: number; count: number } } = {}): Probe[] {
  const out: Probe[] = [];
  for (let d = days - 1; d >= 0; d--) {
    const n = opts.thinDay && opts.thinDay.day === d ? opts.thinDay.count : perDay;
    for (let i = 0; i < n; i++) out.push({ at: ago(d * D + (i + 0.5) * (D / n)), ok: true, status: 200, durationMs: 120 });
  }
  out.sort((a, b) => a.at.localeCompare(b.at));
  for (let i = 0; i < failures; i++) out[i] = opts.slowMs ? { ...out[i]!, durationMs: opts.slowMs } : { ...out[i]!, ok: false, errorClass: 'timeout', durationMs: 15_000 };
  return out;
}

describe('站点无法访问 (availability over 7 days, ≥20 probes a day, ≥5 % failures)', () => {
  it.each([
    // 20 a day for 7 days = 140 probes; 7 failures = exactly 5 %: 超过(含) fails
    ['exactly 5 % fails', probes(20, 7, 7), 'fail', 'failure-share-over'],
    // 6/140 = 4.3 %: under the line but past the 3 % warning
    ['4.3 % warns', probes(20, 7, 6), 'warn', 'failure-share-near'],
    // 3/140 = 2.1 %
    ['2.1 % passes', probes(20, 7, 3), 'pass', 'reachable'],
    // 24 a day (the default prober), no failure
    ['24 a day, all up, passes', probes(24, 7), 'pass', 'reachable'],
    // one day with 19 probes: the figure is not the inspector's
    ['19 probes on one day is unknown', probes(20, 7, 0, { thinDay: { day: 3, count: 19 } }), 'unknown', 'too-few-probes'],
    // 19 a day every day, even with failures
    ['19 a day is unknown even when failing', probes(19, 7, 10), 'unknown', 'too-few-probes'],
    // 6 days of history only
    ['6 days of probes is unknown', probes(24, 6), 'unknown', 'too-few-days'],
    // no probes at all
    ['no probes is unknown, never a pass', [], 'unknown', 'no-probes'],
    // answering in exactly 15 s counts as a failure (超过(含) 15 秒)
    ['7 answers taking exactly 15 s fail', probes(20, 7, 7, { slowMs: 15_000 }), 'fail', 'failure-share-over'],
    // 14.999 s is still an answer
    ['answers just under 15 s pass', probes(20, 7, 7, { slowMs: 14_999 }), 'pass', 'reachable'],
  ])('%s', (_name, list, status, reason) => {
    const f = inspectAvailability({ probes: list }, P.availability, NOW);
    expect([f.status, f.reason]).toEqual([status, reason]);
  });

  it('keeps only the window and shows the figure and the per-day trace', () => {
    const list = [...probes(20, 7, 7), { at: ago(7.5 * D), ok: false, durationMs: 15_000 }];
    const f = inspectAvailability({ probes: list }, P.availability, NOW);
    expect(f.figure).toEqual({ value: 0.05, text: '5.0%（7/140 次失败）' });
    expect(f.threshold.value).toBe(0.05);
    expect(f.trace.rows.filter((r) => r.kind === '每日探测').map((r) => r.probes)).toEqual([20, 20, 20, 20, 20, 20, 20]);
    expect(f.trace.rows.filter((r) => r.kind === '失败探测')).toHaveLength(7);
  });
});

const col = (name: string, type: ColumnMeasurement['type'], newestAgoDays: number | undefined, items = 10, undated = 0): ColumnMeasurement => ({
  name,
  url: `http://site.test/${name}/`,
  type,
  items,
  undated,
  ...(newestAgoDays === undefined ? {} : { newestAt: ago(newestAgoDays * D) }),
});

describe('首页不更新 (2 weeks; an undated item is not an update)', () => {
  it.each([
    // newest item exactly 14 days old: no update within the 2 weeks
    ['exactly 14 days fails', true, [col('gzdt', 'news', 14)], 'fail', 'stale'],
    // 13.9 days: four days after the 10-day warning
    ['13.9 days warns', true, [col('gzdt', 'news', 13.9)], 'warn', 'stale-soon'],
    // exactly 10 days: the warning starts
    ['exactly 10 days warns', true, [col('gzdt', 'news', 10)], 'warn', 'stale-soon'],
    ['3 days passes', true, [col('gzdt', 'news', 3)], 'pass', 'updated'],
    // the freshest column decides
    ['any fresh column keeps the home page updated', true, [col('gzdt', 'news', 40), col('tzgg', 'notice', 2)], 'pass', 'updated'],
    // items exist but none has a date
    ['only undated items fails', true, [col('gzdt', 'news', undefined, 5, 5)], 'fail', 'no-dated-item'],
    // never crawled: unknown
    ['never crawled is unknown', false, [], 'unknown', 'never-crawled'],
  ])('%s', (_name, crawled, columns, status, reason) => {
    const f = inspectHomePage({ crawled, columns }, P.homePage, NOW);
    expect([f.status, f.reason]).toEqual([status, reason]);
  });
});

describe('栏目不更新 (stale ≥5, long-stale ≥10, blank ≥5)', () => {
  const many = (n: number, make: (i: number) => ColumnMeasurement) => Array.from({ length: n }, (_, i) => make(i));
  it.each([
    // 5 news columns at exactly 14 days
    ['5 news columns at 14 days fail', many(5, (i) => col(`n${i}`, 'news', 14)), ['fail', 'pass', 'pass']],
    // 4 stale news columns and nothing close: under the line, past the warning count (3)
    ['4 stale columns warn', many(4, (i) => col(`n${i}`, 'news', 20)), ['warn', 'pass', 'pass']],
    // 2 stale + 1 at 11 days = 3 stale or soon: warn
    ['2 stale and 1 soon warn', [col('a', 'news', 20), col('b', 'news', 15), col('c', 'news', 11)], ['warn', 'pass', 'pass']],
    // notice columns have 6 months: 100 days is fine
    ['notice columns at 100 days pass', many(5, (i) => col(`t${i}`, 'notice', 100)), ['pass', 'pass', 'pass']],
    // policy columns past 183 days count as stale
    ['5 policy columns at 183 days fail', many(5, (i) => col(`p${i}`, 'policy', 183)), ['fail', 'pass', 'pass']],
    // undated columns count as stale
    ['5 undated news columns fail', many(5, (i) => col(`u${i}`, 'news', undefined, 3, 3)), ['fail', 'pass', 'pass']],
    // `other` columns are never expected to update
    ['5 old `other` columns pass', many(5, (i) => col(`o${i}`, 'other', 400)), ['pass', 'pass', 'pass']],
    // 10 columns a year old: long-stale fails (and stale too)
    ['10 columns over a year fail long-stale', many(10, (i) => col(`l${i}`, 'notice', 365)), ['fail', 'fail', 'pass']],
    // 9 such columns: long-stale warns
    ['9 columns over a year warn long-stale', many(9, (i) => col(`l${i}`, 'notice', 400)), ['fail', 'warn', 'pass']],
    // 5 blank columns fail; blank columns are not counted as stale too
    ['5 blank columns fail', many(5, (i) => col(`b${i}`, 'news', undefined, 0)), ['pass', 'pass', 'fail']],
    // one blank column already warns (blankWarnCount 1)
    ['1 blank column warns', [col('b', 'news', undefined, 0), col('n', 'news', 1)], ['pass', 'pass', 'warn']],
  ])('%s', (_name, columns, statuses) => {
    const fs = inspectColumns({ crawled: true, columns }, P.columns, NOW);
    expect(fs.map((f) => f.item)).toEqual(['columns-stale', 'columns-long-stale', 'columns-blank']);
    expect(fs.map((f) => f.status)).toEqual(statuses);
  });

  it('is unknown on all three rules before the first crawl', () => {
    expect(inspectColumns({ crawled: false, columns: [] }, P.columns, NOW).map((f) => f.reason)).toEqual(['never-crawled', 'never-crawled', 'never-crawled']);
  });

  it('traces every column with its state', () => {
    const [stale] = inspectColumns({ crawled: true, columns: [col('gzdt', 'news', 20), col('tzgg', 'notice', 3, 4, 1)] }, P.columns, NOW);
    expect(stale!.trace.rows.map((r) => [r.name, r.state, r.ageDays])).toEqual([
      ['gzdt', '超期未更新', 20],
      ['tzgg', '正常', 3],
    ]);
  });
});

const msg = (agoDays: number, id = `m${agoDays}`): UnansweredMessage => ({ id, url: `http://site.test/lyb/${id}`, title: `留言 ${id}`, publishedAt: ago(agoDays * D), sourceId: 'board' });
const boards = (unanswered: UnansweredMessage[], over: Partial<Pick<WebsiteMeasurements, 'messageBoards' | 'boardsCrawled'>> = {}) => ({ messageBoards: ['board'], boardsCrawled: true, unanswered, unansweredTotal: unanswered.length, ...over });

describe('互动回应差 (a 留言 unanswered over 3 months fails, from 2.5 months warns)', () => {
  it.each([
    // 91 days: over 3 months
    ['one 留言 at 91 days fails', boards([msg(91), msg(5)]), 'fail', 'unanswered-over-limit'],
    // exactly 90 days is not over 3 months yet
    ['exactly 90 days warns', boards([msg(90)]), 'warn', 'unanswered-near-limit'],
    // 75 days: the warning starts
    ['75 days warns', boards([msg(75)]), 'warn', 'unanswered-near-limit'],
    ['74 days passes', boards([msg(74)]), 'pass', 'answered'],
    ['nothing unanswered passes', boards([]), 'pass', 'answered'],
    // older than the 1-year lookback: outside the inspection
    ['a 留言 of 400 days ago is outside the year', boards([msg(400)]), 'pass', 'answered'],
    // no message board configured for the site
    ['no board is unknown', boards([], { messageBoards: [] }), 'unknown', 'no-message-board'],
    // board never crawled
    ['board never crawled is unknown', boards([], { boardsCrawled: false }), 'unknown', 'never-crawled'],
  ])('%s', (_name, m, status, reason) => {
    const f = inspectInteraction(m, P.interaction, NOW);
    expect([f.status, f.reason]).toEqual([status, reason]);
  });

  it('names the oldest 留言 and its age', () => {
    const f = inspectInteraction(boards([msg(120, 'old'), msg(10, 'new')]), P.interaction, NOW);
    expect(f.figure.value).toBe(120);
    expect(f.trace.rows[0]).toMatchObject({ id: 'old', ageDays: 120 });
  });
});

const hit = (category: string, term = '中华人民共合国', agoDays = 10): MisstatementHit => ({ postId: `p-${term}-${agoDays}`, url: 'http://site.test/a.html', at: ago(agoDays * D), term, category, suggestion: '中华人民共和国' });

describe('严重表述错误 (one serious misstatement fails; more than 3 typos fail)', () => {
  it.each([
    // 4 typos: more than 3
    ['4 typos fail', [hit('错敏词'), hit('错敏词'), hit('错敏词'), hit('错敏词')], 'fail', 'typos-over-limit'],
    // exactly 3: not more than 3
    ['exactly 3 typos warn', [hit('错敏词'), hit('错敏词'), hit('错敏词')], 'warn', 'typos-present'],
    ['1 typo warns', [hit('错敏词')], 'warn', 'typos-present'],
    // one serious misstatement is enough
    ['1 serious misstatement fails', [hit('严重表述错误', '台湾总统')], 'fail', 'serious-misstatement'],
    // hits older than the period do not count
    ['typos older than a year pass', [hit('错敏词', 'x', 400), hit('错敏词', 'x', 400), hit('错敏词', 'x', 400), hit('错敏词', 'x', 400)], 'pass', 'none-found'],
    // other categories are not misstatements
    ['sensitive words are not misstatements', [hit('敏感词', '某词')], 'pass', 'none-found'],
    ['nothing found passes', [], 'pass', 'none-found'],
  ])('%s', (_name, misstatements, status, reason) => {
    const f = inspectMisstatements({ crawled: true, misstatements }, P.misstatements, NOW);
    expect([f.status, f.reason]).toEqual([status, reason]);
  });

  it('is unknown before the first crawl', () => {
    expect(inspectMisstatements({ crawled: false, misstatements: [] }, P.misstatements, NOW).status).toBe('unknown');
  });
});

describe('a whole website', () => {
  const healthy: WebsiteMeasurements = {
    sourceId: 'site',
    probes: probes(24, 7),
    crawled: true,
    columns: [col('gzdt', 'news', 2), col('tzgg', 'notice', 30)],
    messageBoards: ['board'],
    boardsCrawled: true,
    unanswered: [msg(3)],
    unansweredTotal: 1,
    misstatements: [],
  };

  it.each([
    ['all items pass', healthy, 'pass'],
    // one failing item fails the site (单项否决)
    ['one failing item fails the site', { ...healthy, unanswered: [msg(100)] }, 'fail'],
    ['a warning without failures warns', { ...healthy, misstatements: [hit('错敏词')] }, 'warn'],
    // missing probe history: cannot say pass
    ['a passing site without a week of probes is unknown', { ...healthy, probes: probes(24, 2) }, 'unknown'],
  ])('%s', (_name, m, verdict) => {
    const r = inspectWebsite(m, P, NOW);
    expect(r.verdict).toBe(verdict);
    expect(r.findings.map((f) => f.item)).toEqual(['availability', 'home-page', 'columns-stale', 'columns-long-stale', 'columns-blank', 'interaction', 'misstatements']);
  });

  it.each([
    [['pass', 'warn', 'unknown'], 'warn'],
    [['pass', 'unknown'], 'unknown'],
    [['warn', 'fail'], 'fail'],
    [[], 'pass'],
  ] as const)('verdict of %j is %s', (statuses, verdict) => {
    expect(verdictOf(statuses.map((status) => ({ status })))).toBe(verdict);
  });

  it('takes every number from the policy (a locality with 10 days for the home page)', () => {
    const policy = InspectionPolicySchema.parse({ homePage: { staleDays: 10, warnDays: 7 } });
    expect(inspectHomePage({ crawled: true, columns: [col('gzdt', 'news', 10)] }, policy.homePage, NOW).status).toBe('fail');
  });
});

describe('政务新媒体不更新 (the zombie flag of the positions health)', () => {
  it.each([
    ['a zombie account fails', { zombie: true, zombieDays: 14, lastSuccessAt: ago(H), newestPublishedAt: ago(20 * D) }, 'fail', 'zombie'],
    ['an account posting passes', { zombie: false, zombieDays: 14, lastSuccessAt: ago(H), newestPublishedAt: ago(2 * D) }, 'pass', 'posting'],
    ['never collected is unknown', { zombie: false, zombieDays: 10 }, 'unknown', 'never-crawled'],
  ])('%s', (_name, h, status, reason) => {
    const r = inspectNewMedia('wx', h, NOW);
    expect([r.findings[0]!.status, r.findings[0]!.reason, r.verdict]).toEqual([status, reason, status]);
  });
});

describe('website columns (栏目) of a source', () => {
  const site = (columns?: unknown) => SourceSchema.parse({ id: 'site', kind: 'website', name: '门户', owner: { section: '办公室', person: '李明' }, entryPoints: ['http://site.test/xwzx/gzdt/index.html', 'http://site.test/'], ...(columns ? { columns } : {}) }) as WebsiteSource;

  it.each([
    // a CMS list page: its details live in its directory
    ['http://site.test/xwzx/gzdt/index.html', undefined, 'http://site.test/xwzx/gzdt/'],
    // a directory URL is its own prefix; the query is dropped
    ['http://site.test/xxgk/zcwj/?page=2', undefined, 'http://site.test/xxgk/zcwj/'],
    // a declared prefix wins
    ['http://site.test/list.jsp?c=12', 'http://site.test/art/c12/', 'http://site.test/art/c12/'],
  ])('the items of %s live under %s → %s', (url, prefix, expected) => {
    expect(columnPrefix({ url, ...(prefix ? { prefix } : {}) })).toBe(expected);
  });

  it('without declared columns, each entry point is a news column', () => {
    expect(websiteColumns(site()).map((c) => [c.name, c.type])).toEqual([
      ['/xwzx/gzdt/index.html', 'news'],
      ['/', 'news'],
    ]);
  });

  it('declared columns keep their types; the type defaults to news', () => {
    expect(websiteColumns(site([{ name: '通知公告', url: 'http://site.test/tzgg/index.html', type: 'notice' }, { name: '要闻', url: 'http://site.test/yw/' }])).map((c) => c.type)).toEqual(['notice', 'news']);
  });

  it('refuses an unknown column type', () => {
    expect(() => site([{ name: 'x', url: 'http://site.test/x/', type: 'blog' }])).toThrow();
  });
});

describe('the inspection numbers in config (inspection: in config/qianshao.yaml)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qs-inspection-config-'));
  const missing = path.join(dir, 'missing.yaml');

  it('defaults to the rules’ numbers, and the shipped YAML says the same', () => {
    const defaults = loadConfig({}, missing).inspection;
    expect(defaults).toEqual(DEFAULT_INSPECTION_CONFIG);
    expect([defaults.availability.failShare, defaults.availability.minProbesPerDay, defaults.availability.timeoutSeconds, defaults.homePage.staleDays, defaults.interaction.unansweredDays, defaults.prober.everyMinutes]).toEqual([0.05, 20, 15, 14, 90, 60]);
    expect(loadConfig({}, path.join(configDir, 'qianshao.yaml')).inspection).toEqual(DEFAULT_INSPECTION_CONFIG);
  });

  it.each([
    // a locality with 10 days for the home page, from YAML
    ['inspection:\n  homePage: { staleDays: 10, warnDays: 7 }\n', {}, (c: InspectionConfig) => c.homePage.staleDays, 10],
    // the prober's interval from env
    ['', { PROBE_EVERY_MINUTES: '30' }, (c: InspectionConfig) => c.prober.everyMinutes, 30],
  ])('takes %j / %j', (yaml, env, pick, expected) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    expect(pick(loadConfig(env, file).inspection)).toBe(expected);
  });

  it('refuses a failure share above 100 %, naming the field', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'inspection:\n  availability: { failShare: 5 }\n');
    expect(() => loadConfig({}, file)).toThrow(/inspection\.availability\.failShare/);
  });
});

describe('when a finding tells the people who answer for the position', () => {
  it.each([
    // first check ever, already failing
    [undefined, 'fail', 'became-fail', true],
    [undefined, 'warn', 'became-warn', true],
    [undefined, 'pass', 'unchanged', false],
    // from pass to warn: the warning before the line
    ['pass', 'warn', 'became-warn', true],
    ['warn', 'fail', 'became-fail', true],
    // a week of probes completes on a failing site
    ['unknown', 'fail', 'became-fail', true],
    // still failing: told once, not every hour
    ['fail', 'fail', 'unchanged', false],
    ['warn', 'warn', 'unchanged', false],
    ['fail', 'warn', 'eased', false],
    ['fail', 'pass', 'recovered', false],
    // the probes went missing: no news either way
    ['fail', 'unknown', 'no-data', false],
  ] as const)('%s → %s is %s', (previous, current, notice, notifies) => {
    const n = decideInspectionNotice(previous, current);
    expect([n, NOTIFYING_NOTICES.has(n)]).toEqual([notice, notifies]);
  });
});
