import type { InspectionPolicy } from './inspection-policy.js';
import type { ColumnMeasurement, WebsiteMeasurements } from './website-measurements.js';

export type FindingStatus = 'pass' | 'warn' | 'fail' | 'unknown';

/** The 单项否决 items, with the column item split into its three countable rules. */
export type InspectionItem = 'availability' | 'home-page' | 'columns-stale' | 'columns-long-stale' | 'columns-blank' | 'interaction' | 'misstatements' | 'new-media-update';

export const ITEM_LABELS: Record<InspectionItem, string> = {
  availability: '站点无法访问',
  'home-page': '首页不更新',
  'columns-stale': '栏目不更新（动态要闻、通知公告、政策文件）',
  'columns-long-stale': '栏目不更新（长期未更新栏目）',
  'columns-blank': '栏目不更新（空白栏目）',
  interaction: '互动回应差',
  misstatements: '严重表述错误',
  'new-media-update': '政务新媒体不更新',
};

export type FindingReason =
  // any item
  | 'never-crawled'
  // availability
  | 'no-probes'
  | 'too-few-days'
  | 'too-few-probes'
  | 'failure-share-over'
  | 'failure-share-near'
  | 'reachable'
  // home page
  | 'no-dated-item'
  | 'stale'
  | 'stale-soon'
  | 'updated'
  // columns
  | 'too-many-stale'
  | 'stale-near-limit'
  | 'too-many-long-stale'
  | 'long-stale-near-limit'
  | 'too-many-blank'
  | 'blank-present'
  | 'within-limit'
  // interaction
  | 'no-message-board'
  | 'unanswered-over-limit'
  | 'unanswered-near-limit'
  | 'answered'
  // misstatements
  | 'serious-misstatement'
  | 'typos-over-limit'
  | 'typos-present'
  | 'none-found'
  // new media
  | 'zombie'
  | 'posting';

/** A row of a finding's trace: one thing that was counted, for the user to check. */
export type TraceRow = Record<string, string | number | boolean | null>;

export interface FindingTrace {
  /** What was counted and where it came from, in Chinese. */
  counted: string;
  rows: TraceRow[];
  /** Rows there were in all; `rows` holds at most `MAX_TRACE_ROWS`. */
  rowsTotal: number;
}

export interface InspectionFinding {
  item: InspectionItem;
  label: string;
  status: FindingStatus;
  reason: FindingReason;
  /** Why, in Chinese, for the page. */
  message: string;
  /** The measured figure (null when nothing could be measured). */
  figure: { value: number | null; text: string };
  threshold: { value: number; text: string };
  trace: FindingTrace;
}

export interface WebsiteInspection {
  sourceId: string;
  at: string;
  /** Fail when any item fails (单项否决); else warn, else unknown while any item lacks data, else pass. */
  verdict: FindingStatus;
  findings: InspectionFinding[];
}

export const MAX_TRACE_ROWS = 50;
const DAY_MS = 86_400_000;

function ageDays(at: string, now: Date): number {
  return (now.getTime() - Date.parse(at)) / DAY_MS;
}
const days = (d: number): string => `${Math.floor(d)} 天`;
const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

function trace(counted: string, all: TraceRow[]): FindingTrace {
  return { counted, rows: all.slice(0, MAX_TRACE_ROWS), rowsTotal: all.length };
}

function finding(item: InspectionItem, f: Omit<InspectionFinding, 'item' | 'label'>): InspectionFinding {
  return { item, label: ITEM_LABELS[item], ...f };
}

/**
 * 站点无法访问: probes of the last `windowDays` 24-hour days, each day with at least
 * `minProbesPerDay` probes (else unknown: the figure would not be the inspector's). A probe fails
 * when it errs or takes `timeoutSeconds` or longer; the item fails at a failure share ≥ `failShare`.
 */
