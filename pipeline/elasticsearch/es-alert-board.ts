import type { Client, estypes } from '@elastic/elasticsearch';
import type { Alert } from '../../core/alerts/alert.js';
import { translateEsError } from './es-client.js';

/** Statuses that still need someone: everything but 办结 and 误报. */
export const OPEN_ALERT_STATUSES = ['new', 'acknowledged', 'handling', 'responded'] as const;

export interface AlertBoardView {
  /** Open alerts by level (1 = red) and every alert by status. */
  counts: { byLevel: Record<string, number>; byStatus: Record<string, number>; open: number; total: number };
  /** The most urgent open alerts: highest level first, then most recently changed. */
  alerts: Alert[];
}

/**
 * The alert wall's read model: one Elasticsearch request answers the counters and the first screen
 * of open alerts, so the wall paints fast with any number of alerts in the index.
 * Deliberately left out: any change to alerts (the alert store owns those).
 */
export interface AlertBoard {
  view(options: { limit: number; levels?: number[]; statuses?: string[] }): Promise<AlertBoardView>;
}

export class EsAlertBoard implements AlertBoard {
  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async view(options: { limit: number; levels?: number[]; statuses?: string[] }): Promise<AlertBoardView> {
    const open: estypes.QueryDslQueryContainer = { terms: { status: [...OPEN_ALERT_STATUSES] } };
    const shown: estypes.QueryDslQueryContainer[] = [
      options.statuses && options.statuses.length > 0 ? { terms: { status: options.statuses } } : open,
      ...(options.levels && options.levels.length > 0 ? [{ terms: { level: options.levels } }] : []),
    ];
    try {
      const res = await this.es.search<Alert>({
        index: this.index,
        size: options.limit,
        track_total_hits: true,
        // The wall needs levels, statuses, titles and what its SLA clocks derive from (the policy's
        // clock seconds), not the history, the post list or the policy's escalation steps.
        _source_excludes: [
          'hits',
          'timeline',
          'notifications',
          'firedClocks',
          'evidence',
          'explanation',
          'plan',
          'postIds',
          'levelExplanation',
          'policy.levels.*.steps',
          'policy.notifications',
          'policy.leveling',
          'writes',
        ],
        query: { match_all: {} },
        // Counters cover every alert; the listed hits only the filtered ones.
        post_filter: { bool: { filter: shown } },
        sort: [{ level: 'asc' }, { updatedAt: 'desc' }],
        aggs: {
          byStatus: { terms: { field: 'status', size: 20 } },
          open: { filter: open, aggs: { byLevel: { terms: { field: 'level', size: 10 } } } },
        },
      });
      type Buckets = { buckets: { key: string | number; doc_count: number }[] };
      const aggs = res.aggregations as unknown as { byStatus: Buckets; open: { doc_count: number; byLevel: Buckets } } | undefined;
      const byStatus = Object.fromEntries((aggs?.byStatus.buckets ?? []).map((b) => [String(b.key), b.doc_count]));
      const byLevel = Object.fromEntries((aggs?.open.byLevel.buckets ?? []).map((b) => [String(b.key), b.doc_count]));
      return {
        counts: { byLevel, byStatus, open: aggs?.open.doc_count ?? 0, total: Object.values(byStatus).reduce((a, b) => a + b, 0) },
        alerts: res.hits.hits.flatMap((h) => (h._source ? [h._source] : [])),
      };
    } catch (err) {
      throw translateEsError(err, 'alert wall view');
    }
  }
}
