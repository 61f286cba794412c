import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LockoutPolicy } from '../../core/auth/lockout.js';
import type { LoginAdmission, LoginAttempts } from '../../core/auth/user-store.js';

/**
 * KEYS: failures, lock. ARGV: now, window ms, max failures, lock ms, attempt id.
 * Locked: {0, until, count, 0}. At the limit already: lock now, {0, until, count, 1}. Else count the
 * attempt: {1, 0, count, 0}.
 */
const ADMIT = `
local lockEnd = tonumber(redis.call('GET', KEYS[2]) or '0')
local now = tonumber(ARGV[1])
if lockEnd > now then return {0, lockEnd, redis.call('ZCARD', KEYS[1]), 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  lockEnd = now + tonumber(ARGV[4])
  redis.call('SET', KEYS[2], tostring(lockEnd), 'PX', ARGV[4])
  redis.call('DEL', KEYS[1])
  return {0, lockEnd, count, 1}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0, count + 1, 0}
`;

/** KEYS: failures. ARGV: now, window ms, attempt id. The attempt stays counted (as of now); the window's count. */
const FAILED = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;

/** KEYS: failures, lock. ARGV: now. A lock set meanwhile stands (its end returned); else the failures are forgotten. */
const SUCCEEDED = `
local lockEnd = tonumber(redis.call('GET', KEYS[2]) or '0')
if lockEnd > tonumber(ARGV[1]) then return lockEnd end
redis.call('DEL', KEYS[1])
return 0
`;

/**
 * Failed log-ins as a Redis sorted set per username (score = time), trimmed to the window, and the
 * lock as a key that expires when the lock ends. Each step is one script, so attempts from many
 * processes at once are counted exactly.
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
    const [admitted, until, failures, lockedNow] = (await this.redis.eval(
      ADMIT,
      2,
      this.failuresKey(username),
      this.lockKey(username),
      this.now().getTime(),
      this.windowMs,
      this.policy.maxFailures,
      this.policy.lockMinutes * 60_000,
      attempt,
    )) as [number, number, number, number];
    return admitted === 1 ? { admitted: true, attempt } : { admitted: false, until: new Date(until), failures, lockedNow: lockedNow === 1 };
  }

  async failed(username: string, attempt: string): Promise<number> {
    return (await this.redis.eval(FAILED, 1, this.failuresKey(username), this.now().getTime(), this.windowMs, attempt)) as number;
  }

  async succeeded(username: string, _attempt: string): Promise<Date | undefined> {
    const until = (await this.redis.eval(SUCCEEDED, 2, this.failuresKey(username), this.lockKey(username), this.now().getTime())) as number;
    return until > 0 ? new Date(until) : undefined;
  }

  async lock(username: string, until: Date): Promise<void> {
    const ms = until.getTime() - this.now().getTime();
    if (ms > 0) await this.redis.set(this.lockKey(username), String(until.getTime()), 'PX', ms);
    await this.redis.del(this.failuresKey(username));
  }

  async clear(username: string): Promise<void> {
    await this.redis.del(this.failuresKey(username), this.lockKey(username));
  }
}