export function inspectAvailability(m: Pick<WebsiteMeasurements, 'probes'>, p: InspectionPolicy['availability'], now: Date): InspectionFinding {
  const from = now.getTime() - p.windowDays * DAY_MS;
  const probes = m.probes.filter((x) => Date.parse(x.at) >= from && Date.parse(x.at) <= now.getTime()).sort((a, b) => a.at.localeCompare(b.at));
  const failed = (x: (typeof probes)[number]) => !x.ok || x.durationMs >= p.timeoutSeconds * 1000;
  const failures = probes.filter(failed);
  const share = probes.length === 0 ? 0 : failures.length / probes.length;
  // Day i is the 24 hours [now − (i+1) d, now − i d): independent of time zones and of when `now` falls.
  const perDay = Array.from({ length: p.windowDays }, (_, i) => {
    const end = now.getTime() - i * DAY_MS;
    const inDay = probes.filter((x) => Date.parse(x.at) >= end - DAY_MS && (i === 0 ? Date.parse(x.at) <= end : Date.parse(x.at) < end));
    return { day: i + 1, from: new Date(end - DAY_MS).toISOString(), probes: inDay.length, failures: inDay.filter(failed).length };
  }).reverse();
  const threshold = { value: p.failShare, text: `失败占比 ≥${percent(p.failShare)}（连续 ${p.windowDays} 天、每天 ≥${p.minProbesPerDay} 次、超时 ${p.timeoutSeconds} 秒）` };
  const figure = { value: probes.length === 0 ? null : share, text: probes.length === 0 ? '无探测记录' : `${percent(share)}（${failures.length}/${probes.length} 次失败）` };
  const rows: TraceRow[] = [
    ...perDay.map((d) => ({ kind: '每日探测', day: d.day, from: d.from, probes: d.probes, failures: d.failures })),
    ...failures.map((x) => ({ kind: '失败探测', at: x.at, status: x.status ?? null, errorClass: x.errorClass ?? (x.ok ? 'slow' : null), durationMs: x.durationMs })),
  ];
  const t = trace(`近 ${p.windowDays} 天对首页的可用性探测（每行一天或一次失败）；失败 = 出错或耗时 ≥${p.timeoutSeconds} 秒`, rows);
  if (probes.length === 0) return finding('availability', { status: 'unknown', reason: 'no-probes', message: '尚无可用性探测记录，数据不足', figure, threshold, trace: t });
  const coveredDays = ageDays(probes[0]!.at, now);
  const thinDay = perDay.find((d) => d.probes < p.minProbesPerDay);
  if (thinDay && coveredDays < p.windowDays - 1 / 24) {
    return finding('availability', { status: 'unknown', reason: 'too-few-days', message: `探测仅覆盖 ${coveredDays.toFixed(1)} 天，需满 ${p.windowDays} 天（当前失败占比 ${percent(share)}）`, figure, threshold, trace: t });
  }
  if (thinDay) {
    return finding('availability', { status: 'unknown', reason: 'too-few-probes', message: `第 ${thinDay.day} 天仅探测 ${thinDay.probes} 次，少于每天 ${p.minProbesPerDay} 次（当前失败占比 ${percent(share)}）`, figure, threshold, trace: t });
  }
  if (share >= p.failShare) return finding('availability', { status: 'fail', reason: 'failure-share-over', message: `近 ${p.windowDays} 天 ${failures.length} 次探测失败，占 ${percent(share)}，达到 ${percent(p.failShare)} 的否决线`, figure, threshold, trace: t });
  if (share >= p.warnShare) return finding('availability', { status: 'warn', reason: 'failure-share-near', message: `失败占比 ${percent(share)}，接近 ${percent(p.failShare)} 的否决线`, figure, threshold, trace: t });
  return finding('availability', { status: 'pass', reason: 'reachable', message: `失败占比 ${percent(share)}，低于 ${percent(p.failShare)}`, figure, threshold, trace: t });
}

function columnRow(c: ColumnMeasurement, now: Date, state: string): TraceRow {
  return { kind: '栏目', name: c.name, url: c.url, type: c.type, items: c.items, undated: c.undated, newestAt: c.newestAt ?? null, ageDays: c.newestAt ? Math.floor(ageDays(c.newestAt, now)) : null, state };
}

