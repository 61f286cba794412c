import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, isolation } from '../support/isolation.js';
import { createHarness, shortPolicy, signalFor, type Harness } from '../support/alerting-harness.js';
import type { AuditActor } from '../../core/audit/audit-log.js';
import { ConflictError } from '../../core/errors.js';
import { clockJobId } from '../../pipeline/escalate/clock-scheduler.js';
import { plannedClocks } from '../../core/escalation/clocks.js';
import { reconcileClocks } from '../../pipeline/escalate/reconciler.js';
import { createLogger } from '../../core/logger.js';
import { applyAlertAction } from '../../core/alerts/lifecycle.js';
import { keyedReceipt, parseVersion } from '../../pipeline/elasticsearch/write-receipts.js';
import { RedisUnsettledWrites } from '../../pipeline/redis/redis-unsettled-writes.js';

const duty: AuditActor = { kind: 'user', id: 'duty', displayName: '张值班', roles: ['duty'] };
const chief: AuditActor = { kind: 'user', id: 'chief', displayName: '刘科长', roles: ['section_chief'] };

describe('alert clocks and escalation against real Redis and Elasticsearch', () => {
  const iso = isolation();
  let h: Harness;
  let role: ReturnType<Harness['startEscalation']>;

  beforeAll(async () => {
    h = await createHarness({ ...iso, policy: shortPolicy() });
    role = h.startEscalation();
  });
  afterAll(async () => {
    await h?.close();
    await iso.cleanup();
  });

  it('when an alert is not signed for, it escalates to the section chief, the leader and the first responsible person, each on time', async () => {
    await h.desk.raise(signalFor('unsigned', 3));
    const alert = await h.waitFor('unsigned', (a) => a.firedClocks.some((f) => f.clockId === 'escalate-3'), 15_000);
    const steps = alert.firedClocks.filter((f) => f.clockId.startsWith('escalate-'));
    expect(steps.map((f) => f.clockId)).toEqual(['escalate-1', 'escalate-2', 'escalate-3']);
    for (const f of steps) expect(f.lateMs).toBeLessThan(1000);
    expect(alert.escalationStep).toBe(3);
    // Deliveries are enqueued right after the alert is written.
    const jobs = await eventually(async () => {
      const all = (await h.notifyJobs()).filter((j) => j.subject.id === 'unsigned');
      return all.filter((j) => j.reason === 'escalation').length >= 6 ? all : undefined;
    }, 5_000, 'three escalation deliveries on two channels each');
    const reached = jobs.filter((j) => j.reason === 'escalation').flatMap((j) => j.recipients.map((r) => r.username));
    expect(new Set(reached)).toEqual(new Set(['chief', 'leader', 'secretary']));
    expect(jobs.every((j) => j.message.link.endsWith('/alerts/unsigned') && !j.message.link.includes('#'))).toBe(true);
    // Every fired clock left an audit record by the escalation component.
    const records = await h.audit.list({ entityId: 'unsigned' });
    expect(records.filter((r) => r.action === 'alert.clock.escalation').map((r) => r.actor.id)).toEqual(['escalation', 'escalation', 'escalation']);
  });

  it('when it is signed for in time, no escalation step fires', async () => {
    await h.desk.raise(signalFor('signed', 3));
    await h.desk.act('signed', { type: 'acknowledge', note: '收到' }, duty, 'req-signed-1');
    await new Promise((r) => setTimeout(r, 4_500));
    const alert = (await h.alerts.get('signed'))!;
    expect(alert.status).toBe('acknowledged');
    expect(alert.firedClocks.filter((f) => f.clockId.startsWith('escalate-'))).toEqual([]);
    expect(alert.escalationStep).toBe(0);
    const records = await h.audit.list({ entityId: 'signed' });
    expect(records.map((r) => r.action).sort()).toEqual(['alert.acknowledge', 'alert.create']);
    expect(records.find((r) => r.action === 'alert.acknowledge')).toMatchObject({ actor: { id: 'duty' }, requestId: 'req-signed-1', before: { status: 'new' }, after: { status: 'acknowledged' } });
  });

  it('of two people signing at once, one wins and the other is told who signed', async () => {
    await h.desk.raise(signalFor('race', 3));
    const results = await Promise.allSettled([h.desk.act('race', { type: 'acknowledge' }, duty), h.desk.act('race', { type: 'acknowledge' }, chief)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConflictError);
    const winner = (await h.alerts.get('race'))!.acknowledgedBy!;
    expect((lost[0]!.reason as Error).message).toContain(winner);
    expect((await h.audit.list({ entityId: 'race' })).filter((r) => r.action === 'alert.acknowledge')).toHaveLength(1);
  });

  it('a stale version from the caller is refused with 409 even when the action would be legal', async () => {
    await h.desk.raise(signalFor('stale', 3));
    const seen = (await h.alerts.getVersioned('stale'))!.version;
    await h.desk.act('stale', { type: 'assign', assignee: { kind: 'section', id: '网信办' } }, chief);
    await expect(h.desk.act('stale', { type: 'acknowledge' }, duty, undefined, seen)).rejects.toMatchObject({ code: 'stale_version', httpStatus: 409 });
  });

  it('a red alert pages the first responsible person the moment it is raised', async () => {
    const started = Date.now();
    await h.desk.raise(signalFor('red', 1));
    const jobs = (await h.notifyJobs()).filter((j) => j.subject.id === 'red' && j.reason === 'first');
    const recipients = jobs.flatMap((j) => j.recipients.map((r) => r.username));
    expect(recipients).toContain('secretary');
    expect(recipients).toEqual(expect.arrayContaining(['duty', 'chief', 'leader', 'secretary']));
    expect(jobs.find((j) => j.recipients.some((r) => r.username === 'secretary'))!.recipients.find((r) => r.username === 'secretary')!.mobile).toBe('13800000005');
    expect(Date.now() - started).toBeLessThan(2_000);
    const alert = (await h.alerts.get('red'))!;
    expect(alert.notifications[0]).toMatchObject({ trigger: 'created', decision: 'send', reason: 'first' });
  });

  it('when Redis loses the delayed jobs, the reconciler re-arms them from Elasticsearch and they fire on time', async () => {
    await h.desk.raise(signalFor('lost', 3));
    const alert = (await h.alerts.get('lost'))!;
    const ids = plannedClocks(alert).map((c) => clockJobId('lost', c));
    for (const id of ids) expect(await h.queues.escalate.remove(id)).toBe(1);
    expect(await h.queues.escalate.getJob(ids[0]!)).toBeUndefined();
    const report = await reconcileClocks({ alerts: h.alerts, queue: h.queues.escalate, redis: h.redis, clocks: h.clocks, now: () => new Date(), log: createLogger('silent') });
    expect(report.rearmed).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) expect(await h.queues.escalate.getJob(id)).toBeDefined();
    const done = await h.waitFor('lost', (a) => a.firedClocks.some((f) => f.clockId === 'escalate-1'), 8_000);
    expect(done.firedClocks.find((f) => f.clockId === 'escalate-1')!.lateMs).toBeLessThan(1000);
  });

  it('a signature stored but never confirmed to the signer, who did not resend it, gets its audit record when the reconciler comes round', async () => {
    await h.desk.raise(signalFor('unsettled', 3));
    const current = (await h.alerts.getVersioned('unsettled'))!;
    // What `act` leaves when the answer to its write and both read-backs were lost: the signature
    // stored under its receipt, the signer told write_outcome_unknown, the write kept as unsettled.
    const signed = applyAlertAction(current.alert, { type: 'acknowledge' }, { actor: 'duty', now: new Date() }, { requirePlanForLevels: current.alert.policy.requirePlanForLevels });
    if (!signed.ok) throw new Error(signed.reason);
    const writeKey = 'act\u0000duty\u0000unsettled-key';
    await h.alerts.replace(signed.alert, current.version, writeKey);
    await new RedisUnsettledWrites(h.redis, iso.redisPrefix).remember({
      alertId: 'unsettled',
      receipt: keyedReceipt(writeKey, parseVersion(current.version)),
      replaced: current.version,
      actor: duty,
      action: { type: 'acknowledge' },
      requestId: 'req-unsettled',
      before: { status: 'new' },
      at: new Date().toISOString(),
    });
    expect((await h.audit.list({ entityId: 'unsettled' })).map((r) => r.action)).toEqual(['alert.create']);

    await role.reconcile();
    const records = (await h.audit.list({ entityId: 'unsettled' })).filter((r) => r.action === 'alert.acknowledge');
    expect(records).toEqual([expect.objectContaining({ actor: expect.objectContaining({ id: 'duty' }), requestId: 'req-unsettled', after: expect.objectContaining({ status: 'acknowledged', recordedBySettler: true }) })]);
    expect(await new RedisUnsettledWrites(h.redis, iso.redisPrefix).list(100)).toEqual([]);
  });

  it('a change re-arms the clocks due before the reconciler would come round, if their jobs were lost', async () => {
    await h.desk.raise(signalFor('rearm', 3));
    const alert = (await h.alerts.get('rearm'))!;
    const ids = plannedClocks(alert).map((c) => clockJobId('rearm', c));
    for (const id of ids) await h.queues.escalate.remove(id);
    // A change that plans no new clock: only the clocks due within the reconciler's period come back.
    await h.desk.act('rearm', { type: 'assign', assignee: { kind: 'person', id: 'chief', name: '刘科长' } }, chief, 'req-rearm');
    const soon = plannedClocks(alert).filter((c) => Date.parse(c.dueAt) <= Date.now() + 60_000);
    expect(soon.length).toBeGreaterThan(0);
    for (const c of soon) expect(await h.queues.escalate.getJob(clockJobId('rearm', c))).toBeDefined();
    const done = await h.waitFor('rearm', (a) => a.firedClocks.some((f) => f.clockId === 'escalate-1'), 8_000);
    expect(done.firedClocks.find((f) => f.clockId === 'escalate-1')!.lateMs).toBeLessThan(1000);
  });

  it('a clock job delivered twice fires once', async () => {
    await h.desk.raise(signalFor('twice', 2));
    const alert = await h.waitFor('twice', (a) => a.firedClocks.some((f) => f.clockId === 'escalate-1'), 8_000);
    const fired = alert.firedClocks.find((f) => f.clockId === 'escalate-1')!;
    const token = fired.key.split(':')[1]!;
    expect(await h.desk.fire('twice', 'escalate-1', token)).toBe('already-fired');
    expect(await h.desk.fire('twice', 'escalate-1', 'bogus')).toBe('stale');
    expect(await h.desk.fire('nope', 'escalate-1', token)).toBe('missing');
  });
});

