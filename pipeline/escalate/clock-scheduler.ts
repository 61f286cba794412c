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
  /** Arms the planned clocks of `alert` that `before` did not plan; drops the jobs of clocks `before` had and `alert` no longer has. */
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
    /** The reconciler's period: clocks due within it are re-added on every change. */
    private readonly reArmWithinMs = 60_000,
    /**
     * The same queue on an auto-pipelined connection, for removals only: the removals of concurrent
     * changes (two per acknowledgement) then leave in one write per event-loop turn instead of one
     * each. Adds stay on `queue`.
     */
    private readonly removals: Pick<Queue<EscalateJob>, 'remove'> = queue,
  ) {}

  private job(alertId: string, clock: Clock) {
    const delay = Math.max(0, Date.parse(clock.dueAt) - this.now().getTime());
    return { name: 'clock', data: { alertId, clockId: clock.id, token: clock.token, dueAt: clock.dueAt }, opts: { jobId: clockJobId(alertId, clock), delay } };
  }

  async armClock(alertId: string, clock: Clock): Promise<void> {
    const { name, data, opts } = this.job(alertId, clock);
    await this.queue.add(name, data, opts);
  }

  /**
   * Adds the clocks `alert` plans that `before` did not (same id and token = same job, armed when
   * `before` was written), with one Redis pipeline, and drops those `before` planned that `alert`
   * no longer does. An acknowledgement thus only removes the acknowledgement and escalation clocks
   * instead of re-adding every response clock. A clock of `before` that may never have been armed
   * (its write's answer was lost, Redis blinked, or Redis lost the job) is the reconciler's to
   * re-arm, within its period; so clocks due sooner than that period are added again all the same
   * (the same job id adds nothing when the job is there).
   */
  async arm(alert: Alert, before?: Alert): Promise<void> {
    const clocks = plannedClocks(alert);
    const had = new Set(before ? plannedClocks(before).map((c) => clockJobId(alert.id, c)) : []);
    const keep = new Set(clocks.map((c) => clockJobId(alert.id, c)));
    const soon = this.now().getTime() + this.reArmWithinMs;
    const fresh = clocks.filter((c) => !had.has(clockJobId(alert.id, c)) || Date.parse(c.dueAt) <= soon);
    const added = fresh.length > 0 ? this.queue.addBulk(fresh.map((c) => this.job(alert.id, c))) : undefined;
    const gone = [...had].filter((id) => !keep.has(id));
    // Removing is tidiness only: a stale job that still runs is a no-op.
    await Promise.all([added, ...gone.map((id) => this.removals.remove(id).catch(() => 0))]);
  }
}
