import type { Client, estypes } from '@elastic/elasticsearch';
import type { ColumnMeasurement, ColumnType, MisstatementHit, UnansweredMessage } from '../../core/inspection/website-measurements.js';
import { translateEsError } from './es-client.js';

/** A column as the figures need it: where its items live. */
export interface ColumnToCount {
  name: string;
  url: string;
  type: ColumnType;
  /** URL prefix of the column's items. */
  prefix: string;
}

/**
 * What self-inspection reads from the indexed posts. Port: counts only; it leaves the judging to
 * `core/inspection` and the probes to the probe log. Deleted posts are gone from the site and never
 * count.
 */
export interface InspectionFigures {
  /** Articles under each column's URL prefix (whichever position collected them): count, undated count, newest publish date. */
  columns(columns: readonly ColumnToCount[]): Promise<ColumnMeasurement[]>;
  /** 留言 of the boards without a reply, by their time (`at`: published, else first collected) since `from`, oldest first. */
  unanswered(boardIds: readonly string[], from: Date, limit: number): Promise<{ items: UnansweredMessage[]; total: number }>;
  /** Lexicon hits of `categories` on the position's own articles and attachments since `from`. */
  misstatements(sourceId: string, categories: readonly string[], from: Date, limit: number): Promise<MisstatementHit[]>;
}

const NOT_DELETED: estypes.QueryDslQueryContainer = { exists: { field: 'deleted.at' } };

export class EsInspectionFigures implements InspectionFigures {
  constructor(
    private readonly es: Client,
    private readonly postsAlias: string,
  ) {}

  async columns(columns: readonly ColumnToCount[]): Promise<ColumnMeasurement[]> {
    if (columns.length === 0) return [];
    try {
      const res = await this.es.search<unknown, { byColumn: estypes.AggregationsFiltersAggregate }>({
        index: this.postsAlias,
        size: 0,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: { bool: { filter: [{ term: { kind: 'article' } }], must_not: [NOT_DELETED] } },
        aggs: {
          byColumn: {
            filters: { filters: Object.fromEntries(columns.map((c, i) => [`c${i}`, { prefix: { url: c.prefix } }])) },
            aggs: { newest: { max: { field: 'publishedAt' } }, dated: { filter: { exists: { field: 'publishedAt' } } } },
          },
        },
      });
      const buckets = (res.aggregations?.byColumn.buckets ?? {}) as Record<string, { doc_count: number; newest: { value: number | null }; dated: { doc_count: number } }>;
      return columns.map((c, i) => {
        const b = buckets[`c${i}`];
        const items = b?.doc_count ?? 0;
        const newest = b?.newest.value;
        return { name: c.name, url: c.url, type: c.type, items, undated: items - (b?.dated.doc_count ?? 0), ...(newest ? { newestAt: new Date(newest).toISOString() } : {}) };
      });
    } catch (err) {
      throw translateEsError(err, 'count the columns of a website');
    }
  }

  async unanswered(boardIds: readonly string[], from: Date, limit: number): Promise<{ items: UnansweredMessage[]; total: number }> {
    if (boardIds.length === 0) return { items: [], total: 0 };
    try {
      const res = await this.es.search<{ id: string; url: string; title?: string; at: string; sourceId: string }>({
        index: this.postsAlias,
        size: limit,
        track_total_hits: true,
        ignore_unavailable: true,
        allow_no_indices: true,
        _source: ['id', 'url', 'title', 'at', 'sourceId'],
        sort: [{ at: 'asc' }],
        query: { bool: { filter: [{ term: { kind: 'message' } }, { terms: { sourceId: [...boardIds] } }, { range: { at: { gte: from.toISOString() } } }], must_not: [{ exists: { field: 'reply.text' } }, NOT_DELETED] } },
      });
      const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
      const items = res.hits.hits.flatMap((h) => (h._source ? [{ id: h._source.id, url: h._source.url, publishedAt: h._source.at, sourceId: h._source.sourceId, ...(h._source.title ? { title: h._source.title } : {}) }] : []));
      return { items, total };
    } catch (err) {
      throw translateEsError(err, 'find unanswered messages');
    }
  }

  async misstatements(sourceId: string, categories: readonly string[], from: Date, limit: number): Promise<MisstatementHit[]> {
    if (categories.length === 0) return [];
    try {
      const res = await this.es.search<{ id: string; url: string; title?: string; at: string; hits?: { term: string; category: string; suggestion?: string }[] }>({
        index: this.postsAlias,
        size: limit,
        ignore_unavailable: true,
        allow_no_indices: true,
        _source: ['id', 'url', 'title', 'at', 'hits.term', 'hits.category', 'hits.suggestion'],
        sort: [{ at: 'desc' }],
        query: {
          bool: {
            filter: [{ term: { sourceId } }, { terms: { kind: ['article', 'attachment'] } }, { range: { at: { gte: from.toISOString() } } }, { nested: { path: 'hits', query: { terms: { 'hits.category': [...categories] } } } }],
            must_not: [NOT_DELETED],
          },
        },
      });
      return res.hits.hits.flatMap((h) => {
        const p = h._source;
        if (!p) return [];
        return (p.hits ?? [])
          .filter((x) => categories.includes(x.category))
          .map((x) => ({ postId: p.id, url: p.url, at: p.at, term: x.term, category: x.category, ...(p.title ? { title: p.title } : {}), ...(x.suggestion ? { suggestion: x.suggestion } : {}) }));
      });
    } catch (err) {
      throw translateEsError(err, 'find misstatements');
    }
  }
}
