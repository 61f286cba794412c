import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAccessTokenStore } from '../../crawlers/wechat-mp/access-token.js';
import { isolation } from '../support/isolation.js';

/** WeChat access tokens shared by crawl workers: the refresh lock, on real Redis. */
describe('the shared WeChat access-token store (real Redis)', () => {
  const iso = isolation();
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(iso.redisUrl);
  });

  afterAll(async () => {
    await redis.quit();
    await iso.cleanup();
  });

  it('keeps the refresh to one worker, and a refresh that outlived its lock does not free the next one', async () => {
    const [a, b, c] = [0, 1, 2].map(() => new RedisAccessTokenStore(redis, iso.redisPrefix));
    expect(await a!.lock('wx-app', 100)).toBe(true);
    expect(await b!.lock('wx-app', 15_000)).toBe(false);

    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await b!.lock('wx-app', 15_000)).toBe(true);
    await a!.unlock('wx-app');
    // Still b's: a third worker does not refresh beside it (each refresh invalidates the other's token).
    expect(await c!.lock('wx-app', 15_000)).toBe(false);
    await b!.unlock('wx-app');
    expect(await c!.lock('wx-app', 15_000)).toBe(true);
    await c!.unlock('wx-app');
  });
});
