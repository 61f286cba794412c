import { randomBytes } from 'node:crypto';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { AuditActor, AuditLog } from '../core/audit/audit-log.js';
import { NotFoundError } from '../core/errors.js';
import type { LedgerItem } from '../core/ledger/ledger-item.js';
import { MEETING_ID, type Meeting, type RecordMeeting } from '../core/meetings/meeting.js';
import { formatShanghai } from '../core/reports/period.js';
import { ensureIndex } from '../pipeline/elasticsearch/indices.js';
import { translateEsError } from '../pipeline/elasticsearch/es-client.js';

const MAPPING: estypes.MappingTypeMapping = { dynamic: false, properties: { id: { type: 'keyword' }, heldAt: { type: 'date' }, period: { type: 'keyword' }, recordedAt: { type: 'date' } } };

/** Creates a ledger item the way the ledger API does (responsible person checked, audited). */
export type CreateFollowUp = (input: { source: 'self_inspection'; sourceRef: string; problem: string; measures: string; responsible: string; deadline: string; evidence: [] }, actor: AuditActor, requestId?: string) => Promise<LedgerItem>;

/**
 * Records analysis-and-judgment meetings. Each follow-up becomes a ledger item whose `sourceRef`
 * names the meeting, and the meeting keeps the item ids: linked both ways, every step audited.
 */
export class MeetingService {
  constructor(private readonly deps: { es: Client; index: string; createFollowUp: CreateFollowUp; audit: AuditLog; now: () => Date }) {}

  async ensure(): Promise<void> {
    await ensureIndex(this.deps.es, this.deps.index, MAPPING);
  }

  async record(input: RecordMeeting, actor: AuditActor, requestId?: string): Promise<Meeting> {
    const now = this.deps.now();
    const id = `yp-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
    const ref = `分析研判会 ${formatShanghai(new Date(input.heldAt)).slice(0, 10)}（${id}）`;
    const followUps: Meeting['followUps'] = [];
    for (const f of input.followUps) {
      const item = await this.deps.createFollowUp({ source: 'self_inspection', sourceRef: ref, problem: f.problem, measures: f.measures, responsible: f.responsible, deadline: f.deadline, evidence: [] }, actor, requestId);
      followUps.push({ ...f, ledgerId: item.id });
    }
    const meeting: Meeting = { ...input, id, followUps, recordedBy: actor.id, recordedAt: now.toISOString() };
    try {
      await this.deps.es.create({ index: this.deps.index, id, document: meeting, refresh: 'wait_for' });
    } catch (err) {
      throw translateEsError(err, 'record a meeting');
    }
    await this.deps.audit.record({ actor, entity: { type: 'meeting', id }, action: 'meeting.record', after: { heldAt: meeting.heldAt, period: meeting.period, attendees: meeting.attendees, ledgerIds: followUps.map((f) => f.ledgerId) }, requestId });
    return meeting;
  }

  async list(limit = 50): Promise<Meeting[]> {
    try {
      const res = await this.deps.es.search<Meeting>({ index: this.deps.index, size: limit, sort: [{ heldAt: 'desc' }] });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list meetings');
    }
  }

  async get(id: string): Promise<Meeting> {
    // Any other id names no meeting; one too long for a URL would make Elasticsearch refuse the request.
    if (!MEETING_ID.test(id)) throw new NotFoundError(`meeting ${id.slice(0, 80)} does not exist`);
    try {
      const res = await this.deps.es.get<Meeting>({ index: this.deps.index, id });
      if (!res._source) throw new NotFoundError(`meeting ${id} does not exist`);
      return res._source;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) throw new NotFoundError(`meeting ${id} does not exist`);
      throw translateEsError(err, `read meeting ${id}`);
    }
  }
}
