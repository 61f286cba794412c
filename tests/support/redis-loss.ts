import type { Redis } from 'ioredis';

/**
 * What Redis losing its data does to one deployment, without touching anyone else's keys (never
 * FLUSHALL a shared Redis): every key under `prefix` is unlinked. Returns how many were.
 */
export async function loseRedisData(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let unlinked = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) unlinked += await redis.unlink(...keys);
  } while (cursor !== '0');
  return unlinked;
}
