import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestBuffer } from '../../pipeline/notify/digest-buffer.js';
import { isolation } from '../support/isolation.js';

/** The per-channel flush lock of held deliveries, on real Redis. */
describe('the digest flush lock (real Redis)', () => {
  const iso = isolation();
  let redis: Redis;
  let buffer: DigestBuffer;

  beforeAll(() => {
    redis = new Redis(iso.redisUrl);
    buffer = new DigestBuffer(redis, iso.redisPrefix);
  });

  afterAll(async () => {
    await redis.quit();
    await iso.cleanup();
  });

  it('lets one flusher in per channel, and a flusher whose lock ran out never unlocks the next one', async () => {
    const first = await buffer.lock('ch-1', 100);
    expect(first).toBeDefined();
    expect(await buffer.lock('ch-1', 60_000)).toBeUndefined();
    const other = await buffer.lock('ch-2', 60_000);
    expect(other).toBeDefined();

    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = await buffer.lock('ch-1', 60_000);
    expect(second).toBeDefined();
    await first!();
    // The late unlock left the second flusher's lock in place.
    expect(await buffer.lock('ch-1', 60_000)).toBeUndefined();
    await second!();
    const third = await buffer.lock('ch-1', 60_000);
    expect(third).toBeDefined();
    await third!();
    await other!();
  });
});
