import type { Client, estypes } from '@elastic/elasticsearch';
import type { Period } from '../core/reports/period.js';
import type { ReportScope } from '../core/reports/report.js';
import { translateEsError } from '../pipeline/elasticsearch/es-client.js';
import type { LedgerSource } from '../core/ledger/ledger-item.js';
import { LEDGER_SOURCE_NAMES } from '../core/labels.js';

const SIGNAL_SCOPE: Record<string, string> = { position: '阵地', term: '话题词', category: '类别', domain: '领域', deletions: '删帖' };
const SIGNAL_REASON: Record<string, string> = { 'volume-surge': '信息量异常上升', 'negative-shift': '负面占比上升' };

/**
 * What a report is built from, read from Elasticsearch in a handful of aggregations plus one scan of
 * the period's alerts (timeliness needs each alert's own clocks). Indices that do not exist yet (no
 * ledger item ever, no event) read as empty, never as an error.
 */

export interface Bucket {
  key: string;
  count: number;
}

export interface AlertRow {
  id: string;
  title: string;
  level: 1 | 2 | 3 | 4;
  status: string;
  category: string;
  sourceId: string;
  createdAt: string;
  /** Start of the current cycle (creation, or the last reopen): the deadlines count from here. */
  cycleStartedAt: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  respondedAt?: string;
  closedAt?: string;
  escalationStep: number;
  assignee?: string;
  ackDeadlineSeconds: number;
  respondDeadlineSeconds: number;
  heat: number;
  eventId?: string;
}

export interface EventRow {
  id: string;
  title: string;
  heat: number;
  posts: number;
  firstSeen: string;
  lastSeen: string;
  sourceIds: string[];
  /** Posts of the event per hour (short periods) or day, by sentiment: its timeline and sentiment over time. */
  timeline: { at: string; count: number; negative: number; neutral: number; positive: number }[];
  /** Representative posts: the earliest and the most-discussed (hostile text: render as text). */
  representative: { id: string; title: string; sourceId: string; at: string; sentiment?: string }[];
}

export interface LedgerRow {
  id: string;
  problem: string;
  origin: string;
  responsible: string;
  section: string;
  deadline: string;
  status: string;
  createdAt: string;
  closedAt?: string;
}

export interface ReportData {
  posts: {
    total: number;
    previousTotal: number;
    bySource: Bucket[];
    byKind: Bucket[];
    byDomain: Bucket[];
    bySentiment: Bucket[];
    perDay: { date: string; count: number; negative: number }[];
    keywords: Bucket[];
    /** Unanswered 留言 at the period's end, by age. */
    unansweredByAge: { under1Month: number; months1to3: number; over3Months: number };
    /** Newest item per source over all time, for zombie positions. */
    lastItemBySource: Record<string, string>;
    /** Posts found deleted (删除数) and reworded (修改数) in the period, per position, whenever they were published. */
    deletedBySource: Bucket[];
    editedBySource: Bucket[];
  };
  alerts: AlertRow[];
  previousAlerts: AlertRow[];
  events: EventRow[];
  signals: { at: string; subject: string; reason: string }[];
  ledger: LedgerRow[];
  queries: Record<string, { index: string; body: unknown }>;
}

export interface ReportIndices {
  posts: string;
  alerts: string;
  events?: string;
  signals?: string;
  ledger?: string;
}

const DEFAULT_ACK_SECONDS: Record<number, number> = { 1: 900, 2: 900, 3: 1800, 4: 3600 };
const DEFAULT_RESPOND_SECONDS: Record<number, number> = { 1: 5 * 3600, 2: 5 * 3600, 3: 48 * 3600, 4: 48 * 3600 };
const LEVEL_KEY: Record<number, string> = { 1: 'red', 2: 'orange', 3: 'yellow', 4: 'blue' };

function range(field: string, from: Date, to: Date): estypes.QueryDslQueryContainer {
  return { range: { [field]: { gte: from.toISOString(), lt: to.toISOString() } } };
}

function postScope(scope: ReportScope): estypes.QueryDslQueryContainer[] {
  if (scope.kind === 'source') return [{ term: { sourceId: scope.id } }];
  if (scope.kind === 'domain') return [{ term: { domain: scope.name } }];
  return [];
}

function buckets(agg: unknown): Bucket[] {
  const list = (agg as { buckets?: { key: string | number; key_as_string?: string; doc_count: number }[] } | undefined)?.buckets ?? [];
  return list.map((b) => ({ key: String(b.key_as_string ?? b.key), count: b.doc_count }));
}

