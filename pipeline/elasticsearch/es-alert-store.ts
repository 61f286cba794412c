import type { Client, estypes } from '@elastic/elasticsearch';
import type { Alert, AlertStatus, VersionedAlert } from '../../core/alerts/alert.js';
import { alertDocument } from '../../core/alerts/sla-timeliness.js';
import { ConflictError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { Coalescer, type Outcome } from './coalescer.js';
import { translateEsError } from './es-client.js';
import { ABSENT, decideLostAnswer, keyedReceipt, newReceipt, parseVersion, withReceipt, type DocVersion } from './write-receipts.js';

/** One compare-and-set write of a `_bulk`, with the receipt that recognises it in the stored document. */
interface ReceiptedWrite {
  id: string;
  version: DocVersion;
  receipt: string;
  document: Record<string, unknown>;
}

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
  /**
   * Creates the alert; false when one with this id already exists. With `key` (the raise it is
   * made for) the write's receipt is `keyedReceipt(key)`, so a later attempt of that raise knows
   * the alert for its own even when this call answered `write_outcome_unknown`.
   */
  create(alert: Alert, key?: string): Promise<{ created: true; version: string } | { created: false }>;
  get(id: string): Promise<Alert | undefined>;
  getVersioned(id: string): Promise<VersionedAlert | undefined>;
  /**
   * Replaces the alert if it is still at `version`; else throws ConflictError (`version_conflict`).
   * Never answers a conflict for its own landed write: when the answer is lost it reads the alert
   * back and answers what was stored, or an UnavailableError saying the write was not stored
   * (`write_not_stored`) or could not be confirmed (`write_outcome_unknown`). With `key` (a client's
   * Idempotency-Key with its user) the write's receipt is `keyedReceipt(key)`: a resent request
   * finds its own landed write by it.
   */
  replace(alert: Alert, version: string, key?: string): Promise<string>;
  list(query: AlertQuery): Promise<VersionedAlert[]>;
  /** Open alerts of a group (event) other than `exceptId`, for inhibition. */
  openInGroup(groupKey: string, exceptId: string): Promise<Alert[]>;
  /** Alerts (any status) holding the post, or raised on its event: where a post's deletion or edit is noted. */
  touchingPost(postId: string, eventId?: string): Promise<Alert[]>;
  /** Alerts with a pending clock, paged by id for the reconciler. */
  withPendingClocks(afterId: string | undefined, size: number): Promise<Alert[]>;
}

/** The error of one refused item of a `_bulk` or `mget`, with the retry meaning of its status. */
function itemError(status: number, reason: string, what: string): Error {
  if (status === 429 || status >= 500) return new UnavailableError(`${what}: Elasticsearch answered ${status} (${reason})`, 'elasticsearch_unavailable');
  return new Error(`${what}: Elasticsearch rejected the request (${status}): ${reason}`);
}

/** A write whose answer was lost and whose fate could not be read back: retryable, but look first. */
function outcomeUnknown(why: string, cause: UnavailableError, id?: string): UnavailableError {
  return new UnavailableError(`未能确认预警${id ? ` ${id} ` : ''}是否已保存，请刷新查看后再操作 (the answer to a write was lost (${cause.message}) and ${why})`, 'write_outcome_unknown', { cause });
}

/** Searches return alerts to read, never to write back: the write receipts stay out of them. */
const RECEIPTS = ['writes'];

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
 *
 * Each write leaves a receipt in the document (`writes`), so when the answer to a bulk is lost its
 * writes are told apart by reading the alerts back (`settleLostAnswers`) instead of failing every
 * caller in it, or letting the client resend it into conflicts with itself.
 */
export class EsAlertStore implements AlertStore {
  private lastWriteAt = 0;
  private readonly reads: Coalescer<string, VersionedAlert | undefined>;
  private readonly writes: Coalescer<{ alert: Alert; version: DocVersion; key: string | undefined }, string>;

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

  async create(alert: Alert, key?: string): Promise<{ created: true; version: string } | { created: false }> {
    const receipt = key === undefined ? newReceipt(ABSENT) : keyedReceipt(key, ABSENT);
    return this.createOnce(alert.id, { ...alertDocument(alert), writes: withReceipt(receipt, undefined) }, receipt, 'first');
  }

