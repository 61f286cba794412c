import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BusyError } from '../../core/errors.js';
import { DELETE_IF_OWNER, RENEW_IF_OWNER } from '../redis/owned-key.js';

/** A held claim on one post; `release` gives it up only if it is still this holder's. */
export interface PostClaim {
  /**
   * Throws `BusyError` (`claim_lost`) once the claim may be another worker's: a renewal found it
   * gone, or the lease ran out before a renewal came back (a holder that stood still). Called before
   * every write that must be the holder's alone; its work is then retried, after the new holder's.
   */
  assertHeld(): void;
  release(): Promise<void>;
}

/**
 * One worker at a time processes a given post (its ingest or its deletion), across jobs and
 * processes: the seen lookup, clustering, signals, the write and `seen.remember` happen under the
 * claim, so two copies of an item in flight at once cannot both find the post new.
 * Port: what it leaves out is fairness and order among waiters (the later content is chosen by
 * `decideDedupe`, not by who claims first).
 */
export interface PostClaims {
  /** Resolves once the claim is held; throws `BusyError` when the holder does not finish in time. */
  claim(postId: string): Promise<PostClaim>;
  /**
   * Claims the post and reads what `read` reads, in one round trip when the post is free: `read` must
   * issue its commands on the claims' own connection when called, so the server runs them right
   * behind the claim and they see every write the previous holder made before it let go. When the
   * claim is taken only after waiting, `read` runs again once it is held. A read that fails gives the
   * claim up again.
   */
  claimAndRead<T>(postId: string, read: () => Promise<T>): Promise<{ claim: PostClaim; value: T }>;
}

export interface PostClaimOptions {
  /** A holder that crashed frees the post after this long (a live one renews it). */
  leaseMs?: number;
  /** How long a second claimant polls before giving up with a retryable error. */
  waitMs?: number;
}

/**
 * Claims as Redis keys `<p>:claim:<post id>` holding a random token (`SET … NX PX lease`), given
 * up by compare-and-delete, so a holder whose lease ran out never frees a later holder's claim.
 * A claimant that finds the key polls (20 ms doubling to 200 ms) for at most `waitMs`.
 */
export class RedisPostClaims implements PostClaims {
  private readonly leaseMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: PostClaimOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.waitMs = opts.waitMs ?? 10_000;
    if (!('qsReleaseClaim' in this.redis)) this.redis.defineCommand('qsReleaseClaim', { numberOfKeys: 1, lua: DELETE_IF_OWNER });
    if (!('qsRenewClaim' in this.redis)) this.redis.defineCommand('qsRenewClaim', { numberOfKeys: 1, lua: RENEW_IF_OWNER });
  }

  /**
   * A live holder renews its lease every third of it (an item slowed by a loaded Elasticsearch keeps
   * its claim); only a holder that stopped running lets it expire. The lease is counted from before
   * each command was sent, so the holder never believes in a claim Redis has let go; a renewal that
   * fails to reach Redis leaves the last lease standing, one that finds another token loses it.
   */
  private held(postId: string, key: string, token: string, claimedAt: number): PostClaim {
    const cmd = this.redis as unknown as ClaimCommands;
    let validUntil = claimedAt + this.leaseMs;
    let lost = false;
    const renew = setInterval(() => {
      const sentAt = Date.now();
      cmd.qsRenewClaim(key, token, String(this.leaseMs)).then(
        (renewed) => {
          if (renewed === 1) validUntil = Math.max(validUntil, sentAt + this.leaseMs);
          else lost = true;
        },
        () => undefined,
      );
    }, Math.max(Math.floor(this.leaseMs / 3), 1));
    renew.unref();
    return {
      assertHeld: () => {
        if (lost || Date.now() >= validUntil) throw new BusyError(`post ${postId}: the claim on it ran out (another worker may hold it); retried later`, 'claim_lost');
      },
      release: async () => {
        clearInterval(renew);
        await cmd.qsReleaseClaim(key, token);
      },
    };
  }

  async claim(postId: string): Promise<PostClaim> {
    return (await this.claimAndRead(postId, async () => undefined)).claim;
  }

  async claimAndRead<T>(postId: string, read: () => Promise<T>): Promise<{ claim: PostClaim; value: T }> {
    const key = `${this.prefix}:claim:${postId}`;
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + this.waitMs;
    let sentAt = Date.now();
    const taken = this.redis.set(key, token, 'PX', this.leaseMs, 'NX');
    // Sent behind the claim on the same connection: Redis runs it after the claim, so it is valid if the claim was taken.
    const early = read();
    early.catch(() => undefined);
    let claim = (await taken) === 'OK' ? this.held(postId, key, token, sentAt) : undefined;
    const waited = !claim;
    for (let pause = 20; !claim; pause = Math.min(pause * 2, 200)) {
      if (Date.now() + pause > deadline) {
        // A claim of ours whose answer was lost (Redis ran the SET, the reply never came) would keep the
        // post from everyone for a whole lease: give it up (compare-and-delete touches our token only).
        await (this.redis as unknown as ClaimCommands).qsReleaseClaim(key, token).catch(() => undefined);
        throw new BusyError(`post ${postId} is being processed by another worker; retried later`, 'post_busy');
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      sentAt = Date.now();
      if ((await this.redis.set(key, token, 'PX', this.leaseMs, 'NX')) === 'OK') claim = this.held(postId, key, token, sentAt);
    }
    try {
      // What was read before a claim taken only after waiting may predate the last holder's writes.
      return { claim, value: await (waited ? read() : early) };
    } catch (err) {
      await claim.release().catch(() => undefined);
      throw err;
    }
  }
}

interface ClaimCommands {
  qsReleaseClaim(key: string, token: string): Promise<number>;
  qsRenewClaim(key: string, token: string, leaseMs: string): Promise<number>;
}