/** 首页不更新: the newest dated item over all columns; items without a date never count as an update. */
export function inspectHomePage(m: Pick<WebsiteMeasurements, 'crawled' | 'columns'>, p: InspectionPolicy['homePage'], now: Date): InspectionFinding {
  const threshold = { value: p.staleDays, text: `${p.staleDays} 天内有带日期的新信息（预警 ${p.warnDays} 天）` };
  const dated = m.columns.filter((c) => c.newestAt !== undefined).sort((a, b) => b.newestAt!.localeCompare(a.newestAt!));
  const newest = dated[0]?.newestAt;
  const t = trace('首页及各栏目中带发布日期的最新信息（无日期的信息视为未更新）', m.columns.map((c) => columnRow(c, now, c.newestAt === newest && newest !== undefined ? '最新' : '')));
  if (!m.crawled) return finding('home-page', { status: 'unknown', reason: 'never-crawled', message: '网站尚未成功采集，数据不足', figure: { value: null, text: '未采集' }, threshold, trace: t });
  if (newest === undefined) return finding('home-page', { status: 'fail', reason: 'no-dated-item', message: '首页及栏目中没有带发布日期的信息，按规则视为不更新', figure: { value: null, text: '无带日期信息' }, threshold, trace: t });
  const age = ageDays(newest, now);
  const figure = { value: Math.floor(age), text: `${days(age)}未更新（最新 ${newest.slice(0, 10)}）` };
  if (age >= p.staleDays) return finding('home-page', { status: 'fail', reason: 'stale', message: `首页已 ${days(age)}无更新，达到 ${p.staleDays} 天的否决线`, figure, threshold, trace: t });
  if (age >= p.warnDays) return finding('home-page', { status: 'warn', reason: 'stale-soon', message: `首页已 ${days(age)}无更新，${Math.ceil(p.staleDays - age)} 天后达到否决线`, figure, threshold, trace: t });
  return finding('home-page', { status: 'pass', reason: 'updated', message: `首页 ${days(age)}前有更新`, figure, threshold, trace: t });
}

type ColumnState = 'blank' | 'undated' | 'stale' | 'stale-soon' | 'fresh' | 'static';

/** A column's state against its type's window: notice and policy columns have 6 months, news 2 weeks; `other` is never expected to update. */
export function columnState(c: ColumnMeasurement, p: InspectionPolicy['columns'], now: Date): ColumnState {
  if (c.items === 0) return 'blank';
  if (c.type === 'other') return 'static';
  if (c.newestAt === undefined) return 'undated';
  const [stale, warn] = c.type === 'news' ? [p.newsStaleDays, p.newsWarnDays] : [p.noticeStaleDays, p.noticeWarnDays];
  const age = ageDays(c.newestAt, now);
  return age >= stale ? 'stale' : age >= warn ? 'stale-soon' : 'fresh';
}

const STATE_TEXT: Record<ColumnState, string> = { blank: '空白', undated: '无日期（视为未更新）', stale: '超期未更新', 'stale-soon': '即将超期', fresh: '正常', static: '不要求更新' };

