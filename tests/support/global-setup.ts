import path from 'node:path';
import { ensureElasticsearch } from '../../scripts/elasticsearch/embedded.js';
import { ensureRedis } from '../../scripts/redis-service.js';

/** Real services, never mocks: reuse what `npm test` started, or start them now. */
export default async function setup(): Promise<void> {
  const dataRoot = path.resolve(import.meta.dirname, '../../.data');
  process.env.REDIS_URL = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', dataRoot);
  process.env.ES_URL = await ensureElasticsearch(process.env.ES_URL ? { url: process.env.ES_URL } : {});
}
