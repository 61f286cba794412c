import type { Client } from '@elastic/elasticsearch';
import type { Alert } from '../../core/alerts/alert.js';
import { ConflictError } from '../../core/errors.js';
import { translateEsError } from './es-client.js';

export interface AlertQuery {
  status?: string;
  limit?: number;
}

/**
 * Where alerts live. Port: state transitions with optimistic concurrency, escalation clocks and the
 * audit chain come with the alerting issue; this store only creates and merges.
 */
export interface AlertStore {
  /** Creates the alert, or merges its posts and hits into the existing one with the same id. */
  createOrMerge(alert: Alert): Promise<'created' | 'merged' | 'unchanged'>;
  get(id: string): Promise<Alert | undefined>;
  list(query: AlertQuery): Promise<Alert[]>;
}

export class EsAlertStore implements AlertStore {
  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async createOrMerge(alert: Alert): Promise<'created' | 'merged' | 'unchanged'> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.es.create({ index: this.index, id: alert.id, document: alert, refresh: 'wait_for' });
        return 'created';
      } catch (err) {
        const translated = translateEsError(err, `create alert ${alert.id}`);
        if (!(translated instanceof ConflictError)) throw translated;
      }
      try {
        const current = await this.es.get<Alert>({ index: this.index, id: alert.id });
        const existing = current._source!;
        const newPosts = alert.postIds.filter((p) => !existing.postIds.includes(p));
        if (newPosts.length === 0) return 'unchanged';
        const merged: Alert = {
          ...existing,
          level: Math.min(existing.level, alert.level) as Alert['level'],
          postIds: [...existing.postIds, ...newPosts],
          terms: [...new Set([...existing.terms, ...alert.terms])],
          hits: [...existing.hits, ...alert.hits.filter((h) => newPosts.includes(h.postId))],
          updatedAt: alert.updatedAt,
        };
        await this.es.index({
          index: this.index,
          id: alert.id,
          document: merged,
          if_seq_no: current._seq_no!,
          if_primary_term: current._primary_term!,
          refresh: 'wait_for',
        });
        return 'merged';
      } catch (err) {
        const translated = translateEsError(err, `merge alert ${alert.id}`);
        if (!(translated instanceof ConflictError)) throw translated;
      }
    }
    throw new ConflictError(`alert ${alert.id}: gave up merging after 5 concurrent changes`);
  }

  async get(id: string): Promise<Alert | undefined> {
    try {
      const res = await this.es.get<Alert>({ index: this.index, id }, { ignore: [404] });
      return res.found ? res._source : undefined;
    } catch (err) {
      throw translateEsError(err, `get alert ${id}`);
    }
  }

  async list(query: AlertQuery): Promise<Alert[]> {
    try {
      const res = await this.es.search<Alert>({
        index: this.index,
        size: Math.min(query.limit ?? 100, 500),
        query: query.status ? { term: { status: query.status } } : { match_all: {} },
        sort: [{ level: 'asc' }, { updatedAt: 'desc' }],
      });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list alerts');
    }
  }
}
