import type { Redis } from 'ioredis';
import type { LockoutPolicy } from '../../core/auth/lockout.js';
import type { LoginAttempts } from '../../core/auth/user-store.js';

/**
 * Failed log-ins as a Redis sorted set per username (score = time), trimmed to the window, and the
 * lock as a key that expires when the lock ends.
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

  async lockedUntil(username: string): Promise<Date | undefined> {
    const raw = await this.redis.get(this.lockKey(username));
    if (!raw) return undefined;
    const until = new Date(Number(raw));
    return until.getTime() > this.now().getTime() ? until : undefined;
  }

  async recordFailure(username: string): Promise<number> {
    const now = this.now().getTime();
    const key = this.failuresKey(username);
    const windowMs = this.policy.windowMinutes * 60_000;
    const [, , [, count]] = (await this.redis
      .multi()
      .zremrangebyscore(key, '-inf', now - windowMs)
      .zadd(key, now, `${now}-${Math.random().toString(36).slice(2)}`)
      .zcard(key)
      .pexpire(key, windowMs)
      .exec()) as [unknown, unknown, [unknown, number], unknown];
    return count;
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
