import type { Server } from 'node:http';
import { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { userRoutes } from '../../api/routes/user-routes.js';
import { hashPassword } from '../../core/auth/password.js';
import { ConfigSchema } from '../../core/config/config-schema.js';
import { createLogger } from '../../core/logger.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createRedis } from '../../pipeline/queues.js';
import { RedisLoginAttempts } from '../../pipeline/redis/redis-login-attempts.js';
import { isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';

/**
 * Two API processes (two apps, each with its own session check and account cache) over one Redis
 * and one Elasticsearch: an account changed through one applies in the other from its next request,
 * though the other had the account cached.
 */
describe('the session check keeps accounts per process, and every process sees a change at once', () => {
  const iso = isolation();
  const redis = createRedis(iso.redisUrl);
  let es: Client;
  let users: EsUserStore;
  const servers: Server[] = [];
  const bases: string[] = [];
  let adminToken: string;
  let staffToken: string;
  let userGets = 0;

  const call = async (base: string, token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };

  beforeAll(async () => {
    es = new Client({ node: iso.esUrl });
    const names = indexNames(iso.indexPrefix);
    await ensureIndices(es, names);
    users = new EsUserStore(es, names.users);
    const passwordHash = await hashPassword('initial-pass-1');
    await users.seed([
      { username: 'admin1', displayName: '管理员', roles: ['admin'], passwordHash },
      { username: 'staff1', displayName: '值班员', roles: ['viewer'], passwordHash },
    ]);
    // Counts the account reads of both processes' session checks.
    const counted = Object.assign(Object.create(users) as EsUserStore, { get: (u: string) => ((userGets += 1), users.get(u)) });
    const audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
    const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
    adminToken = await sessions.create({ username: 'admin1', displayName: '管理员', roles: ['admin'] });
    staffToken = await sessions.create({ username: 'staff1', displayName: '值班员', roles: ['viewer'] });
    for (let i = 0; i < 2; i++) {
      const whoami = Router().get('/whoami', (req, res) => void res.json({ roles: req.user?.roles ?? null }));
      const app = createApp({
        log: createLogger('silent'),
        sessions: new RedisSessionStore(redis, iso.redisPrefix, 600),
        users: counted,
        apiRouters: [whoami, userRoutes({ users, sessions, attempts: new RedisLoginAttempts(redis, iso.redisPrefix, ConfigSchema.parse({}).auth), audit })],
      });
      const { server, base } = await listenOnLoopback(app);
      servers.push(server);
      bases.push(base);
    }
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await iso.cleanup();
    redis.disconnect();
    await es.close();
  });

  it('reads an account once per process while nothing changes, and again in every process after a change', async () => {
    const [one, two] = bases as [string, string];
    expect((await call(one, staffToken, 'GET', '/whoami')).body).toEqual({ roles: ['viewer'] });
    expect((await call(two, staffToken, 'GET', '/whoami')).body).toEqual({ roles: ['viewer'] });
    const afterFirstReads = userGets;
    for (let i = 0; i < 5; i++) expect((await call(two, staffToken, 'GET', '/whoami')).body).toEqual({ roles: ['viewer'] });
    expect(userGets).toBe(afterFirstReads);

    // Process one changes the roles; process two, which has staff1 cached, applies them at once.
    expect((await call(one, adminToken, 'PATCH', '/users/staff1', { roles: ['auditor'] })).status).toBe(200);
    expect((await call(two, staffToken, 'GET', '/whoami')).body).toEqual({ roles: ['auditor'] });

    // Disabled in process two: process one refuses the session on its next request.
    expect((await call(one, staffToken, 'GET', '/whoami')).body).toEqual({ roles: ['auditor'] });
    expect((await call(two, adminToken, 'PATCH', '/users/staff1', { disabled: true })).status).toBe(200);
    expect((await call(one, staffToken, 'GET', '/whoami')).body).toEqual({ roles: null });
  });

  it('a change stored in Elasticsearch but never announced (Redis lost between the two) applies within the cache age', async () => {
    const [one] = bases as [string, string];
    expect((await call(one, adminToken, 'GET', '/whoami')).body).toEqual({ roles: ['admin'] });
    // Straight to the store, as if the announcement had failed: the cached account is still served …
    await users.update('admin1', (u) => ({ ...u, roles: ['admin', 'auditor'] }));
    expect((await call(one, adminToken, 'GET', '/whoami')).body).toEqual({ roles: ['admin'] });
    // … until any later announcement (or the cache age, 30 s) makes every process read it again.
    await new RedisSessionStore(redis, iso.redisPrefix, 600).accountsChanged();
    expect((await call(one, adminToken, 'GET', '/whoami')).body).toEqual({ roles: ['admin', 'auditor'] });
  });
});
