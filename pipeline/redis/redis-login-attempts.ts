import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LockoutPolicy } from '../../core/auth/lockout.js';
import type { LoginAdmission, LoginAttempts } from '../../core/auth/user-store.js';

/** An attempt whose answer never came back (a crashed process) stops counting as in flight after this. */
const IN_FLIGHT_MS = 60_000;

/**
 * KEYS: failures, in flight, lock. ARGV: now, window ms, max failures, lock ms, attempt id, in-flight ms.
 * Locked: {0, lockEnd}. Failures at the limit without a lock (its write failed): lock now, {0, lockEnd, 1}.
 * Failures and attempts in flight at the limit: {2} (refused, nothing locked: those may yet succeed).
 * Else the attempt is in flight: {1}.
 */
const ADMIT = `
local now = tonumber(ARGV[1])
local lockEnd = tonumber(redis.call('GET', KEYS[3]) or '0')
if lockEnd > now then return {0, lockEnd, 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6]))
local failures = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[3])
if failures >= max then
  lockEnd = now + tonumber(ARGV[4])
  redis.call('SET', KEYS[3], tostring(lockEnd), 'PX', ARGV[4])
  redis.call('DEL', KEYS[1])
  return {0, lockEnd, 1}
end
if failures + redis.call('ZCARD', KEYS[2]) >= max then return {2, 0, 0} end
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return {1, 0, 0}
`;

/** KEYS: failures, in flight. ARGV: now, window ms, attempt id. The attempt is a failure now; the failures in the window. */
const FAILED = `
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;

/** KEYS: failures, in flight, lock. ARGV: now, attempt id. A lock set meanwhile stands (its end returned); else the failures are forgotten. */
const SUCCEEDED = `
redis.call('ZREM', KEYS[2], ARGV[2])
local lockEnd = tonumber(redis.call('GET', KEYS[3]) or '0')
if lockEnd > tonumber(ARGV[1]) then return lockEnd end
redis.call('DEL', KEYS[1])
return 0
`;

/** KEYS: lock, failures. ARGV: lock end, lock ms. Sets the lock unless one is set; 1 when this call set it. */
const LOCK = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`;

/**
 * Failed log-ins as a Redis sorted set per username (score = time), trimmed to the window; attempts
 * whose password is being checked in a second set; the lock as a key that expires when the lock ends.
 * Each step is one script, so attempts from many processes at once are counted exactly.
 */
export class RedisLoginAttempts implements LoginAttempts {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly policy: LockoutPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private failuresKey(username: string) {
    return `${this.prefix}:login:failures:${username}`;
  }
  private inFlightKey(username: string) {
    return `${this.prefix}:login:in-flight:${username}`;
  }
  private lockKey(username: string) {
    return `${this.prefix}:login:lock:${username}`;
  }
  private get windowMs() {
    return this.policy.windowMinutes * 60_000;
  }

  async lockedUntil(username: string): Promise<Date | undefined> {
    const raw = await this.redis.get(this.lockKey(username));
    if (!raw) return undefined;
    const until = new Date(Number(raw));
    return until.getTime() > this.now().getTime() ? until : undefined;
  }

  async admit(username: string): Promise<LoginAdmission> {
    const attempt = `${this.now().getTime()}-${randomBytes(8).toString('hex')}`;
    const [admitted, lockEnd, lockedNow] = (await this.redis.eval(
      ADMIT,
      3,
      this.failuresKey(username),
      this.inFlightKey(username),
      this.lockKey(username),
      this.now().getTime(),
      this.windowMs,
      this.policy.maxFailures,
      this.policy.lockMinutes * 60_000,
      attempt,
      IN_FLIGHT_MS,
    )) as [number, number, number];
    if (admitted === 1) return { admitted: true, attempt };
    if (admitted === 2) return { admitted: false, busy: true };
    return { admitted: false, until: new Date(lockEnd), lockedNow: lockedNow === 1 };
  }

  async failed(username: string, attempt: string): Promise<number> {
    return (await this.redis.eval(FAILED, 2, this.failuresKey(username), this.inFlightKey(username), this.now().getTime(), this.windowMs, attempt)) as number;
  }

  async succeeded(username: string, attempt: string): Promise<Date | undefined> {
    const lockEnd = (await this.redis.eval(SUCCEEDED, 3, this.failuresKey(username), this.inFlightKey(username), this.lockKey(username), this.now().getTime(), attempt)) as number;
    return lockEnd > 0 ? new Date(lockEnd) : undefined;
  }

  async lock(username: string, until: Date): Promise<boolean> {
    const ms = until.getTime() - this.now().getTime();
    if (ms <= 0) return false;
    return (await this.redis.eval(LOCK, 2, this.lockKey(username), this.failuresKey(username), until.getTime(), ms)) === 1;
  }

  async clear(username: string): Promise<void> {
    await this.redis.del(this.failuresKey(username), this.inFlightKey(username), this.lockKey(username));
  }
}
