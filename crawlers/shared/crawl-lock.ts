import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DELETE_IF_OWNER, RENEW_IF_OWNER } from '../../pipeline/redis/owned-key.js';

/**
 * The lock as Redis holds it: writes that must be this run's alone (the crawl state) check in one
 * Lua step that `key` still holds `token`, so a run that lost its lock cannot write after the run
 * that took it over, however long it stood still.
 */
export interface CrawlFence {
  readonly key: string;
  readonly token: string;
}

/** A held run lock of one source; `release` gives it up only if it is still this run's. */
export interface CrawlLock extends CrawlFence {
  /**
   * Whether the lock is still this run's, asked of Redis (renewing it on the way): false once a
   * renewal found it gone or another run's, or the lease ran out before a renewal came back (a
   * process that stood still). Called before a write that must be this run's alone.
   */
  confirm(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Takes `key` for one run (`SET … NX PX lease` with a random token), or returns undefined when
 * another run holds it. A live run renews the lease every third of it (compare-and-PEXPIRE), so a
 * run longer than the lease keeps its lock; a crashed run's lock expires with its lease. The lease
 * is counted from before each command was sent, so the holder never believes in a lock Redis has
 * let go.
 */
export async function takeCrawlLock(redis: Redis, key: string, leaseMs: number): Promise<CrawlLock | undefined> {
  const token = randomUUID();
  const takenAt = Date.now();
  if ((await redis.set(key, token, 'PX', leaseMs, 'NX')) !== 'OK') return undefined;
  let validUntil = takenAt + leaseMs;
  let lost = false;
  const renew = async (): Promise<boolean> => {
    const sentAt = Date.now();
    if ((await redis.eval(RENEW_IF_OWNER, 1, key, token, String(leaseMs))) === 1) validUntil = Math.max(validUntil, sentAt + leaseMs);
    else lost = true;
    return !lost;
  };
  // A renewal that fails to reach Redis leaves the last lease standing; one that finds another token loses it.
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(Math.floor(leaseMs / 3), 1));
  timer.unref();
  return {
    key,
    token,
    confirm: async () => !lost && Date.now() < validUntil && (await renew()),
    release: async () => {
      clearInterval(timer);
      await redis.eval(DELETE_IF_OWNER, 1, key, token);
    },
  };
}
