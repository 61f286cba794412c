import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import type { AlertDesk } from '../alert/alert-desk.js';
import type { AlertStore } from '../elasticsearch/es-alert-store.js';
import { startWorker, type EscalateJob } from '../queues.js';
import type { ClockScheduler } from './clock-scheduler.js';
import { reconcileClocks } from './reconciler.js';

/**
 * The `escalate` worker (one clock job at a time per slot) and the periodic reconciler: it re-arms
 * clocks Redis lost and settles alert writes whose outcome stayed unknown (`settleUnsettledWrites`),
 * both repairs of what a lost answer or a lost Redis left undone.
 */
export function startEscalateRole(deps: {
  desk: AlertDesk;
  alerts: AlertStore;
  queue: Queue<EscalateJob>;
  clocks: ClockScheduler;
  connection: Redis;
  prefix: string;
  concurrency: number;
  reconcileEverySeconds: number;
  log: Logger;
  now: () => Date;
}): { close(): Promise<void>; reconcile(): Promise<unknown>; reconcileAfresh(): Promise<unknown> } {
  const worker = startWorker<EscalateJob>(
    'escalate',
    async (job) => {
      const outcome = await deps.desk.fire(job.data.alertId, job.data.clockId, job.data.token);
      deps.log.debug({ alertId: job.data.alertId, clockId: job.data.clockId, outcome }, 'clock');
      return outcome;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency, log: deps.log },
  );
  let running: Promise<unknown> | undefined;
  const reconcile = () => {
    running ??= Promise.all([
      reconcileClocks({ alerts: deps.alerts, queue: deps.queue, redis: deps.connection, clocks: deps.clocks, now: deps.now, log: deps.log }).catch((err: Error) =>
        deps.log.warn({ err: err.message }, 'escalation reconciler failed'),
      ),
      deps.desk.settleUnsettledWrites().catch((err: Error) => deps.log.warn({ err: err.message }, 'settling unsettled alert writes failed')),
    ]).finally(() => (running = undefined));
    return running;
  };
  /** A pass that starts now: one in progress may have read Redis before it lost its data. */
  const reconcileAfresh = async () => {
    await running;
    return reconcile();
  };
  void reconcile();
  const timer = setInterval(() => void reconcile(), deps.reconcileEverySeconds * 1000);
  timer.unref();
  return {
    reconcile,
    reconcileAfresh,
    async close() {
      clearInterval(timer);
      await running;
      await worker.close();
    },
  };
}
