/**
 * Makes sure Redis and Elasticsearch are up (starting local ones when needed) and writes their URLs
 * to `.data/services.env` for `npm start` and `npm test`. One clear line and exit 1 on failure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureElasticsearch } from './elasticsearch/embedded.js';
import { ensureRedis } from './redis-service.js';

const root = path.resolve(import.meta.dirname, '..');
const dataRoot = path.join(root, '.data');

async function main(): Promise<void> {
  mkdirSync(dataRoot, { recursive: true });
  const redisUrl = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', dataRoot);
  const esUrl = await ensureElasticsearch(process.env.ES_URL ? { url: process.env.ES_URL } : {});
  writeFileSync(path.join(dataRoot, 'services.env'), `REDIS_URL=${redisUrl}\nES_URL=${esUrl}\n`, { mode: 0o600 });
  console.log(`services: Redis ${new URL(redisUrl).host} ok, Elasticsearch ${new URL(esUrl).host} ok`);
}

main().catch((err: unknown) => {
  console.error(`services: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
