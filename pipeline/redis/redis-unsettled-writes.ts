import type { Redis } from 'ioredis';
import type { AlertAction } from '../../core/alerts/lifecycle.js';
import type { AuditActor } from '../../core/audit/audit-log.js';
import type { NotifyJob } from '../../core/notify/notification.js';

interface WriteIdentity {
  alertId: string;
  /** The write's receipt (`keyedReceipt`): in the alert's `writes` when it landed, and the once-key of its audit record. */
  receipt: string;
  actor: AuditActor;
  requestId?: string;
  idempotencyKey?: string;
  at: string;
  /** Runs of the settler that could not decide it so far. */
  attempts?: number;
}

/**
 * A person's alert write whose outcome stayed unknown: the store could not confirm it, the desk's
 * one more look did not find it, and the person was told `write_outcome_unknown`. The settler reads
 * the alert: a write that landed gets the audit record, clocks and notifications it is owed (made
 * from the alert as stored); one that did not is dropped.
 */
export interface UnconfirmedWrite extends WriteIdentity {
  /** The version the write replaced (`<seq_no>:<primary_term>`). */
  replaced: string;
  action: AlertAction;
  /** The alert's audit view before the write (the record's `before`). */
  before: Record<string, unknown>;
}

/**
 * A write whose audit record is owed, carrying what it still owes as the write itself made it: one
 * that landed (a person's or the system's: a merge, a fired clock, a post-change note) but whose
 * audit append, clock arming or deliveries' enqueue then failed, which the settler pays; or a system
 * write whose outcome stayed unknown (`replaced` set), which it pays once the alert shows it landed.
 */
export interface UnrecordedWrite extends WriteIdentity {
  /** For a write whose outcome stayed unknown: the version it replaced. */
  replaced?: string;
  owed: {
    /** The audit record the write would have left (its actor and request are the write's). */
    record: { action: string; before?: Record<string, unknown>; after: Record<string, unknown>; reason?: string };
    /** Whether its clocks are still to be armed. */
    armClocks: boolean;
    /** Its deliveries not yet enqueued (with their job ids). */
    jobs: NotifyJob[];
  };
}

/** A write kept for the settler (`AlertDesk.settleUnsettledWrites`) until it is settled. */
export type UnsettledWrite = UnconfirmedWrite | UnrecordedWrite;

/** Where unsettled writes wait for the settler. Deliberately left out: deciding them (that is the desk's). */
export interface UnsettledWrites {
  /** Idempotent per receipt. */
  remember(write: UnsettledWrite): Promise<void>;
  /** The fewest attempts first, then the oldest, at most `limit`. */
  list(limit: number): Promise<UnsettledWrite[]>;
  forget(write: UnsettledWrite): Promise<void>;
  /** Moves a write the settler cannot decide out of its way, kept for a person. */
  setAside(write: UnsettledWrite): Promise<void>;
}

/**
 * Unsettled writes in one Redis hash, `<p>:alerts:unsettled-writes` (receipt → JSON). They are few
 * (a lost answer and a failed read-back in a row, or a write followed by an audit or clock failure)
 * and short-lived (the settler runs with the escalation reconciler). Redis keeps nothing on disk:
 * should it lose them, a resend still settles a person's write, and the desk's log names each write it remembered (warn) or failed to (error).
 */
export class RedisUnsettledWrites implements UnsettledWrites {
  private readonly hash: string;
  /** Writes set aside for a person: ones the settler could not decide, and entries it could not read. */
  private readonly aside: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.hash = `${prefix}:alerts:unsettled-writes`;
    this.aside = `${prefix}:alerts:unsettled-writes:aside`;
  }

  async remember(write: UnsettledWrite): Promise<void> {
    await this.redis.hset(this.hash, write.receipt, JSON.stringify(write));
  }

  async list(limit: number): Promise<UnsettledWrite[]> {
    const all: UnsettledWrite[] = [];
    for (const [receipt, value] of Object.entries(await this.redis.hgetall(this.hash))) {
      try {
        all.push(JSON.parse(value) as UnsettledWrite);
      } catch {
        // An entry that cannot be read would stop every run: kept aside as it is.
        await this.redis.multi().hset(this.aside, receipt, value).hdel(this.hash, receipt).exec();
      }
    }
    const order = (a: UnsettledWrite, b: UnsettledWrite) => (a.attempts ?? 0) - (b.attempts ?? 0) || (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
    return all.sort(order).slice(0, limit);
  }

  async forget(write: UnsettledWrite): Promise<void> {
    await this.redis.hdel(this.hash, write.receipt);
  }

  async setAside(write: UnsettledWrite): Promise<void> {
    await this.redis.multi().hset(this.aside, write.receipt, JSON.stringify(write)).hdel(this.hash, write.receipt).exec();
  }
}
