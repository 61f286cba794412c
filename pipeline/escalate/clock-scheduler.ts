import type { Queue } from 'bullmq';
import type { Alert } from '../../core/alerts/alert.js';
import { plannedClocks, type Clock } from '../../core/escalation/clocks.js';
import type { EscalateJob } from '../queues.js';

/**
 * Arms an alert's clocks as BullMQ delayed jobs on the `escalate` queue. The job id is
 * alert + clock + token: arming the same plan twice adds nothing, and a re-planned clock gets a
 * new id (the old job finds its token stale and does nothing). Deliberately left out: deciding
 * whether a clock should act — that is `decideClock`, read when the job runs.
 */
export interface ClockScheduler {
  /** Arms every planned clock of `alert`; drops the jobs of clocks `before` had and `alert` no longer has. */
  arm(alert: Alert, before?: Alert): Promise<void>;
  /** Arms one clock (used by the reconciler and for early wake-ups). */
  armClock(alertId: string, clock: Clock): Promise<void>;
}

export function clockJobId(alertId: string, clock: Pick<Clock, 'id' | 'token'>): string {
  return `${alertId}.${clock.id}.${clock.token}`;
}

export class BullClockScheduler implements ClockScheduler {
  constructor(
    private readonly queue: Queue<EscalateJob>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private job(alertId: string, clock: Clock) {
    const delay = Math.max(0, Date.parse(clock.dueAt) - this.now().getTime());
    return { name: 'clock', data: { alertId, clockId: clock.id, token: clock.token, dueAt: clock.dueAt }, opts: { jobId: clockJobId(alertId, clock), delay } };
  }

  async armClock(alertId: string, clock: Clock): Promise<void> {
    const { name, data, opts } = this.job(alertId, clock);
    await this.queue.add(name, data, opts);
  }

  /** One Redis pipeline adds every clock of the alert; the removals of gone clocks go alongside. */
  async arm(alert: Alert, before?: Alert): Promise<void> {
    const clocks = plannedClocks(alert);
    const added = clocks.length > 0 ? this.queue.addBulk(clocks.map((c) => this.job(alert.id, c))) : undefined;
    const keep = new Set(clocks.map((c) => clockJobId(alert.id, c)));
    const gone = before ? plannedClocks(before).map((c) => clockJobId(alert.id, c)).filter((id) => !keep.has(id)) : [];
    // Removing is tidiness only: a stale job that still runs is a no-op.
    await Promise.all([added, ...gone.map((id) => this.queue.remove(id).catch(() => 0))]);
  }
}
