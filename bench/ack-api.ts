/**
 * One API process of the acknowledge bench, a `node:cluster` worker of alerts.bench.ts: the same
 * composition as the product's api role for the routes the bench calls (sign-in, alert actions,
 * the live stream), on the bench's isolated prefixes (env `BENCH_ISOLATION`, JSON). Workers share
 * the listening port; the primary hands each new connection to the next worker. Says
 * `{ ready, port }`; answers `stats` with its CPU time and its Elasticsearch requests (by method and
 * path) so far; exits on `close`.
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app.js';
import { alertRoutes } from '../api/routes/alert-routes.js';
import { liveRoutes } from '../api/routes/live-routes.js';
import { authRoutes } from '../api/routes/auth-routes.js';
import { RedisSessionStore } from '../api/sessions.js';
import { principalResolver } from '../api/authenticate.js';
import { ConfigSchema } from '../core/config/config-schema.js';
import { createLogger } from '../core/logger.js';
import { BulkIndexer } from '../pipeline/elasticsearch/bulk-indexer.js';
import { createEsClient } from '../pipeline/elasticsearch/es-client.js';
import { EsPostStore } from '../pipeline/elasticsearch/es-post-store.js';
import { EsRosterStore } from '../pipeline/elasticsearch/es-roster-store.js';
import { EsUserStore } from '../pipeline/elasticsearch/es-user-store.js';
import { indexNames } from '../pipeline/elasticsearch/indices.js';
import { createQueues, createRedis } from '../pipeline/queues.js';
import { RedisLoginAttempts } from '../pipeline/redis/redis-login-attempts.js';
import { RedisLoginRate } from '../pipeline/redis/redis-login-rate.js';
import { createTestDesk, shortPolicy } from '../tests/support/alerting-harness.js';

export interface BenchIsolation {
  redisUrl: string;
  esUrl: string;
  redisPrefix: string;
  indexPrefix: string;
}

async function main(): Promise<void> {
  const iso = JSON.parse(process.env.BENCH_ISOLATION ?? '') as BenchIsolation;
  const es = createEsClient({ ...ConfigSchema.parse({}).elasticsearch, url: iso.esUrl });
  // As the product composes it (bin/roles/context.ts): BullMQ on its own connection, the rest auto-pipelined.
  const redis = createRedis(iso.redisUrl);
  const commands = createRedis(iso.redisUrl, { autoPipelining: true });
  const queues = createQueues(redis, iso.redisPrefix);
  const names = indexNames(iso.indexPrefix);
  const log = createLogger('warn');
  const { desk, alerts, audit } = await createTestDesk({ es, redis, commands, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix, policy: shortPolicy() });
  const sessions = new RedisSessionStore(commands, iso.redisPrefix, 3600);
  const users = new EsUserStore(es, names.users);
  const lockout = ConfigSchema.parse({}).auth;
  const live = liveRoutes({ subscriber: redis.duplicate(), channel: `${iso.redisPrefix}:live:alerts`, resolvePrincipal: principalResolver({ sessions, users }) });
  const app = createApp({
    log,
    sessions,
    users,
    apiRouters: [
      authRoutes({ users, sessions, attempts: new RedisLoginAttempts(redis, iso.redisPrefix, lockout), loginRate: new RedisLoginRate(redis, iso.redisPrefix, 1000), audit, lockout, timeZone: 'Asia/Shanghai', secureCookie: false, ttlSeconds: 3600 }),
      alertRoutes({ alerts, posts: new EsPostStore(es, names.posts, new BulkIndexer(es, {})), desk, plans: [], roster: new EsRosterStore(es, names.roster), calendar: { periods: [] }, timeZone: 'Asia/Shanghai', unitName: '青山县人民政府', now: () => new Date() }),
      live.router,
    ],
  });
  const esRequests: Record<string, number> = {};
  es.diagnostic.on('response', (_err, result) => {
    const params = result?.meta.request.params;
    if (!params) return;
    const what = `${params.method} ${params.path.replace(/^\/[^/_]+\//, '/<index>/').replace(/\/<index>\/(_doc|_create)\/.*/, '/<index>/$1/<id>')}`;
    esRequests[what] = (esRequests[what] ?? 0) + 1;
  });
  const server = app.listen(0, '127.0.0.1', () => process.send!({ ready: true, port: (server.address() as AddressInfo).port }));
  process.on('message', (m: string) => {
    if (m === 'stats') {
      const { user, system } = process.cpuUsage();
      process.send!({ cpu: { user, system }, esRequests });
    } else if (m === 'close') {
      void live.close().then(() => server.close(() => process.exit(0)));
    }
  });
}

if (cluster.isWorker) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
