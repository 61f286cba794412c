/**
 * The API's floor (`npm run bench:api-floor`): the same app as the product's (security headers, JSON
 * body parsing, the session check against Redis, the permission check) with a route at the
 * acknowledge path that only answers, driven by the acknowledge bench's 50 closed-loop clients
 * (bench/ack-clients.ts). What any authenticated action costs before it does anything, and the
 * latency 50 clients see when that is all there is: the yardstick for the acknowledge bench.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { Router } from 'express';
import { createApp } from '../api/app.js';
import { authRoutes } from '../api/routes/auth-routes.js';
import { requirePermission } from '../api/authorize.js';
import { RedisSessionStore } from '../api/sessions.js';
import { loadUsers } from '../core/auth/user.js';
import { ConfigSchema } from '../core/config/config-schema.js';
import { createLogger } from '../core/logger.js';
import { createEsClient } from '../pipeline/elasticsearch/es-client.js';
import { EsUserStore } from '../pipeline/elasticsearch/es-user-store.js';
import { ensureIndices, indexNames } from '../pipeline/elasticsearch/indices.js';
import { createRedis } from '../pipeline/queues.js';
import { RedisLoginAttempts } from '../pipeline/redis/redis-login-attempts.js';
import { RedisLoginRate } from '../pipeline/redis/redis-login-rate.js';
import { EsAuditLog } from '../pipeline/elasticsearch/es-audit-log.js';
import { isolation } from '../tests/support/isolation.js';

const iso = isolation();
const es = createEsClient({ ...ConfigSchema.parse({}).elasticsearch, url: iso.esUrl });
const names = indexNames(iso.indexPrefix);
await ensureIndices(es, names);
const redis = createRedis(iso.redisUrl);
const commands = createRedis(iso.redisUrl, { autoPipelining: true });
const sessions = new RedisSessionStore(commands, iso.redisPrefix, 3600);
const users = new EsUserStore(es, names.users);
await users.seed(loadUsers(path.resolve(import.meta.dirname, '../config/demo/users.yaml')));
const audit = new EsAuditLog({ es, redis: commands, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
const ping = Router();
const answer = { alert: { id: 'x', status: 'acknowledged', level: 'yellow', version: '1_2', title: '某某', assignee: 'duty' } };
ping.post('/alerts/:id/acknowledge', requirePermission('alert.acknowledge'), (_req, res) => {
  res.json(answer);
});
const app = createApp({ log: createLogger('warn'), sessions, users, apiRouters: [authRoutes({ users, sessions, attempts: new RedisLoginAttempts(redis, iso.redisPrefix, ConfigSchema.parse({}).auth), loginRate: new RedisLoginRate(redis, iso.redisPrefix, 1000), audit, lockout: ConfigSchema.parse({}).auth, timeZone: 'Asia/Shanghai', secureCookie: false, ttlSeconds: 3600 }), ping] });
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'duty', password: 'qianshao-demo' }) });
if (!login.ok) throw new Error(`sign-in failed (${login.status}): the floor would measure refusals`);
const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
for (let round = 0; round < 3; round++) {
  const clients = fork(path.resolve(import.meta.dirname, 'ack-clients.ts'), { execArgv: ['--import', 'tsx'] });
  await new Promise((r) => clients.once('message', r));
  const done = new Promise<{ times: number[]; cpuMs: number }>((r) => clients.once('message', (m) => r(m as never)));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  clients.send({ base, cookie, ids: Array.from({ length: REQUESTS }, (_, i) => `a${i}`), clients: 50 });
  const { times, cpuMs } = await done;
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  times.sort((a, b) => a - b);
  console.log(`round ${round + 1}: ${((times.length / wall) * 1000).toFixed(0)}/s, API CPU ${((c.user + c.system) / 1000 / times.length).toFixed(3)} ms per request, clients ${(cpuMs / times.length).toFixed(3)}, p50 ${times[times.length >> 1]!.toFixed(1)} p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(1)} ms`);
}
server.close();
redis.disconnect();
commands.disconnect();
await es.close(); await iso.cleanup();
process.exit(0);
