import type { Client, estypes } from '@elastic/elasticsearch';
import type { Alert, AlertStatus, VersionedAlert } from '../../core/alerts/alert.js';
import { alertDocument } from '../../core/alerts/sla-timeliness.js';
import { ConflictError } from '../../core/errors.js';
import { translateEsError } from './es-client.js';

export interface AlertQuery {
  status?: AlertStatus | AlertStatus[];
  level?: number[];
  category?: string;
  sourceId?: string;
  domain?: string;
  /** Only alerts that went up the chain of responsibility (escalation step ≥ 1). */
  escalated?: boolean;
  /** Only 超时预警 as of this moment (see `isOverdue`). */
  overdueAt?: Date;
  assignee?: string;
  /** Words in the title. */
  q?: string;
  from?: string;
  to?: string;
  limit?: number;
}

/**
 * Where alerts live. Every change is a compare-and-set on the document version
 * (`if_seq_no`/`if_primary_term`), so two people acting at once cannot both win.
 * Deliberately left out: deciding anything — transitions are checked by core/alerts/lifecycle.ts.
 */
export interface AlertStore {
  /** Creates the alert; false when one with this id already exists. */
  create(alert: Alert): Promise<{ created: true; version: string } | { created: false }>;
  get(id: string): Promise<Alert | undefined>;
  getVersioned(id: string): Promise<VersionedAlert | undefined>;
  /** Replaces the alert if it is still at `version`; else throws ConflictError (`version_conflict`). */
  replace(alert: Alert, version: string): Promise<string>;
  list(query: AlertQuery): Promise<VersionedAlert[]>;
  /** Open alerts of a group (event) other than `exceptId`, for inhibition. */
  openInGroup(groupKey: string, exceptId: string): Promise<Alert[]>;
  /** Alerts (any status) holding the post, or raised on its event: where a post's deletion or edit is noted. */
  touchingPost(postId: string, eventId?: string): Promise<Alert[]>;
  /** Alerts with a pending clock, paged by id for the reconciler. */
  withPendingClocks(afterId: string | undefined, size: number): Promise<Alert[]>;
}

function parseVersion(version: string): { if_seq_no: number; if_primary_term: number } {
  const m = /^(\d+):(\d+)$/.exec(version);
  if (!m) throw new ConflictError(`version "${version}" is not one this server gave out`, 'version_conflict');
  return { if_seq_no: Number(m[1]), if_primary_term: Number(m[2]) };
}

/**
 * Writes do not wait for a refresh (an acknowledgement must not wait up to a second); reads by id
 * are real-time anyway. A search right after this process wrote refreshes first, so a process
 * reads its own writes; other processes see them within the index's refresh interval.
 */
export class EsAlertStore implements AlertStore {
  private lastWriteAt = 0;

  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  private async freshen(): Promise<void> {
    if (Date.now() - this.lastWriteAt > 1_100) return;
    this.lastWriteAt = 0;
    await this.es.indices.refresh({ index: this.index });
  }

  async create(alert: Alert): Promise<{ created: true; version: string } | { created: false }> {
    try {
      const res = await this.es.create({ index: this.index, id: alert.id, document: alertDocument(alert) });
      this.lastWriteAt = Date.now();
      return { created: true, version: `${res._seq_no}:${res._primary_term}` };
    } catch (err) {
      const translated = translateEsError(err, `create alert ${alert.id}`);
      if (translated instanceof ConflictError) return { created: false };
      throw translated;
    }
  }

  async get(id: string): Promise<Alert | undefined> {
    return (await this.getVersioned(id))?.alert;
  }

  async getVersioned(id: string): Promise<VersionedAlert | undefined> {
    if (id.length === 0 || id.length > 200) return undefined;
    try {
      const res = await this.es.get<Alert>({ index: this.index, id }, { ignore: [404] });
      return res.found && res._source ? { alert: res._source, version: `${res._seq_no}:${res._primary_term}` } : undefined;
    } catch (err) {
      throw translateEsError(err, `get alert ${id}`);
    }
  }