/** 栏目不更新, its three rules: stale columns, long-stale columns, blank columns; each counted against its own line. */
export function inspectColumns(m: Pick<WebsiteMeasurements, 'crawled' | 'columns'>, p: InspectionPolicy['columns'], now: Date): InspectionFinding[] {
  const states = m.columns.map((c) => ({ c, state: columnState(c, p, now) }));
  const longStale = (c: ColumnMeasurement) => c.type !== 'other' && c.items > 0 && (c.newestAt === undefined || ageDays(c.newestAt, now) >= p.longStaleDays);
  const rowsOf = (pick: (s: (typeof states)[number]) => boolean) => states.filter(pick).map((s) => columnRow(s.c, now, STATE_TEXT[s.state]));
  const never = (item: InspectionItem, threshold: InspectionFinding['threshold'], t: FindingTrace) =>
    finding(item, { status: 'unknown', reason: 'never-crawled', message: '网站尚未成功采集，数据不足', figure: { value: null, text: '未采集' }, threshold, trace: t });

  const staleCount = states.filter((s) => s.state === 'stale' || s.state === 'undated').length;
  const soonCount = states.filter((s) => s.state === 'stale-soon').length;
  const staleThreshold = { value: p.staleFailCount, text: `≥${p.staleFailCount} 个（动态要闻 ${p.newsStaleDays} 天、通知公告/政策文件 ${p.noticeStaleDays} 天）` };
  const staleTrace = trace('各栏目按类型对照更新时限：动态要闻类 2 周、通知公告/政策文件类 6 个月；无日期视为未更新', rowsOf(() => true));
  let stale: InspectionFinding;
  const staleFigure = { value: staleCount, text: `${staleCount} 个超期${soonCount > 0 ? `，${soonCount} 个即将超期` : ''}` };
  if (!m.crawled) stale = never('columns-stale', staleThreshold, staleTrace);
  else if (staleCount >= p.staleFailCount) stale = finding('columns-stale', { status: 'fail', reason: 'too-many-stale', message: `${staleCount} 个栏目超期未更新，达到 ${p.staleFailCount} 个的否决线`, figure: staleFigure, threshold: staleThreshold, trace: staleTrace });
  else if (staleCount + soonCount >= p.staleWarnCount) stale = finding('columns-stale', { status: 'warn', reason: 'stale-near-limit', message: `${staleCount} 个栏目超期、${soonCount} 个即将超期，接近 ${p.staleFailCount} 个的否决线`, figure: staleFigure, threshold: staleThreshold, trace: staleTrace });
  else stale = finding('columns-stale', { status: 'pass', reason: 'within-limit', message: `${staleCount} 个栏目超期，低于 ${p.staleFailCount} 个`, figure: staleFigure, threshold: staleThreshold, trace: staleTrace });

  const longRows = states.filter((s) => longStale(s.c)).map((s) => columnRow(s.c, now, `${p.longStaleDays} 天以上未更新`));
  const longCount = longRows.length;
  const longThreshold = { value: p.longStaleFailCount, text: `≥${p.longStaleFailCount} 个（${p.longStaleDays} 天以上未更新）` };
  const longTrace = trace(`应更新栏目中 ${p.longStaleDays} 天以上未更新或无日期的栏目`, longRows);
  const longFigure = { value: longCount, text: `${longCount} 个` };
  let long: InspectionFinding;
  if (!m.crawled) long = never('columns-long-stale', longThreshold, longTrace);
  else if (longCount >= p.longStaleFailCount) long = finding('columns-long-stale', { status: 'fail', reason: 'too-many-long-stale', message: `${longCount} 个栏目长期未更新，达到 ${p.longStaleFailCount} 个的否决线`, figure: longFigure, threshold: longThreshold, trace: longTrace });
  else if (longCount >= p.longStaleWarnCount) long = finding('columns-long-stale', { status: 'warn', reason: 'long-stale-near-limit', message: `${longCount} 个栏目长期未更新，接近 ${p.longStaleFailCount} 个的否决线`, figure: longFigure, threshold: longThreshold, trace: longTrace });
  else long = finding('columns-long-stale', { status: 'pass', reason: 'within-limit', message: `${longCount} 个栏目长期未更新，低于 ${p.longStaleFailCount} 个`, figure: longFigure, threshold: longThreshold, trace: longTrace });

  const blankRows = rowsOf((s) => s.state === 'blank');
  const blankCount = blankRows.length;
  const blankThreshold = { value: p.blankFailCount, text: `≥${p.blankFailCount} 个空白栏目` };
  const blankTrace = trace('已采集但没有任何信息的栏目', blankRows);
  const blankFigure = { value: blankCount, text: `${blankCount} 个` };
  let blank: InspectionFinding;
  if (!m.crawled) blank = never('columns-blank', blankThreshold, blankTrace);
  else if (blankCount >= p.blankFailCount) blank = finding('columns-blank', { status: 'fail', reason: 'too-many-blank', message: `${blankCount} 个空白栏目，达到 ${p.blankFailCount} 个的否决线`, figure: blankFigure, threshold: blankThreshold, trace: blankTrace });
  else if (blankCount >= p.blankWarnCount) blank = finding('columns-blank', { status: 'warn', reason: 'blank-present', message: `${blankCount} 个空白栏目，${p.blankFailCount} 个即不合格`, figure: blankFigure, threshold: blankThreshold, trace: blankTrace });
  else blank = finding('columns-blank', { status: 'pass', reason: 'within-limit', message: '没有空白栏目', figure: blankFigure, threshold: blankThreshold, trace: blankTrace });
  return [stale, long, blank];
}

