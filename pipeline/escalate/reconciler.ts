import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { plannedClocks } from '../../core/escalation/clocks.js';
import type { Logger } from '../../core/logger.js';
import type { AlertStore } from '../elasticsearch/es-alert-store.js';
import type { EscalateJob } from '../queues.js';
import { clockJobId, type ClockScheduler } from './clock-scheduler.js';

export interface ReconcileReport {
  alerts: number;
  clocks: number;
  /** Clocks whose delayed job was missing (Redis flushed or restarted without persistence) and was re-armed. */
  rearmed: number;
  /** Overdue clocks whose job had failed or completed without effect, and were retried. */
  retried: number;
}

/**
 * Re-arms timers Redis lost. The due times live with the alerts in Elasticsearch; for every pending
 * clock the reconciler checks that its delayed job exists and adds it when not. Adding is
 * idempotent (the job id is alert + clock + token) and a clock fires at most once (the alert
 * records it), so several reconcilers may run at once.
 */
export async function reconcileClocks(deps: {
  alerts: AlertStore;
  queue: Queue<EscalateJob>;
  /** The Redis the queue lives in (job existence is checked in one pipeline per page). */
  redis: Redis;
  clocks: ClockScheduler;
  now: () => Date;
  log: Logger;
  pageSize?: number;
  /** A clock this far past due whose job still exists is checked for a failed or finished state. */
  overdueGraceMs?: number;
}): Promise<ReconcileReport> {
  const report: ReconcileReport = { alerts: 0, clocks: 0, rearmed: 0, retried: 0 };
  const grace = deps.overdueGraceMs ?? 5_000;
  let after: string | undefined;
  for (;;) {
    const page = await deps.alerts.withPendingClocks(after, deps.pageSize ?? 500);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    report.alerts += page.length;
    const pending = page.flatMap((alert) => plannedClocks(alert).map((clock) => ({ alert, clock, jobId: clockJobId(alert.id, clock) })));
    report.clocks += pending.length;
    const pipeline = deps.redis.pipeline();
    for (const p of pending) pipeline.exists(deps.queue.toKey(p.jobId));
    const exists = ((await pipeline.exec()) ?? []).map(([, n]: [Error | null, unknown]) => n === 1);
    const now = deps.now().getTime();
    for (const [i, p] of pending.entries()) {
      if (!exists[i]) {
        await deps.clocks.armClock(p.alert.id, p.clock);
        report.rearmed += 1;
        continue;
      }
      if (Date.parse(p.clock.dueAt) + grace > now) continue;
      const job = await deps.queue.getJob(p.jobId);
      const state = job ? await job.getState() : 'unknown';
      if (state === 'failed') {
        await job!.retry('failed');
        report.retried += 1;
      } else if (state === 'completed' || state === 'unknown') {
        // Finished without recording the clock (e.g. the alert write failed after the job ended).
        await deps.queue.remove(p.jobId).catch(() => 0);
        await deps.clocks.armClock(p.alert.id, p.clock);
        report.retried += 1;
      }
    }
  }
  if (report.rearmed + report.retried > 0) deps.log.warn(report, 'escalation reconciler re-armed missing clocks');
  return report;
}
