import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { LoginRate } from '../../core/auth/user-store.js';
import { UnavailableError } from '../../core/errors.js';

/** Log-in attempts per client address and minute, counted in Redis for every API process (rate-limiter-flexible). */
export class RedisLoginRate implements LoginRate {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, prefix: string, perMinute: number) {
    this.limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:login:address`, points: perMinute, duration: 60 });
  }

  async take(address: string): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }> {
    try {
      await this.limiter.consume(address);
      return { allowed: true };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterMs: err.msBeforeNext };
      throw new UnavailableError(`log-in rate check failed: ${(err as Error).message}`, 'redis_unavailable');
    }
  }

  async succeeded(address: string): Promise<void> {
    await this.limiter.reward(address, 1);
  }
}
