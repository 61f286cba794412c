import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditActor } from '../../core/audit/audit-log.js';
import { UnavailableError } from '../../core/errors.js';
import { plannedClocks } from '../../core/escalation/clocks.js';
import { clockJobId } from '../../pipeline/escalate/clock-scheduler.js';
import { BULK, createHarness, esClientThrough, esCuttingProxy, MGET, shortPolicy, signalFor, type Harness } from '../support/alerting-harness.js';
import { isolation } from '../support/isolation.js';

const duty: AuditActor = { kind: 'user', id: 'duty', displayName: '张值班', roles: ['duty'] };

/**
 * The audit log talks to the real Elasticsearch node through a loopback proxy that cuts chosen
 * appends before they reach it (Elasticsearch unreachable for the audit bulk), and the alert store
 * through another; queues and clocks talk to Redis directly. The clients are the production ones.
 */
describe('alert writes whose audit record, clocks or confirmation were left undone (real Elasticsearch behind cutting proxies)', () => {
  const iso = isolation();
  const proxy = esCuttingProxy(iso);
  const alertProxy = esCuttingProxy(iso);
  let h: Harness;
  /** How many of the desk's next clock armings fail (as when Redis refuses the delayed jobs). */
  let armingsToFail = 0;

  beforeAll(async () => {
    await proxy.start();
    await alertProxy.start();
    h = await createHarness({
      ...iso,
      auditEs: esClientThrough(proxy, iso),
      alertsEs: esClientThrough(alertProxy, iso),
      policy: shortPolicy(),
      deskClocks: (real) => ({
        arm: async (alert, before) => {
          if (armingsToFail > 0) {
            armingsToFail -= 1;
            throw new UnavailableError('Redis refused the delayed jobs', 'redis_unavailable');
          }
          await real.arm(alert, before);
        },
        armClock: (alertId, clock) => real.armClock(alertId, clock),
      }),
    });
  });
  afterEach(() => {
    proxy.disarm();
    alertProxy.disarm();
  });
  afterAll(async () => {
    await h?.close();
    await proxy.stop();
    await alertProxy.stop();
    await iso.cleanup();
  });

  const recordsOf = async (id: string, action: string) => (await h.audit.list({ entityId: id })).filter((r) => r.action === action);
  /** Runs the settler (as the escalate role's reconciler does) and keeps what it said of this alert. */
  const settle = async (id: string) => (await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id).map((s) => s.outcome);

  /** Fails the next audit append: the request never reaches Elasticsearch, on the first send nor on the log's two resends. */
  function refuseNextAppend() {
    proxy.cuts.length = 0;
    proxy.cutNext(BULK, 'before-request', 3);
  }

  it('a signature stored whose audit append failed gets its one record from the settler; a resend with its key afterwards writes none', async () => {
    const id = 'act-unaudited';
    await h.desk.raise(signalFor(id, 3));
    refuseNextAppend();
    await expect(h.desk.act(id, { type: 'acknowledge', note: '收到，正在核实' }, duty, 'req-act-1', undefined, 'act-key-1')).rejects.toBeInstanceOf(UnavailableError);
    expect(proxy.cuts).toHaveLength(3);
    expect(await h.alerts.get(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty' });
    expect(await recordsOf(id, 'alert.acknowledge')).toEqual([]);

    expect(await settle(id)).toEqual(['recorded']);
    const records = await recordsOf(id, 'alert.acknowledge');
    expect(records).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ kind: 'user', id: 'duty' }),
        requestId: 'req-act-1',
        idempotencyKey: 'act-key-1',
        reason: '收到，正在核实',
        before: expect.objectContaining({ status: 'new' }),
        after: expect.objectContaining({ status: 'acknowledged', recordedBySettler: true }),
      }),
    ]);

    // The page resends what it sent: answered with the alert, and still one record.
    expect((await h.desk.act(id, { type: 'acknowledge', note: '收到，正在核实' }, duty, 'req-act-2', undefined, 'act-key-1')).alert.status).toBe('acknowledged');
    expect(await recordsOf(id, 'alert.acknowledge')).toHaveLength(1);
    expect(await settle(id)).toEqual([]);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a signature whose audit append failed, resent with its key before the settler comes round: the resend writes the one record and the settler finds it written', async () => {
    const id = 'act-resent-first';
    await h.desk.raise(signalFor(id, 3));
    refuseNextAppend();
    await expect(h.desk.act(id, { type: 'acknowledge' }, duty, 'req-first', undefined, 'act-key-2')).rejects.toBeInstanceOf(UnavailableError);
    await h.desk.act(id, { type: 'acknowledge' }, duty, 'req-again', undefined, 'act-key-2');
    expect((await recordsOf(id, 'alert.acknowledge')).map((r) => r.requestId)).toEqual(['req-again']);

    expect(await settle(id)).toEqual(['already-recorded']);
    expect(await recordsOf(id, 'alert.acknowledge')).toHaveLength(1);
  });

  it('a signal merged into an alert whose audit append failed: the job retry finds it merged and writes nothing, the settler writes the one alert.merge record by the evaluator', async () => {
    const id = 'merge-unaudited';
    await h.desk.raise(signalFor(id, 3), 'job-create');
    const second = signalFor(id, 3, `${id}-p2`);
    refuseNextAppend();
    await expect(h.desk.raise(second, 'job-merge')).rejects.toBeInstanceOf(UnavailableError);
    expect(proxy.cuts).toHaveLength(3);
    expect((await h.alerts.get(id))?.postIds).toEqual([`${id}-p1`, `${id}-p2`]);

    // BullMQ retries the job: the signal is in the alert already.
    expect(await h.desk.raise(second, 'job-merge')).toEqual({ alertId: id, outcome: 'unchanged' });
    expect(await recordsOf(id, 'alert.merge')).toEqual([]);

    expect(await settle(id)).toEqual(['recorded']);
    expect(await recordsOf(id, 'alert.merge')).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ kind: 'system', id: 'alert-evaluator' }), before: expect.objectContaining({ postCount: 1 }), after: expect.objectContaining({ postCount: 2, recordedBySettler: true }) }),
    ]);
    expect(await h.desk.raise(second, 'job-merge')).toEqual({ alertId: id, outcome: 'unchanged' });
    expect(await settle(id)).toEqual([]);
    expect(await recordsOf(id, 'alert.merge')).toHaveLength(1);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a clock fired whose audit append failed: the job retry finds it fired and writes nothing, the settler writes the one record by the escalation component', async () => {
    const id = 'clock-unaudited';
    await h.desk.raise(signalFor(id, 3));
    const clock = plannedClocks((await h.alerts.get(id))!).find((c) => c.id === 'escalate-1')!;
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(clock.dueAt) - Date.now() + 50)));
    refuseNextAppend();
    await expect(h.desk.fire(id, clock.id, clock.token)).rejects.toBeInstanceOf(UnavailableError);
    expect(proxy.cuts).toHaveLength(3);
    expect((await h.alerts.get(id))?.escalationStep).toBe(1);

    // BullMQ retries the clock job: it finds the clock fired.
    expect(await h.desk.fire(id, clock.id, clock.token)).toBe('already-fired');
    expect(await recordsOf(id, 'alert.clock.escalation')).toEqual([]);

    expect(await settle(id)).toEqual(['recorded']);
    expect(await recordsOf(id, 'alert.clock.escalation')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ kind: 'system', id: 'escalation' }),
        reason: '超时未签收，上报科室负责人',
        after: expect.objectContaining({ escalationStep: 1, clockId: 'escalate-1', recordedBySettler: true }),
      }),
    ]);
    expect(await h.desk.fire(id, clock.id, clock.token)).toBe('already-fired');
    expect(await settle(id)).toEqual([]);
    expect(await recordsOf(id, 'alert.clock.escalation')).toHaveLength(1);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a signal merged whose write the store could not confirm (write_outcome_unknown): the job retry finds it merged, and the settler, finding its receipt in the alert, writes the one alert.merge record', async () => {
    const id = 'merge-unconfirmed';
    await h.desk.raise(signalFor(id, 3), 'job-create-2');
    const second = signalFor(id, 3, `${id}-p2`);
    alertProxy.cuts.length = 0;
    // The answer to the write is lost after it was stored, and so is the store's read-back.
    alertProxy.cutNext(BULK, 'before-response');
    alertProxy.cutNext(MGET, 'before-request', 3, { after: BULK });
    await expect(h.desk.raise(second, 'job-merge-2')).rejects.toMatchObject({ code: 'write_outcome_unknown' });
    expect(alertProxy.cuts).toHaveLength(4);

    expect(await h.desk.raise(second, 'job-merge-2')).toEqual({ alertId: id, outcome: 'unchanged' });
    expect(await recordsOf(id, 'alert.merge')).toEqual([]);

    expect(await settle(id)).toEqual(['recorded']);
    expect(await recordsOf(id, 'alert.merge')).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ kind: 'system', id: 'alert-evaluator' }), after: expect.objectContaining({ postCount: 2, recordedBySettler: true }) }),
    ]);
    expect(await settle(id)).toEqual([]);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a signature whose clocks could not be armed: its record is written at once, and the settler arms its clocks', async () => {
    const id = 'act-unarmed';
    await h.desk.raise(signalFor(id, 3));
    // Redis lost the alert's delayed jobs, and refuses the signature's arming.
    for (const c of plannedClocks((await h.alerts.get(id))!)) await h.queues.escalate.remove(clockJobId(id, c));
    armingsToFail = 1;
    await expect(h.desk.act(id, { type: 'acknowledge' }, duty, 'req-unarmed')).rejects.toBeInstanceOf(UnavailableError);
    const clocks = plannedClocks((await h.alerts.get(id))!);
    expect(clocks.length).toBeGreaterThan(0);
    const armed = async () => (await Promise.all(clocks.map((c) => h.queues.escalate.getJob(clockJobId(id, c))))).filter((j) => j !== undefined).length;
    expect(await armed()).toBe(0);
    expect(await recordsOf(id, 'alert.acknowledge')).toHaveLength(1);

    expect(await settle(id)).toEqual(['already-recorded']);
    expect(await armed()).toBe(clocks.length);
    expect(await recordsOf(id, 'alert.acknowledge')).toHaveLength(1);
  });
});
