import type { Client, estypes } from '@elastic/elasticsearch';
import type { Alert, AlertStatus, VersionedAlert } from '../../core/alerts/alert.js';
import { alertDocument } from '../../core/alerts/sla-timeliness.js';
import { ConflictError, UnavailableError } from '../../core/errors.js';
import { Coalescer, type Outcome } from './coalescer.js';
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

/** The error of one refused item of a `_bulk` or `mget`, with the retry meaning of its status. */
function itemError(status: number, reason: string, what: string): Error {
  if (status === 429 || status >= 500) return new UnavailableError(`${what}: Elasticsearch answered ${status} (${reason})`, 'elasticsearch_unavailable');
  return new Error(`${what}: Elasticsearch rejected the request (${status}): ${reason}`);
}

const conflict = (id: string) => new ConflictError(`预警刚被他人修改，请刷新后重试 (alert ${id} was changed by someone else at the same moment)`, 'version_conflict');

/**
 * Writes do not wait for a refresh (an acknowledgement must not wait up to a second); reads by id
 * are real-time anyway. A search right after this process wrote refreshes first, so a process
 * reads its own writes; other processes see them within the index's refresh interval.
 *
 * Reads by id and replacements from concurrent callers are coalesced: the real-time GETs of one
 * turn become one `mget`, the compare-and-set writes one `_bulk` whose items each carry their own
 * `if_seq_no`/`if_primary_term`. Elasticsearch checks each item on its own, in order, so of two
 * writes from the same version in one bulk the first wins and the second is a 409, exactly as two
 * separate requests; one translog sync then covers the whole bulk (durability `request`).
 */
export class EsAlertStore implements AlertStore {
  private lastWriteAt = 0;
  private readonly reads: Coalescer<string, VersionedAlert | undefined>;
  private readonly writes: Coalescer<{ alert: Alert; version: { if_seq_no: number; if_primary_term: number } }, string>;

  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {
    this.reads = new Coalescer((ids) => this.getMany(ids), { maxBatch: 500, maxInFlight: 2 });
    this.writes = new Coalescer((items) => this.replaceMany(items), { maxBatch: 200, maxInFlight: 1 });
  }

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
    return this.reads.submit(id);
  }

  private async getMany(ids: string[]): Promise<Outcome<VersionedAlert | undefined>[]> {
    let docs;
    try {
      docs = (await this.es.mget<Alert>({ index: this.index, ids, realtime: true })).docs;
    } catch (err) {
      throw translateEsError(err, `get ${ids.length} alerts`);
    }
    return docs.map((doc, i): Outcome<VersionedAlert | undefined> => {
      if ('error' in doc) {
        // A missing index holds no alert, as a GET ignoring 404 said before.
        if (doc.error.type === 'index_not_found_exception') return { value: undefined };
        return { error: itemError(500, `${doc.error.type}: ${doc.error.reason ?? ''}`, `get alert ${ids[i]}`) };
      }
      return { value: doc.found && doc._source ? { alert: doc._source, version: `${doc._seq_no}:${doc._primary_term}` } : undefined };
    });
  }

  async replace(alert: Alert, version: string): Promise<string> {
    return this.writes.submit({ alert, version: parseVersion(version) });
  }

  private async replaceMany(items: { alert: Alert; version: { if_seq_no: number; if_primary_term: number } }[]): Promise<Outcome<string>[]> {
    let res;
    try {
      res = await this.es.bulk({ operations: items.flatMap(({ alert, version }) => [{ index: { _index: this.index, _id: alert.id, ...version } }, alertDocument(alert)]), refresh: false });
    } catch (err) {
      throw translateEsError(err, `update ${items.length} alerts`);
    }
    this.lastWriteAt = Date.now();
    return items.map(({ alert }, i): Outcome<string> => {
      const op = res.items[i]?.index;
      if (!op) return { error: itemError(500, 'no result', `update alert ${alert.id}`) };
      if (op.status === 409) return { error: conflict(alert.id) };
      if (op.error || op.status >= 300) return { error: itemError(op.status, op.error ? `${op.error.type}: ${op.error.reason ?? ''}` : `status ${op.status}`, `update alert ${alert.id}`) };
      return { value: `${op._seq_no}:${op._primary_term}` };
    });
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
