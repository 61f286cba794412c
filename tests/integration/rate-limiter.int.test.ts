import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ChannelRateLimiter } from '../../pipeline/notify/rate-limiter.js';
import { isolation } from '../support/isolation.js';

/** The per-channel token bucket and receiver blocks on real Redis. */
describe('the channel rate limiter', () => {
  const iso = isolation();
  const redis = new Redis(iso.redisUrl);
  const limiter = new ChannelRateLimiter(redis, iso.redisPrefix);
  const key = (channelId: string) => `${iso.redisPrefix}:notify:bucket:${channelId}`;

  afterAll(async () => {
    await redis.quit();
    await iso.cleanup();
  });

  it('a block on a channel without a rate limit (never renewed by taking) expires instead of staying forever', async () => {
    const now = new Date();
    await limiter.block('dt-unlimited', 10 * 60_000, now);
    const ttl = await redis.pttl(key('dt-unlimited'));
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    // Still a block while it lasts.
    expect(await limiter.take('dt-unlimited', 20, new Date(now.getTime() + 1_000))).toEqual({ allowed: false, waitMs: 10 * 60_000 - 1_000 });
  });

  it('a short block keeps the emptied bucket for the minute it takes to fill again', async () => {
    const now = new Date();
    await limiter.take('hook-paced', 60, now);
    await limiter.block('hook-paced', 2_000, now);
    expect(await redis.pttl(key('hook-paced'))).toBeGreaterThan(55_000);
    expect(await limiter.take('hook-paced', 60, new Date(now.getTime() + 500))).toEqual({ allowed: false, waitMs: 1_500 });
  });
});
