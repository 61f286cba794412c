import type { ChainableCommander, Redis } from 'ioredis';

/**
 * What a delivery job found when it claimed its notification id:
 * - `first`: nobody had (or the job that had failed or is gone, `claim`'s `takeOverFrom`): this job sends it;
 * - `own`: this very job claimed it on an earlier run and did not prove a send (a retry after a failed
 *   send, a rerun after a crash): it sends it (again, should the crash have come after the send);
 * - `own-sent`: this very job sent it on an earlier run whose outcome could not be recorded: it records
 *   the outcome and sends nothing;
 * - `held-by-another`: another job claimed it and has not proven a send: only BullMQ knows whether that
 *   job still runs (it will send), completed (it sent) or failed, is gone or hangs (this job may take the
 *   claim over);
 * - `sent-by-another`: another job sent it;
 * - `in-digest`: held back for a digest, which sends it (or sent it).
 */
export type DeliveryClaim = 'first' | 'own' | 'own-sent' | 'held-by-another' | 'sent-by-another' | 'in-digest';

/** A claim, and for `held-by-another` the job holding it (`<bullJobId>@<timestamp>`). */
export interface Claimed {
  claim: DeliveryClaim;
  heldBy?: string;
}

/** Longer than any retry, settler run or resend that may queue a notification again (BullMQ keeps completed jobs 24 h). */
export const DELIVERED_TTL_SECONDS = 14 * 86_400;

const CLAIM = `
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[3] then return held end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
`;

/** Replaces the value ARGV[1] only: a claim another job took over is not touched. */
const REPLACE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
`;

/**
 * The notification ids delivered (or handed to a digest), for 14 days, so a notification is sent once
 * however often it is queued: BullMQ drops completed jobs after 24 h, after which the same job id
 * queued again (a settler run, a resend, a retried decision) would be a new job.
 *
 * Claim, send, mark sent: a job claims its notification id before sending (`send:<holder>`, one Redis
 * command, the whole cost before the send) and marks it sent after the send succeeded (`sent:<holder>`,
 * one more). The claim names the job (its BullMQ id and creation time), so the job's own retries and
 * reruns still send, unless it is marked sent. A bare claim of another job is a send not proven:
 * while that job runs it will send; once it failed or is gone (a crash, a stall, a failure before the
 * send that gave nothing back) the next job with this id takes the claim over and sends. A job that
 * fails for good also gives its claim back; one that sent and could not mark it completes instead, and
 * a completed job's bare claim counts as sent. The at-least-once windows left: a crash after a send
 * and before its mark reruns that same job, which sends once more; a send unmarked whose job BullMQ
 * dropped before the id was queued again; a send that hung past any delivery's time, then went out
 * after another job took its claim over. In each the repeat carries the same delivery id, which the
 * senders make count where they can (`senders.ts`): the in-app inboxes and a WeCom delivery's parts
 * remember what they took, a webhook's `X-Qianshao-Delivery` and a mail's `Message-ID` let the
 * receiver drop it; a DingTalk robot takes no such key.
 */
export class DeliveredNotifications {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(notificationId: string): string {
    return `${this.prefix}:notify:delivered:${notificationId}`;
  }

  /**
   * Claims `notificationId` for the job `holder` to send, unless a job claimed it before; or, with
   * `takeOverFrom`, unless a job other than that one (which failed or is gone) holds it.
   */
  async claim(notificationId: string, holder: string, takeOverFrom?: string): Promise<Claimed> {
    const from = takeOverFrom === undefined ? '' : `send:${takeOverFrom}`;
    const held = (await this.redis.eval(CLAIM, 1, this.key(notificationId), `send:${holder}`, DELIVERED_TTL_SECONDS, from)) as string | null;
    if (held === null) return { claim: 'first' };
    if (held.startsWith('digest:')) return { claim: 'in-digest' };
    if (held === `send:${holder}`) return { claim: 'own' };
    if (held === `sent:${holder}`) return { claim: 'own-sent' };
    if (held.startsWith('send:')) return { claim: 'held-by-another', heldBy: held.slice('send:'.length) };
    return { claim: 'sent-by-another' };
  }

  /** Marks the claim of `holder` sent: its reruns send no more, and no other job takes it over. */
  async markSent(notificationId: string, holder: string): Promise<void> {
    await this.redis.eval(REPLACE, 1, this.key(notificationId), `send:${holder}`, `sent:${holder}`, DELIVERED_TTL_SECONDS);
  }

  /** Adds to `tx` (the digest buffer's hold) the mark that the digest now owes `notificationId`. */
  markHeldForDigest(tx: ChainableCommander, notificationId: string, holder: string): ChainableCommander {
    return tx.set(this.key(notificationId), `digest:${holder}`, 'EX', DELIVERED_TTL_SECONDS);
  }

  /** Gives back the claim of a job that failed for good: it did not deliver the notification. */
  async release(notificationId: string, holder: string): Promise<void> {
    await this.redis.eval(REPLACE, 1, this.key(notificationId), `send:${holder}`, '', DELIVERED_TTL_SECONDS);
  }
}
