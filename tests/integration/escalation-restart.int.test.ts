import { afterAll, describe, expect, it } from 'vitest';
import { eventually, isolation } from '../support/isolation.js';
import { createHarness, shortPolicy, signalFor, type Harness } from '../support/alerting-harness.js';
import type { AuditActor } from '../../core/audit/audit-log.js';

const duty: AuditActor = { kind: 'user', id: 'duty', displayName: '张值班', roles: ['duty'] };

/** Steps at 2 s, 7 s and 10 s: the restart happens between the first and the second. */
function restartPolicy() {
  const base = shortPolicy();
  const steps = [
    { afterSeconds: 2, role: 'section_chief' as const },
    { afterSeconds: 7, role: 'leader' as const },
    { afterSeconds: 10, role: 'first_responsible' as const },
  ];
  return shortPolicy({ levels: Object.fromEntries(Object.entries(base.levels).map(([k, v]) => [k, { ...v, steps }])) as typeof base.levels });
}

describe('restarting every alerting process in the middle of an escalation (real Redis and Elasticsearch)', () => {
  const iso = isolation();
  const harnesses: Harness[] = [];
  const start = async () => {
    const h = await createHarness({ ...iso, policy: restartPolicy() });
    harnesses.push(h);
    return h;
  };

  afterAll(async () => {
    for (const h of harnesses) await h.close().catch(() => undefined);
    await iso.cleanup();
  });

  it('changes neither: the unsigned alert still escalates on time, each step once; the signed one still does not', async () => {
    const before = await start();
    before.startEscalation();
    await before.desk.raise(signalFor('restart-unsigned', 3));
    await before.desk.raise(signalFor('restart-signed', 3));
    await before.desk.act('restart-signed', { type: 'acknowledge', note: '收到' }, duty, 'req-restart-signed');
    await before.waitFor('restart-unsigned', (a) => a.firedClocks.some((f) => f.clockId === 'escalate-1'), 8_000);

    // Every component stops: the escalate worker, the reconciler, the desk, the queues, the clients.
    await before.close();
    harnesses.length = 0;

    // New instances. Redis keeps nothing on disk here, so it comes back without the delayed jobs.
    const after = await start();
    const delayed = (await after.queues.escalate.getDelayed(0, 10_000)).filter((j) => j.data.alertId.startsWith('restart-'));
    expect(delayed.map((j) => j.data.clockId)).toEqual(expect.arrayContaining(['escalate-2', 'escalate-3']));
    for (const job of delayed) await job.remove();
    expect((await after.queues.escalate.getDelayed(0, 10_000)).filter((j) => j.data.alertId.startsWith('restart-'))).toEqual([]);
    after.startEscalation(1);
    // The reconciler re-arms them from the due times the alerts keep in Elasticsearch.
    await eventually(
      async () => ((await after.queues.escalate.getDelayed(0, 10_000)).some((j) => j.data.alertId === 'restart-unsigned' && j.data.clockId === 'escalate-2') ? true : undefined),
      5_000,
      'the reconciler to re-arm escalate-2',
    );

    const done = await after.waitFor('restart-unsigned', (a) => a.firedClocks.some((f) => f.clockId === 'escalate-3'), 15_000);
    const steps = done.firedClocks.filter((f) => f.clockId.startsWith('escalate-'));
    expect(steps.map((f) => f.clockId)).toEqual(['escalate-1', 'escalate-2', 'escalate-3']);
    for (const f of steps) expect(f.lateMs).toBeLessThan(1000);
    expect(done.escalationStep).toBe(3);
    // Give a duplicate a chance to show before counting.
    await new Promise((r) => setTimeout(r, 1_500));
    const records = await after.audit.list({ entityId: 'restart-unsigned' });
    expect(records.filter((r) => r.action === 'alert.clock.escalation').map((r) => (r.after as { clockId: string }).clockId).sort()).toEqual(['escalate-1', 'escalate-2', 'escalate-3']);
    // One delivery per step and channel: a step fired twice would add deliveries with new ids.
    const deliveries = (await after.notifyJobs()).filter((j) => j.subject.id === 'restart-unsigned' && j.reason === 'escalation').flatMap((j) => j.recipients.map((r) => `${r.username}@${j.channelId}`));
    expect(deliveries.sort()).toEqual(['chief@dingtalk-duty', 'chief@inapp', 'leader@inapp', 'leader@wecom-leaders', 'secretary@inapp', 'secretary@wecom-leaders']);

    const signed = (await after.alerts.get('restart-signed'))!;
    expect(signed.status).toBe('acknowledged');
    expect(signed.escalationStep).toBe(0);
    expect(signed.firedClocks.filter((f) => f.clockId.startsWith('escalate-'))).toEqual([]);
    expect((await after.audit.list({ entityId: 'restart-signed' })).map((r) => r.action).sort()).toEqual(['alert.acknowledge', 'alert.create']);
    expect(await after.audit.verify()).toMatchObject({ ok: true });
  });
});