/**
 * 互动回应差: unanswered 留言 of the last `lookbackDays` on the site's message boards; one older
 * than `unansweredDays` fails. Whether a 留言 is "valid" is for staff to judge: all are counted.
 */
export function inspectInteraction(m: Pick<WebsiteMeasurements, 'messageBoards' | 'boardsCrawled' | 'unanswered' | 'unansweredTotal'>, p: InspectionPolicy['interaction'], now: Date): InspectionFinding {
  const threshold = { value: p.unansweredDays, text: `有超过 ${p.unansweredDays} 天未回应的留言（预警 ${p.warnDays} 天）` };
  const inYear = m.unanswered.filter((x) => ageDays(x.publishedAt, now) <= p.lookbackDays);
  const rows = inYear.map((x) => ({ kind: '未回应留言', id: x.id, sourceId: x.sourceId, title: x.title ?? null, url: x.url, publishedAt: x.publishedAt, ageDays: Math.floor(ageDays(x.publishedAt, now)) }));
  const t = trace(`留言板（${m.messageBoards.join('、') || '无'}）近 ${p.lookbackDays} 天内尚无答复的留言，最早的在前；有效性需人工核实`, rows);
  t.rowsTotal = Math.max(t.rowsTotal, m.unansweredTotal);
  if (m.messageBoards.length === 0) return finding('interaction', { status: 'unknown', reason: 'no-message-board', message: '未配置与本网站同域的留言板阵地，无法核查互动回应', figure: { value: null, text: '无留言板' }, threshold, trace: t });
  if (!m.boardsCrawled) return finding('interaction', { status: 'unknown', reason: 'never-crawled', message: '留言板尚未成功采集，数据不足', figure: { value: null, text: '未采集' }, threshold, trace: t });
  const oldest = inYear[0];
  const oldestAge = oldest ? ageDays(oldest.publishedAt, now) : 0;
  const over = inYear.filter((x) => ageDays(x.publishedAt, now) > p.unansweredDays).length;
  const near = inYear.filter((x) => ageDays(x.publishedAt, now) >= p.warnDays).length - over;
  const figure = { value: oldest ? Math.floor(oldestAge) : 0, text: oldest ? `最久 ${days(oldestAge)}未回应（${over} 条超期，${near} 条临近）` : '无未回应留言' };
  if (over > 0) return finding('interaction', { status: 'fail', reason: 'unanswered-over-limit', message: `${over} 条留言超过 ${p.unansweredDays} 天未回应，最久 ${days(oldestAge)}`, figure, threshold, trace: t });
  if (near > 0) return finding('interaction', { status: 'warn', reason: 'unanswered-near-limit', message: `${near} 条留言已 ${p.warnDays} 天以上未回应，${Math.ceil(p.unansweredDays - oldestAge)} 天后超期`, figure, threshold, trace: t });
  return finding('interaction', { status: 'pass', reason: 'answered', message: oldest ? `未回应留言最久 ${days(oldestAge)}，未超期` : '没有未回应的留言', figure, threshold, trace: t });
}