  /**
   * Creates without client retries, like the writes of `sendWrites`: a retried create that had
   * landed would be a 409, and the alert would be taken for someone else's. A lost answer is
   * settled by reading the alert back (`decideLostAnswer`, the absent document as the version
   * replaced); one not there is created once more, and a conflict of that resend is read back too.
   * When the resend's answer is lost as well and the alert is still not there, the caller is told
   * the outcome is unknown (`write_outcome_unknown`).
   */
  private async createOnce(id: string, document: Record<string, unknown>, receipt: string, attempt: 'first' | 'resend'): Promise<{ created: true; version: string } | { created: false }> {
    let cause: UnavailableError;
    try {
      const res = await this.es.create({ index: this.index, id, document }, { maxRetries: 0 });
      this.lastWriteAt = Date.now();
      return { created: true, version: `${res._seq_no}:${res._primary_term}` };
    } catch (err) {
      const translated = translateEsError(err, `create alert ${id}`);
      if (translated instanceof ConflictError && attempt === 'first') return { created: false };
      if (!(translated instanceof UnavailableError) && !(translated instanceof ConflictError)) throw translated;
      cause = translated instanceof UnavailableError ? translated : new UnavailableError(translated.message, 'write_outcome_unknown');
    }
    this.lastWriteAt = Date.now();
    let read: Outcome<VersionedAlert | undefined> | undefined;
    try {
      [read] = await this.getMany([id]);
    } catch (err) {
      read = { error: err as Error };
    }
    if (!read || 'error' in read) throw outcomeUnknown('it could not be read back', cause, id);
    const stored = read.value ? { version: parseVersion(read.value.version), receipts: read.value.alert.writes ?? [] } : { version: ABSENT, receipts: [] };
    const decision = decideLostAnswer(receipt, ABSENT, stored);
    switch (decision.outcome) {
      case 'landed':
      case 'landed-then-changed':
        return { created: true, version: `${decision.version.if_seq_no}:${decision.version.if_primary_term}` };
      case 'overtaken':
        return { created: false };
      default:
        // The resend may still be on its way: nothing can fence a document that does not exist yet.
        if (attempt === 'first') return this.createOnce(id, document, receipt, 'resend');
        throw outcomeUnknown('the alert was not there when read back', cause, id);
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

  async replace(alert: Alert, version: string, key?: string): Promise<string> {
    return this.writes.submit({ alert, version: parseVersion(version), key });
  }

  private async replaceMany(items: { alert: Alert; version: DocVersion; key: string | undefined }[]): Promise<Outcome<string>[]> {
    return this.sendWrites(
      items.map(({ alert, version, key }) => {
        const receipt = key === undefined ? newReceipt(version) : keyedReceipt(key, version);
        return { id: alert.id, version, receipt, document: { ...alertDocument(alert), writes: withReceipt(receipt, alert.writes) } };
      }),
      'first',
    );
  }

  /**
   * Sends compare-and-set writes as one `_bulk` with no client retries: a retry of a bulk whose
   * answer was lost would find its own landed writes changed and call them conflicts. A request
   * whose outcome is unknown (cut, timed out, a 5xx or 429 for the whole request) is settled item
   * by item from a real-time read (`settleLostAnswers`); a 4xx for the whole request wrote nothing.
   * A resent write can meet its own first attempt, so its 409 is settled by reading too.
   */
  private async sendWrites(writes: ReceiptedWrite[], attempt: 'first' | 'resend'): Promise<Outcome<string>[]> {
    let res;
    try {
      res = await this.es.bulk({ operations: writes.flatMap((w) => [{ index: { _index: this.index, _id: w.id, ...w.version } }, w.document]), refresh: false }, { maxRetries: 0 });
    } catch (err) {
      const translated = translateEsError(err, `update ${writes.length} alerts`);
      if (!(translated instanceof UnavailableError)) throw translated;
      return this.settleLostAnswers(writes, translated, attempt);
    }
    this.lastWriteAt = Date.now();
    const outcomes: Outcome<string>[] = [];
    const ownConflicts: number[] = [];
    writes.forEach((w, i) => {
      const op = res.items[i]?.index;
      if (!op) outcomes[i] = { error: itemError(500, 'no result', `update alert ${w.id}`) };
      else if (op.status === 409) {
        if (attempt === 'resend') ownConflicts.push(i);
        outcomes[i] = { error: conflict(w.id) };
      } else if (op.error || op.status >= 300) outcomes[i] = { error: itemError(op.status, op.error ? `${op.error.type}: ${op.error.reason ?? ''}` : `status ${op.status}`, `update alert ${w.id}`) };
      else outcomes[i] = { value: `${op._seq_no}:${op._primary_term}` };
    });
    if (ownConflicts.length > 0) {
      const settled = await this.settleLostAnswers(
        ownConflicts.map((i) => writes[i]!),
        new UnavailableError('a resent write found the alert changed', 'write_outcome_unknown'),
        'resend',
      );
      ownConflicts.forEach((i, k) => (outcomes[i] = settled[k]!));
    }
    return outcomes;
  }

  /**
   * Decides each write whose answer was lost from the document as stored now (`decideLostAnswer`):
   * a landed write answers its version (its caller gets the 200 and the audit record it earned);
   * one overtaken by another write is that caller's 409. One still at the version it replaced has
   * not landed yet but may still be on its way: after the first attempt it is resent with the same
   * receipt and compare-and-set (only one of the two can land, so an answer settles both); when the
   * resend's answer is lost too, the alert is fenced (`fence`) before anyone is told it was not
   * stored. `after` names the attempt whose answer was lost.
   */
  private async settleLostAnswers(writes: ReceiptedWrite[], cause: UnavailableError, after: 'first' | 'resend' | 'fence'): Promise<Outcome<string>[]> {
    this.lastWriteAt = Date.now();
    let stored: Outcome<VersionedAlert | undefined>[];
    try {
      stored = await this.getMany(writes.map((w) => w.id));
    } catch (err) {
      return writes.map(() => ({ error: outcomeUnknown(`the alerts could not be read back: ${(err as Error).message}`, cause) }));
    }
    const outcomes: Outcome<string>[] = [];
    const pending: { index: number; stored: VersionedAlert }[] = [];
    writes.forEach((w, i) => {
      const read = stored[i]!;
      if ('error' in read) {
        outcomes[i] = { error: outcomeUnknown(read.error.message, cause, w.id) };
        return;
      }
      const found = read.value && { version: parseVersion(read.value.version), receipts: read.value.alert.writes ?? [] };
      const decision = decideLostAnswer(w.receipt, w.version, found);
      switch (decision.outcome) {
        case 'landed':
        case 'landed-then-changed':
          outcomes[i] = { value: `${decision.version.if_seq_no}:${decision.version.if_primary_term}` };
          break;
        case 'overtaken':
          outcomes[i] = { error: conflict(w.id) };
          break;
        case 'missing':
          outcomes[i] = { error: new NotFoundError(`预警不存在 (alert ${w.id} does not exist)`) };
          break;
        case 'still-at-expected':
          if (after === 'fence') outcomes[i] = { error: outcomeUnknown('the alert could not be fenced', cause, w.id) };
          else pending.push({ index: i, stored: read.value! });
      }
    });
    if (pending.length > 0) {
      const settled =
        after === 'first'
          ? await this.sendWrites(
              pending.map((p) => writes[p.index]!),
              'resend',
            )
          : await this.fence(
              pending.map((p) => ({ write: writes[p.index]!, stored: p.stored })),
              cause,
            );
      pending.forEach((p, k) => (outcomes[p.index] = settled[k]!));
    }
    return outcomes;
  }

  /**
   * Makes "not stored" true before it is said: rewrites each alert unchanged (a new receipt) with
   * the compare-and-set of the write in doubt, so that write can no longer land. Done → that
   * caller's retryable 503 `write_not_stored`; a 409 → something landed first, read back (it may be
   * the write in doubt); answer lost → `write_outcome_unknown`. Only after two lost answers in a row.
   */
  private async fence(items: { write: ReceiptedWrite; stored: VersionedAlert }[], cause: UnavailableError): Promise<Outcome<string>[]> {
    const fences = items.map(({ write, stored }) => {
      const receipt = newReceipt(write.version);
      return { id: write.id, version: write.version, document: { ...stored.alert, writes: withReceipt(receipt, stored.alert.writes) } };
    });
    let res;
    try {
      res = await this.es.bulk({ operations: fences.flatMap((f) => [{ index: { _index: this.index, _id: f.id, ...f.version } }, f.document]), refresh: false }, { maxRetries: 0 });
    } catch (err) {
      return items.map(({ write }) => ({ error: outcomeUnknown(`fencing it failed too: ${(err as Error).message}`, cause, write.id) }));
    }
    this.lastWriteAt = Date.now();
    const outcomes: Outcome<string>[] = [];
    const raced: number[] = [];
    items.forEach(({ write }, i) => {
      const op = res.items[i]?.index;
      if (op && !op.error && op.status < 300) outcomes[i] = { error: new UnavailableError(`预警未能保存，请重试 (alert ${write.id} was not stored: ${cause.message})`, 'write_not_stored', { cause }) };
      else if (op?.status === 409) raced.push(i);
      else outcomes[i] = { error: outcomeUnknown(`fencing it failed: ${op?.error?.reason ?? `status ${op?.status}`}`, cause, write.id) };
    });
    if (raced.length > 0) {
      const settled = await this.settleLostAnswers(
        raced.map((i) => items[i]!.write),
        cause,
        'fence',
      );
      raced.forEach((i, k) => (outcomes[i] = settled[k]!));
    }
    return outcomes;
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
        _source_excludes: RECEIPTS,
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
        _source_excludes: RECEIPTS,
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
      const res = await this.es.search<Alert>({ index: this.index, _source_excludes: RECEIPTS, size: 100, query: { bool: { should, minimum_should_match: 1 } }, sort: [{ createdAt: 'asc' }] });
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
        _source_excludes: RECEIPTS,
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