describe('quiet hours against real Redis and Elasticsearch', () => {
  const iso = isolation();
  let h: Harness;
  // The desk's clock reads 06:59:57 Shanghai time, so quiet hours (22:00–07:00) end 4 s from now.
  let realStart = Date.now();
  const fakeStart = Date.parse('2026-11-24T06:59:56+08:00');
  const now = () => new Date(fakeStart + (Date.now() - realStart));

  beforeAll(async () => {
    h = await createHarness({ ...iso, policy: shortPolicy({ notifications: { quietHours: { from: '22:00', to: '07:00', levels: [3, 4] }, groupWindowSeconds: 300, repeatIntervalSeconds: 3600, inhibitLowerLevelsOfSameEvent: true } }), now });
    realStart = Date.now();
    h.startEscalation();
  });
  afterAll(async () => {
    await h?.close();
    await iso.cleanup();
  });

  it('defers a blue alert raised in quiet hours, says until when, and sends it at 07:00', async () => {
    await h.desk.raise(signalFor('blue', 4));
    const alert = (await h.alerts.get('blue'))!;
    expect(alert.notifications[0]).toMatchObject({ decision: 'defer', reason: 'quiet-hours', summary: '未发送：静默时段，将于 07:00 发送' });
    expect((await h.notifyJobs()).filter((j) => j.subject.id === 'blue')).toEqual([]);
    // The escalation step to the chief (2 s) was deferred too; both go out at 07:00, in either order.
    const toDuty = (n: { reason: string; recipients: string[] }) => n.reason === 'deferred-due' && n.recipients.length === 1 && n.recipients[0] === 'duty';
    const sent = await h.waitFor('blue', (a) => a.notifications.some(toDuty), 8_000);
    // Nothing went out to the duty officer before the quiet hours ended.
    expect(sent.notifications.filter(toDuty).every((n) => Date.parse(n.at) >= Date.parse('2026-11-24T07:00:00+08:00'))).toBe(true);
    await eventually(async () => ((await h.notifyJobs()).some((j) => j.subject.id === 'blue' && j.reason === 'deferred-due') ? true : undefined), 5_000, 'the deferred delivery');
  });

  it('a red alert in the same quiet hours is sent at once', async () => {
    await h.desk.raise(signalFor('red-night', 1));
    expect((await h.alerts.get('red-night'))!.notifications[0]).toMatchObject({ decision: 'send', reason: 'first' });
  });
});