/** 严重表述错误: one hit of a fail category fails; typos fail above `typoFailAbove` and warn from one. */
export function inspectMisstatements(m: Pick<WebsiteMeasurements, 'crawled' | 'misstatements'>, p: InspectionPolicy['misstatements'], now: Date): InspectionFinding {
  const hits = m.misstatements.filter((h) => ageDays(h.at, now) <= p.periodDays && (p.failCategories.includes(h.category) || p.typoCategories.includes(h.category)));
  const serious = hits.filter((h) => p.failCategories.includes(h.category));
  const typos = hits.filter((h) => p.typoCategories.includes(h.category));
  const threshold = { value: p.typoFailAbove, text: `严重表述错误 ≥1 处，或严重错别字 >${p.typoFailAbove} 处` };
  const t = trace(`本网站自有页面（文章、附件）近 ${p.periodDays} 天的${[...p.failCategories, ...p.typoCategories].join('、')}命中`, hits.map((h) => ({ kind: h.category, term: h.term, suggestion: h.suggestion ?? null, title: h.title ?? null, url: h.url, at: h.at, postId: h.postId })));
  const figure = { value: hits.length, text: `严重表述错误 ${serious.length} 处，错别字 ${typos.length} 处` };
  if (!m.crawled) return finding('misstatements', { status: 'unknown', reason: 'never-crawled', message: '网站尚未成功采集，数据不足', figure: { value: null, text: '未采集' }, threshold, trace: t });
  if (serious.length > 0) return finding('misstatements', { status: 'fail', reason: 'serious-misstatement', message: `发现 ${serious.length} 处严重表述错误（如“${serious[0]!.term}”）`, figure, threshold, trace: t });
  if (typos.length > p.typoFailAbove) return finding('misstatements', { status: 'fail', reason: 'typos-over-limit', message: `严重错别字 ${typos.length} 处，超过 ${p.typoFailAbove} 处`, figure, threshold, trace: t });
  if (typos.length > 0) return finding('misstatements', { status: 'warn', reason: 'typos-present', message: `严重错别字 ${typos.length} 处，超过 ${p.typoFailAbove} 处即不合格`, figure, threshold, trace: t });
  return finding('misstatements', { status: 'pass', reason: 'none-found', message: '未发现严重表述错误', figure, threshold, trace: t });
}

export function verdictOf(findings: readonly Pick<InspectionFinding, 'status'>[]): FindingStatus {
  for (const s of ['fail', 'warn', 'unknown'] as const) if (findings.some((f) => f.status === s)) return s;
  return 'pass';
}

/** Judges one website position by the inspector's rules, one finding per item; pure. */
export function inspectWebsite(m: WebsiteMeasurements, policy: InspectionPolicy, now: Date): WebsiteInspection {
  const findings = [
    inspectAvailability(m, policy.availability, now),
    inspectHomePage(m, policy.homePage, now),
    ...inspectColumns(m, policy.columns, now),
    inspectInteraction(m, policy.interaction, now),
    inspectMisstatements(m, policy.misstatements, now),
  ];
  return { sourceId: m.sourceId, at: now.toISOString(), verdict: verdictOf(findings), findings };
}

/** What a new-media position's collection health says (crawlers/shared/source-health.ts `HealthView`). */
export interface NewMediaHealth {
  zombie: boolean;
  zombieDays: number;
  lastSuccessAt?: string;
  newestPublishedAt?: string;
  lastNewItemAt?: string;
}

/**
 * 政务新媒体不更新: the positions' existing zombie flag (no post in `zombieDays`, 14 by default, 10 in
 * some localities) read as an inspection finding; nothing is measured twice.
 */
export function inspectNewMedia(sourceId: string, h: NewMediaHealth, now: Date): WebsiteInspection {
  const newest = h.newestPublishedAt ?? h.lastNewItemAt;
  const threshold = { value: h.zombieDays, text: `${h.zombieDays} 天内有新发布` };
  const t = trace('阵地健康记录的最新发布时间（僵尸阵地判定）', [{ kind: '阵地健康', lastSuccessAt: h.lastSuccessAt ?? null, newestPublishedAt: h.newestPublishedAt ?? null, lastNewItemAt: h.lastNewItemAt ?? null }]);
  const figure = newest ? { value: Math.floor(ageDays(newest, now)), text: `${days(ageDays(newest, now))}未更新（最新 ${newest.slice(0, 10)}）` } : { value: null, text: '无带日期内容' };
  let f: InspectionFinding;
  if (h.lastSuccessAt === undefined) f = finding('new-media-update', { status: 'unknown', reason: 'never-crawled', message: '账号尚未成功采集，数据不足', figure: { value: null, text: '未采集' }, threshold, trace: t });
  else if (h.zombie) f = finding('new-media-update', { status: 'fail', reason: 'zombie', message: `超过 ${h.zombieDays} 天未发布，疑似僵尸账号`, figure, threshold, trace: t });
  else f = finding('new-media-update', { status: 'pass', reason: 'posting', message: `${h.zombieDays} 天内有发布`, figure, threshold, trace: t });
  return { sourceId, at: now.toISOString(), verdict: f.status, findings: [f] };
}