  async replace(alert: Alert, version: string): Promise<string> {
    try {
      const res = await this.es.index({ index: this.index, id: alert.id, document: alertDocument(alert), ...parseVersion(version) });
      this.lastWriteAt = Date.now();
      return `${res._seq_no}:${res._primary_term}`;
    } catch (err) {
      const translated = translateEsError(err, `update alert ${alert.id}`);
      if (translated instanceof ConflictError) {
        throw new ConflictError(`预警刚被他人修改，请刷新后重试 (alert ${alert.id} was changed by someone else at the same moment)`, 'version_conflict');
      }
      throw translated;
    }
  }

  async list(query: AlertQuery): Promise<VersionedAlert[]> {
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (query.status) filter.push({ terms: { status: Array.isArray(query.status) ? query.status : [query.status] } });
    if (query.level?.length) filter.push({ terms: { level: query.level } });
    if (query.category) filter.push({ term: { category: query.category } });
    if (query.sourceId) filter.push({ term: { sourceId: query.sourceId } });
    if (query.domain) filter.push({ term: { domain: query.domain } });
    if (query.escalated) filter.push({ range: { escalationStep: { gte: 1 } } });
    if (query.overdueAt) filter.push(overdueClause(query.overdueAt));
    if (query.assignee) filter.push({ term: { 'assignee.id': query.assignee } });
    if (query.from || query.to) filter.push({ range: { createdAt: { ...(query.from ? { gte: query.from } : {}), ...(query.to ? { lt: query.to } : {}) } } });
    const must: estypes.QueryDslQueryContainer[] = query.q ? [{ match_phrase: { title: query.q } }] : [];
    try {
      await this.freshen();
      const res = await this.es.search<Alert>({
        index: this.index,
        size: Math.min(query.limit ?? 100, 500),
        seq_no_primary_term: true,
        query: { bool: { filter, must } },
        sort: [{ level: 'asc' }, { updatedAt: 'desc' }],
      });
      return res.hits.hits.flatMap((h) => (h._source ? [{ alert: h._source, version: `${h._seq_no}:${h._primary_term}` }] : []));
    } catch (err) {
      throw translateEsError(err, 'list alerts');
    }
  }

  async openInGroup(groupKey: string, exceptId: string): Promise<Alert[]> {
    try {
      await this.freshen();
      const res = await this.es.search<Alert>({
        index: this.index,
        size: 50,
        query: { bool: { filter: [{ term: { groupKey } }, { terms: { status: ['new', 'acknowledged', 'handling', 'responded'] } }], must_not: [{ ids: { values: [exceptId] } }] } },
      });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'find alerts of a group');
    }
  }

  async touchingPost(postId: string, eventId?: string): Promise<Alert[]> {
    const should: estypes.QueryDslQueryContainer[] = [{ term: { postIds: postId } }, ...(eventId ? [{ term: { eventId } }] : [])];
    try {
      await this.freshen();
      const res = await this.es.search<Alert>({ index: this.index, size: 100, query: { bool: { should, minimum_should_match: 1 } }, sort: [{ createdAt: 'asc' }] });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'find alerts of a post');
    }
  }

  async withPendingClocks(afterId: string | undefined, size: number): Promise<Alert[]> {
    try {
      await this.freshen();
      const res = await this.es.search<Alert>({
        index: this.index,
        size,
        query: { exists: { field: 'nextDueAt' } },
        sort: [{ id: 'asc' }],
        ...(afterId ? { search_after: [afterId] } : {}),
      });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list alerts with pending clocks');
    }
  }
}

/** `isOverdue` as a query over the stored `sla` fields (kept in step with it by `alertDocument`). */
export function overdueClause(now: Date): estypes.QueryDslQueryContainer {
  const at = now.toISOString();
  return {
    bool: {
      must_not: [{ term: { status: 'false_positive' } }],
      minimum_should_match: 1,
      should: [
        { term: { 'sla.ackLate': true } },
        { term: { 'sla.respondLate': true } },
        { bool: { must_not: [{ exists: { field: 'acknowledgedAt' } }], filter: [{ range: { 'sla.ackDueAt': { lt: at } } }] } },
        { bool: { must_not: [{ exists: { field: 'respondedAt' } }, { exists: { field: 'closedAt' } }], filter: [{ range: { 'sla.respondDueAt': { lt: at } } }] } },
      ],
    },
  };
}
