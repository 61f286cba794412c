import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { createLedgerItem } from '../../core/ledger/ledger-actions.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsLedgerStore } from '../../pipeline/elasticsearch/es-ledger-store.js';
import { EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { MeetingService } from '../../reports/meeting-service.js';
import { RecordMeetingSchema } from '../../core/meetings/meeting.js';
import { isolation } from '../support/isolation.js';

const iso = isolation();
let es: Client;
let redis: Redis;
let audit: EsAuditLog;
let ledger: EsLedgerStore;
let meetings: MeetingService;
const actor = { kind: 'user' as const, id: 'chief', displayName: '刘科长', roles: ['section_chief'] };

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  redis = new Redis(iso.redisUrl);
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  ledger = new EsLedgerStore(es, names.ledger);
  const users = new EsUserStore(es, names.users);
  await users.seed([{ username: 'duty', displayName: '张值班', section: '网信办', roles: ['duty'], passwordHash: 'scrypt$00$00' }]);
  const alerts = { get: async () => undefined };
  meetings = new MeetingService({
    es,
    index: `${iso.indexPrefix}-meetings`,
    createFollowUp: (input, who, requestId) => createLedgerItem({ ledger, users, alerts, audit, now: () => new Date() }, input, { actor: who, ...(requestId ? { requestId } : {}) }),
    audit,
    now: () => new Date('2026-10-09T02:00:00Z'),
  });
  await meetings.ensure();
});

afterAll(async () => {
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('recording an analysis-and-judgment meeting', () => {
  it('turns follow-ups into ledger items that name the meeting, and keeps their ids, audited', async () => {
    const input = RecordMeetingSchema.parse({
      heldAt: '2026-10-09T09:30:00+08:00',
      period: '2026-Q3',
      attendees: ['刘科长', '张值班', '陈副部长'],
      topics: ['三季度舆情研判', '县长信箱超期留言'],
      conclusions: '三季度舆情总体平稳，县长信箱答复时效需提升。',
      followUps: [{ problem: '县长信箱 1 条留言超 3 个月未答复', measures: '10 月 15 日前答复并公开', responsible: 'duty', deadline: '2026-10-15T18:00:00+08:00' }],
    });
    const meeting = await meetings.record(input, actor, 'req-meeting-1');
    expect(meeting.followUps).toHaveLength(1);
    const item = await ledger.get(meeting.followUps[0]!.ledgerId);
    expect(item).toMatchObject({ source: 'self_inspection', responsible: 'duty', section: '网信办', status: 'open' });
    expect(item!.sourceRef).toContain(meeting.id);
    expect(await meetings.get(meeting.id)).toMatchObject({ conclusions: input.conclusions });
    const [record] = await audit.list({ entityType: 'meeting', entityId: meeting.id });
    expect(record).toMatchObject({ action: 'meeting.record', actor: { id: 'chief' }, requestId: 'req-meeting-1' });
  });

  it('refuses a follow-up for somebody who is not a user, naming the field', async () => {
    const input = RecordMeetingSchema.parse({ heldAt: '2026-10-09T09:30:00+08:00', attendees: ['a'], topics: ['t'], conclusions: 'c', followUps: [{ problem: 'p', measures: 'm', responsible: 'ghost', deadline: '2026-10-15T18:00:00+08:00' }] });
    await expect(meetings.record(input, actor)).rejects.toMatchObject({ httpStatus: 400, message: expect.stringContaining('responsible') });
  });

  it('answers 404 for an unknown meeting', async () => {
    await expect(meetings.get('yp-none')).rejects.toMatchObject({ httpStatus: 404 });
  });
});