function interval(period: Period): 'day' | 'week' | 'month' {
  const days = (period.to.getTime() - period.from.getTime()) / 86_400_000;
  return days <= 92 ? 'day' : days <= 200 ? 'week' : 'month';
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function toAlertRow(src: Record<string, unknown>): AlertRow {
  const level = ([1, 2, 3, 4].includes(src.level as number) ? src.level : 4) as AlertRow['level'];
  const levelPolicy = ((src.policy as { levels?: Record<string, { acknowledgeSeconds?: number; respondSeconds?: number }> } | undefined)?.levels ?? {})[LEVEL_KEY[level]!];
  const assignee = src.assignee as { name?: string; id?: string } | undefined;
  return {
    id: String(src.id),
    title: String(src.title ?? ''),
    level,
    status: String(src.status ?? 'new'),
    category: String(src.category ?? '未分类'),
    sourceId: String(src.sourceId ?? ''),
    createdAt: String(src.createdAt),
    cycleStartedAt: String(src.cycleStartedAt ?? src.createdAt),
    ...(typeof src.acknowledgedAt === 'string' ? { acknowledgedAt: src.acknowledgedAt } : {}),
    ...(typeof src.acknowledgedBy === 'string' ? { acknowledgedBy: src.acknowledgedBy } : {}),
    ...(typeof src.respondedAt === 'string' ? { respondedAt: src.respondedAt } : {}),
    ...(typeof src.closedAt === 'string' ? { closedAt: src.closedAt } : {}),
    escalationStep: num(src.escalationStep, 0),
    ...(assignee ? { assignee: assignee.name ?? assignee.id ?? '' } : {}),
    ackDeadlineSeconds: num(levelPolicy?.acknowledgeSeconds, DEFAULT_ACK_SECONDS[level]!),
    respondDeadlineSeconds: num(levelPolicy?.respondSeconds, DEFAULT_RESPOND_SECONDS[level]!),
    heat: num(src.heat, Array.isArray(src.postIds) ? src.postIds.length : 1),
    ...(typeof src.eventId === 'string' ? { eventId: src.eventId } : {}),
  };
}

const ALERT_FIELDS = ['id', 'title', 'level', 'status', 'category', 'sourceId', 'createdAt', 'cycleStartedAt', 'acknowledgedAt', 'acknowledgedBy', 'respondedAt', 'closedAt', 'escalationStep', 'assignee', 'policy.levels', 'heat', 'postIds', 'eventId'];

/** Alerts raised in [from, to) within the scope: a position's own, or those whose first post is of the domain. */
function alertFilter(from: Date, to: Date, scope: ReportScope): estypes.QueryDslQueryContainer[] {
  if (scope.kind === 'source') return [range('createdAt', from, to), { term: { sourceId: scope.id } }];
  if (scope.kind === 'domain') return [range('createdAt', from, to), { term: { domain: scope.name } }];
  return [range('createdAt', from, to)];
}

/** The events (at most 1,000, the largest first) that the posts matching `filter` belong to. */
async function eventsWithPosts(es: Client, postsIndex: string, filter: estypes.QueryDslQueryContainer[]): Promise<string[]> {
  const res = await es.search({
    index: postsIndex,
    ignore_unavailable: true,
    allow_no_indices: true,
    size: 0,
    query: { bool: { filter: [...filter, { exists: { field: 'eventId' } }] } },
    aggs: { events: { terms: { field: 'eventId', size: 1000 } } },
  });
  return ((res.aggregations?.events as { buckets?: { key: string }[] } | undefined)?.buckets ?? []).map((b) => String(b.key));
}

/** Top events drawn with a timeline; the rest are listed only. */
const TIMELINE_EVENTS = 3;
/** An event whose timeline spans more hours than this is drawn per day. */
const HOURLY_MAX_BUCKETS = 72;
const REPRESENTATIVE_POSTS = 3;

/** One aggregation over the top events' posts: per event, posts per hour by sentiment, and the earliest posts. */
function eventTimelineBody(eventIds: string[], period: Period, scoped: estypes.QueryDslQueryContainer[]) {
  return {
    size: 0,
    query: { bool: { filter: [{ terms: { eventId: eventIds } }, range('collectedAt', period.from, period.to), ...scoped] } },
    aggs: {
      byEvent: {
        terms: { field: 'eventId', size: eventIds.length },
        aggs: {
          perHour: {
            date_histogram: { field: 'collectedAt', calendar_interval: 'hour', time_zone: '+08:00', format: 'yyyy-MM-dd HH:mm', min_doc_count: 0 },
            aggs: { sentiment: { terms: { field: 'sentiment.label', size: 3 } } },
          },
          earliest: { top_hits: { size: REPRESENTATIVE_POSTS, sort: [{ collectedAt: 'asc' }], _source: ['id', 'title', 'text', 'sourceId', 'collectedAt', 'sentiment.label'] } },
        },
      },
    },
  } satisfies estypes.SearchRequest;
}

type Timeline = EventRow['timeline'];
type HourBucket = { key_as_string: string; doc_count: number; sentiment: { buckets: { key: string; doc_count: number }[] } };

function eventTimelines(res: estypes.SearchResponse): Map<string, Pick<EventRow, 'timeline' | 'representative'>> {
  const out = new Map<string, Pick<EventRow, 'timeline' | 'representative'>>();
  const list = (res.aggregations?.byEvent as { buckets?: { key: string; perHour: { buckets: HourBucket[] }; earliest: { hits: { hits: { _source?: Record<string, unknown> }[] } } }[] } | undefined)?.buckets ?? [];
  for (const b of list) {
    let timeline: Timeline = b.perHour.buckets.map((h) => {
      const by = Object.fromEntries(h.sentiment.buckets.map((s) => [s.key, s.doc_count]));
      return { at: h.key_as_string, count: h.doc_count, negative: by.negative ?? 0, neutral: by.neutral ?? 0, positive: by.positive ?? 0 };
    });
    if (timeline.length > HOURLY_MAX_BUCKETS) {
      const days = new Map<string, Timeline[number]>();
      for (const h of timeline) {
        const day = days.get(h.at.slice(0, 10)) ?? { at: h.at.slice(0, 10), count: 0, negative: 0, neutral: 0, positive: 0 };
        days.set(day.at, { at: day.at, count: day.count + h.count, negative: day.negative + h.negative, neutral: day.neutral + h.neutral, positive: day.positive + h.positive });
      }
      timeline = [...days.values()];
    }
    const representative = b.earliest.hits.hits.flatMap((h) => {
      const p = h._source;
      if (!p) return [];
      const label = (p.sentiment as { label?: unknown } | undefined)?.label;
      return [{ id: String(p.id), title: String(p.title || String(p.text ?? '').slice(0, 40)), sourceId: String(p.sourceId ?? ''), at: String(p.collectedAt ?? ''), ...(typeof label === 'string' ? { sentiment: label } : {}) }];
    });
    out.set(String(b.key), { timeline, representative });
  }
  return out;
}

/** Every alert raised in [from, to), paged with search_after so 10,000 alerts stay cheap. */
async function scanAlerts(es: Client, index: string, from: Date, to: Date, scope: ReportScope): Promise<AlertRow[]> {
  const rows: AlertRow[] = [];
  const filter = alertFilter(from, to, scope);
  let after: estypes.SortResults | undefined;
  for (;;) {
    const res = await es.search<Record<string, unknown>>({
      index,
      ignore_unavailable: true,
      allow_no_indices: true,
      size: 2000,
      query: { bool: { filter } },
      _source: ALERT_FIELDS,
      sort: [{ createdAt: 'asc' }, { id: 'asc' }],
      ...(after ? { search_after: after } : {}),
    });
    const hits = res.hits.hits;
    for (const h of hits) if (h._source) rows.push(toAlertRow(h._source));
    if (hits.length < 2000) return rows;
    after = hits[hits.length - 1]!.sort;
  }
}

async function optionalSearch<T>(es: Client, index: string | undefined, body: estypes.SearchRequest): Promise<T[]> {
  if (!index) return [];
  const res = await es.search<T>({ ...body, index, ignore_unavailable: true, allow_no_indices: true });
  return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
}

export async function loadReportData(es: Client, indices: ReportIndices, period: Period, previous: Period, scope: ReportScope): Promise<ReportData> {
  try {
    const scoped = postScope(scope);
    const postsBody = {
      size: 0,
      track_total_hits: true,
      query: { bool: { filter: [range('collectedAt', period.from, period.to), ...scoped] } },
      aggs: {
        bySource: { terms: { field: 'sourceId', size: 200 } },
        byKind: { terms: { field: 'kind', size: 20 } },
        byDomain: { terms: { field: 'domain', size: 20, missing: '未归类' } },
        bySentiment: { terms: { field: 'sentiment.label', size: 5, missing: 'unknown' } },
        keywords: { terms: { field: 'keywords', size: 60 } },
        perDay: {
          date_histogram: { field: 'collectedAt', calendar_interval: interval(period), time_zone: '+08:00', format: 'yyyy-MM-dd', min_doc_count: 0, extended_bounds: { min: period.from.getTime(), max: period.to.getTime() - 1 } },
          aggs: { negative: { filter: { term: { 'sentiment.label': 'negative' } } } },
        },
      },
    } satisfies estypes.SearchRequest;
    const unansweredBody = {
      size: 0,
      query: { bool: { filter: [{ term: { kind: 'message' } }, { range: { publishedAt: { lt: period.to.toISOString() } } }, ...scoped], must_not: [{ exists: { field: 'reply.text' } }] } },
      aggs: {
        age: {
          date_range: {
            field: 'publishedAt',
            ranges: [
              { key: 'over3Months', to: new Date(period.to.getTime() - 90 * 86_400_000).toISOString() },
              { key: 'months1to3', from: new Date(period.to.getTime() - 90 * 86_400_000).toISOString(), to: new Date(period.to.getTime() - 30 * 86_400_000).toISOString() },
              { key: 'under1Month', from: new Date(period.to.getTime() - 30 * 86_400_000).toISOString() },
            ],
          },
        },
      },
    } satisfies estypes.SearchRequest;
    const lastItemBody = {
      size: 0,
      query: { bool: { filter: [{ range: { collectedAt: { lt: period.to.toISOString() } } }, ...scoped] } },
      aggs: { bySource: { terms: { field: 'sourceId', size: 200 }, aggs: { last: { max: { field: 'publishedAt' } }, lastCollected: { max: { field: 'collectedAt' } } } } },
    } satisfies estypes.SearchRequest;
    const changesBody = {
      size: 0,
      query: { bool: { filter: scoped } },
      aggs: {
        deleted: { filter: range('deleted.at', period.from, period.to), aggs: { bySource: { terms: { field: 'sourceId', size: 200 } } } },
        edited: { filter: range('editedAt', period.from, period.to), aggs: { bySource: { terms: { field: 'sourceId', size: 200 } } } },
      },
    } satisfies estypes.SearchRequest;
    const previousBody = { size: 0, track_total_hits: true, query: { bool: { filter: [range('collectedAt', previous.from, previous.to), ...scoped] } } } satisfies estypes.SearchRequest;

    const ledgerBody = { query: { bool: { should: [range('createdAt', period.from, period.to), range('closedAt', period.from, period.to), { bool: { must_not: [{ terms: { status: ['closed'] } }] } }], minimum_should_match: 1 } } } satisfies estypes.SearchRequest;
    const eventsFilter: estypes.QueryDslQueryContainer[] = [{ range: { lastSeen: { gte: period.from.toISOString() } } }, { range: { firstSeen: { lt: period.to.toISOString() } } }, ...(scope.kind === 'source' ? [{ term: { sourceIds: scope.id } }] : [])];
    // Events carry no domain of their own: a domain's events are those with posts of the domain in the period.
    if (scope.kind === 'domain') eventsFilter.push({ terms: { id: await eventsWithPosts(es, indices.posts, [range('collectedAt', period.from, period.to), ...scoped]) } });
    const opts = { index: indices.posts, ignore_unavailable: true, allow_no_indices: true };
    const [posts, unanswered, last, prev, alerts, previousAlerts, events, signals, ledger, changes] = await Promise.all([
      es.search({ ...opts, ...postsBody }),
      es.search({ ...opts, ...unansweredBody }),
      es.search({ ...opts, ...lastItemBody }),
      es.search({ ...opts, ...previousBody }),
      scanAlerts(es, indices.alerts, period.from, period.to, scope),
      scanAlerts(es, indices.alerts, previous.from, previous.to, scope),
      optionalSearch<Record<string, unknown>>(es, indices.events, { size: 10, query: { bool: { filter: eventsFilter } }, sort: [{ heat: 'desc' }] }),
      optionalSearch<Record<string, unknown>>(es, indices.signals, { size: 50, query: { bool: { filter: [range('detectedAt', period.from, period.to)] } }, sort: [{ detectedAt: 'asc' }] }),
      optionalSearch<Record<string, unknown>>(es, indices.ledger, { size: 1000, ...ledgerBody }),
      es.search({ ...opts, ...changesBody }),
    ]);
    const changeAggs = (changes.aggregations ?? {}) as Record<string, { bySource?: unknown } | undefined>;
    const topEventIds = events.slice(0, TIMELINE_EVENTS).map((e) => String(e.id));
    const timelineBody = eventTimelineBody(topEventIds, period, scoped);
    const timelines = topEventIds.length > 0 ? eventTimelines(await es.search({ ...opts, ...timelineBody })) : new Map<string, Pick<EventRow, 'timeline' | 'representative'>>();
    const total = typeof posts.hits.total === 'number' ? posts.hits.total : (posts.hits.total?.value ?? 0);
    const previousTotal = typeof prev.hits.total === 'number' ? prev.hits.total : (prev.hits.total?.value ?? 0);
    const aggs = (posts.aggregations ?? {}) as Record<string, unknown>;
    const ages = Object.fromEntries(buckets(unanswered.aggregations?.age).map((b) => [b.key, b.count]));
    const lastItemBySource: Record<string, string> = {};
    for (const b of ((last.aggregations?.bySource as { buckets?: { key: string; last: { value_as_string?: string }; lastCollected: { value_as_string?: string } }[] }) ?? {}).buckets ?? []) {
      const at = b.last.value_as_string ?? b.lastCollected.value_as_string;
      if (at) lastItemBySource[b.key] = at;
    }
    return {
      posts: {
        total,
        previousTotal,
        bySource: buckets(aggs.bySource),
        byKind: buckets(aggs.byKind),
        byDomain: buckets(aggs.byDomain),
        bySentiment: buckets(aggs.bySentiment),
        keywords: buckets(aggs.keywords),
        perDay: ((aggs.perDay as { buckets?: { key_as_string: string; doc_count: number; negative: { doc_count: number } }[] }).buckets ?? []).map((b) => ({ date: b.key_as_string, count: b.doc_count, negative: b.negative.doc_count })),
        unansweredByAge: { under1Month: ages.under1Month ?? 0, months1to3: ages.months1to3 ?? 0, over3Months: ages.over3Months ?? 0 },
        lastItemBySource,
        deletedBySource: buckets(changeAggs.deleted?.bySource),
        editedBySource: buckets(changeAggs.edited?.bySource),
      },
      alerts,
      previousAlerts,
      events: events.map((e) => ({
        id: String(e.id),
        title: String(e.title ?? e.representative ?? ''),
        heat: num(e.heat, 0),
        posts: num(e.postCount, Array.isArray(e.postIds) ? e.postIds.length : 0),
        firstSeen: String(e.firstSeen ?? ''),
        lastSeen: String(e.lastSeen ?? ''),
        sourceIds: Array.isArray(e.sourceIds) ? (e.sourceIds as string[]) : [],
        timeline: timelines.get(String(e.id))?.timeline ?? [],
        representative: timelines.get(String(e.id))?.representative ?? [],
      })),
      signals: signals.map((s) => ({
        at: String(s.detectedAt),
        subject: `${SIGNAL_SCOPE[String(s.scope)] ?? String(s.scope ?? '')}：${String(s.key ?? '')}`,
        reason: `${SIGNAL_REASON[String(s.reason)] ?? String(s.reason ?? '')}（本时段 ${num(s.count, 0)} 条，基线均值 ${num(s.baselineMean, 0).toFixed(1)}）`,
      })),
      ledger: ledger.map((l) => ({
        id: String(l.id),
        problem: String(l.problem ?? ''),
        origin: LEDGER_SOURCE_NAMES[l.source as LedgerSource] ?? String(l.source ?? ''),
        responsible: String(l.responsible ?? ''),
        section: String(l.section ?? ''),
        deadline: String(l.deadline ?? ''),
        status: String(l.status ?? ''),
        createdAt: String(l.createdAt ?? ''),
        ...(typeof l.closedAt === 'string' ? { closedAt: l.closedAt } : {}),
      })),
      queries: {
        posts: { index: indices.posts, body: postsBody },
        unanswered: { index: indices.posts, body: unansweredBody },
        changes: { index: indices.posts, body: changesBody },
        alerts: { index: indices.alerts, body: { query: { bool: { filter: alertFilter(period.from, period.to, scope) } } } },
        ...(indices.events ? { events: { index: indices.events, body: { query: { bool: { filter: eventsFilter } }, sort: [{ heat: 'desc' }] } } } : {}),
        ...(topEventIds.length > 0 ? { eventTimelines: { index: indices.posts, body: timelineBody } } : {}),
        ...(indices.signals ? { signals: { index: indices.signals, body: { query: { bool: { filter: [range('detectedAt', period.from, period.to)] } } } } } : {}),
        ...(indices.ledger ? { ledger: { index: indices.ledger, body: ledgerBody } } : {}),
      },
    };
  } catch (err) {
    throw translateEsError(err, 'read report data');
  }
}
