import type { ChainableCommander, Redis } from 'ioredis';

/**
 * What a delivery job found when it claimed its notification id:
 * - `first`: nobody had: this job sends it;
 * - `own`: this very job claimed it on an earlier run (a retry after a failed send, or a rerun after
 *   a crash): it sends it (again, should the crash have come after the send);
 * - `sent-by-another`: another job with this notification id claimed it and was not failed, so it sent it;
 * - `in-digest`: held back for a digest, which sends it (or sent it).
 */
export type DeliveryClaim = 'first' | 'own' | 'sent-by-another' | 'in-digest';

/** Longer than any retry, settler run or resend that may queue a notification again (BullMQ keeps completed jobs 24 h). */
export const DELIVERED_TTL_SECONDS = 14 * 86_400;

const CLAIM = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The notification ids delivered (or handed to a digest), for 14 days, so a notification is sent once
 * however often it is queued: BullMQ drops completed jobs after 24 h, after which the same job id
 * queued again (a settler run, a resend, a retried decision) would be a new job.
 *
 * Claim, then send: a job claims its notification id before sending (one Redis command, also the
 * whole cost on the normal path) and keeps the claim when the send succeeds. The claim names the job
 * (its BullMQ id and creation time), so the job's own retries and reruns still send; any other job
 * finding it claimed does nothing. A job that fails for good gives its claim back, so a later queueing
 * may send it. The at-least-once window left: a crash after a send and before its job completed (or a
 * delivery outcome that could not be recorded) reruns that same job, which sends once more.
 */
export class DeliveredNotifications {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(notificationId: string): string {
    return `${this.prefix}:notify:delivered:${notificationId}`;
  }

  /** Claims `notificationId` for the job `holder` to send, unless a job claimed it before. */
  async claim(notificationId: string, holder: string): Promise<DeliveryClaim> {
    const held = (await this.redis.eval(CLAIM, 1, this.key(notificationId), `send:${holder}`, DELIVERED_TTL_SECONDS)) as string | null;
    if (held === null) return 'first';
    if (held.startsWith('digest:')) return 'in-digest';
    return held === `send:${holder}` ? 'own' : 'sent-by-another';
  }

  /** Adds to `tx` (the digest buffer's hold) the mark that the digest now owes `notificationId`. */
  markHeldForDigest(tx: ChainableCommander, notificationId: string, holder: string): ChainableCommander {
    return tx.set(this.key(notificationId), `digest:${holder}`, 'EX', DELIVERED_TTL_SECONDS);
  }

  /** Gives back the claim of a job that failed for good: it did not deliver the notification. */
  async release(notificationId: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(notificationId), `send:${holder}`);
  }
}
