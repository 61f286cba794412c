import type { Client, estypes } from '@elastic/elasticsearch';
import type { LedgerItem } from '../../core/ledger/ledger-item.js';
import type { LedgerQuery, LedgerStore } from '../../core/ledger/ledger-store.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { translateEsError } from './es-client.js';

export const LEDGER_MAPPING: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: { type: 'keyword' },
    version: { type: 'integer' },
    source: { type: 'keyword' },
    alertId: { type: 'keyword' },
    sourceRef: { type: 'keyword' },
    problem: { type: 'text' },
    measures: { type: 'text' },
    responsible: { type: 'keyword' },
    section: { type: 'keyword' },
    deadline: { type: 'date' },
    status: { type: 'keyword' },
    evidence: { type: 'object', enabled: false },
    overdue: { type: 'boolean' },
    reminders: { type: 'keyword' },
    createdBy: { type: 'keyword' },
    createdAt: { type: 'date' },
    updatedAt: { type: 'date' },
    verifiedBy: { type: 'keyword' },
    verifiedAt: { type: 'date' },
    verificationNote: { type: 'text' },
    closedAt: { type: 'date' },
    history: { type: 'object', enabled: false },
  },
};

export class EsLedgerStore implements LedgerStore {
  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async create(item: LedgerItem): Promise<void> {
    try {
      await this.es.create({ index: this.index, id: item.id, document: item, refresh: 'wait_for' });
    } catch (err) {
      throw translateEsError(err, `create ledger item ${item.id}`);
    }
  }

  async get(id: string): Promise<LedgerItem | undefined> {
    try {
      const res = await this.es.get<LedgerItem>({ index: this.index, id }, { ignore: [404] });
      return res.found ? res._source : undefined;
    } catch (err) {
      throw translateEsError(err, `get ledger item ${id}`);
    }
  }

  async list(query: LedgerQuery): Promise<LedgerItem[]> {
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (query.status?.length) filter.push({ terms: { status: query.status } });
    if (query.source) filter.push({ term: { source: query.source } });
    if (query.responsible) filter.push({ term: { responsible: query.responsible } });
    if (query.section) filter.push({ term: { section: query.section } });
    if (query.alertId) filter.push({ term: { alertId: query.alertId } });
    if (query.overdue !== undefined) filter.push({ term: { overdue: query.overdue } });
    if (query.deadlineFrom || query.deadlineTo) {
      filter.push({ range: { deadline: { ...(query.deadlineFrom ? { gte: query.deadlineFrom.toISOString() } : {}), ...(query.deadlineTo ? { lte: query.deadlineTo.toISOString() } : {}) } } });
    }
    try {
      const res = await this.es.search<LedgerItem>({
        index: this.index,
        size: Math.min(query.limit ?? 1000, 10_000),
        query: { bool: { filter } },
        sort: [{ overdue: 'desc' }, { deadline: 'asc' }, { id: 'asc' }],
      });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list ledger items');
    }
  }

  async update(id: string, change: (current: LedgerItem) => LedgerItem): Promise<{ before: LedgerItem; after: LedgerItem }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let current;
      try {
        current = await this.es.get<LedgerItem>({ index: this.index, id }, { ignore: [404] });
      } catch (err) {
        throw translateEsError(err, `get ledger item ${id}`);
      }
      if (!current.found || !current._source) throw new NotFoundError(`整改事项 ${id} 不存在 (no such ledger item)`);
      const before = current._source;
      const after = change(before);
      try {
        await this.es.index({ index: this.index, id, document: after, if_seq_no: current._seq_no!, if_primary_term: current._primary_term!, refresh: 'wait_for' });
        return { before, after };
      } catch (err) {
        const translated = translateEsError(err, `update ledger item ${id}`);
        if (!(translated instanceof ConflictError)) throw translated;
      }
    }
    throw new ConflictError(`整改事项 ${id} 正被他人频繁修改，请重试 (changed repeatedly while updating; try again)`);
  }
}
