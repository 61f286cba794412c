import type { Client, estypes } from '@elastic/elasticsearch';
import { translateEsError } from './es-client.js';

export interface TrendBucket {
  at: string;
  total: number;
  bySource: Record<string, number>;
  byDomain: Record<string, number>;
  bySentiment: Record<string, number>;
}

export interface TrendsView {
  from: string;
  to: string;
  interval: 'hour' | 'day';
  total: number;
  buckets: TrendBucket[];
  /** Most frequent keywords of the posts in the window (for the word cloud). */
  keywords: { word: string; count: number }[];
}

/**
 * Volume over time by position, domain and sentiment, and the window's top keywords: one
 * aggregation request over the posts index. Deliberately left out: events and early signals (their
 * own stores answer those).
 */
export interface PostTrends {
  trends(options: { from: Date; to: Date; interval: 'hour' | 'day'; timeZone: string }): Promise<TrendsView>;
}

type Buckets = { buckets: { key: string | number; key_as_string?: string; doc_count: number }[] };

function counts(agg: Buckets | undefined): Record<string, number> {
  return Object.fromEntries((agg?.buckets ?? []).map((b) => [String(b.key), b.doc_count]));
}

export class EsPostTrends implements PostTrends {
  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async trends(options: { from: Date; to: Date; interval: 'hour' | 'day'; timeZone: string }): Promise<TrendsView> {
    const range: estypes.QueryDslQueryContainer = { range: { collectedAt: { gte: options.from.toISOString(), lt: options.to.toISOString() } } };
    try {
      const res = await this.es.search({
        index: this.index,
        size: 0,
        track_total_hits: true,
        query: range,
        aggs: {
          volume: {
            date_histogram: {
              field: 'collectedAt',
              calendar_interval: options.interval,
              time_zone: options.timeZone,
              min_doc_count: 0,
              extended_bounds: { min: options.from.getTime(), max: options.to.getTime() - 1 },
            },
            aggs: {
              bySource: { terms: { field: 'sourceId', size: 20 } },
              byDomain: { terms: { field: 'domain', size: 10 } },
              bySentiment: { terms: { field: 'sentiment.label', size: 5 } },
            },
          },
          keywords: { terms: { field: 'keywords', size: 100 } },
        },
      });
      const aggs = res.aggregations as unknown as { volume: { buckets: (Buckets['buckets'][number] & { bySource: Buckets; byDomain: Buckets; bySentiment: Buckets })[] }; keywords: Buckets } | undefined;
      const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
      return {
        from: options.from.toISOString(),
        to: options.to.toISOString(),
        interval: options.interval,
        total,
        buckets: (aggs?.volume.buckets ?? []).map((b) => ({
          at: new Date(Number(b.key)).toISOString(),
          total: b.doc_count,
          bySource: counts(b.bySource),
          byDomain: counts(b.byDomain),
          bySentiment: counts(b.bySentiment),
        })),
        keywords: (aggs?.keywords.buckets ?? []).map((b) => ({ word: String(b.key), count: b.doc_count })),
      };
    } catch (err) {
      throw translateEsError(err, 'post trends');
    }
  }
}
