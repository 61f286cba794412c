import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from '@elastic/elasticsearch';

/** A fresh key/queue prefix and index prefix per test file, dropped afterwards. */
export function isolation(): { redisPrefix: string; indexPrefix: string; redisUrl: string; esUrl: string; cleanup(): Promise<void> } {
  const id = randomBytes(4).toString('hex');
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const esUrl = process.env.ES_URL ?? 'http://127.0.0.1:9200';
  const redisPrefix = `qstest-${id}`;
  const indexPrefix = `qstest-${id}`;
  return {
    redisPrefix,
    indexPrefix,
    redisUrl,
    esUrl,
    async cleanup() {
      const redis = new Redis(redisUrl);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
      const es = new Client({ node: esUrl });
      const indices = await es.cat.indices({ index: `${indexPrefix}-*`, format: 'json' }).catch(() => []);
      for (const { index } of indices) if (index) await es.indices.delete({ index });
      await es.indices.deleteIndexTemplate({ name: `${indexPrefix}-*` }, { ignore: [404] }).catch(() => undefined);
      await es.close();
    },
  };
}

/** Polls `fn` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}
