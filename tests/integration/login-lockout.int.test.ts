import type { Server } from 'node:http';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { authRoutes } from '../../api/routes/auth-routes.js';
import { userRoutes } from '../../api/routes/user-routes.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { hashPassword } from '../../core/auth/password.js';
import { unknownUsernameId, type User } from '../../core/auth/user.js';
import { ConfigSchema } from '../../core/config/config-schema.js';
import { createLogger } from '../../core/logger.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createRedis } from '../../pipeline/queues.js';
import { RedisLoginAttempts } from '../../pipeline/redis/redis-login-attempts.js';
import { RedisLoginRate } from '../../pipeline/redis/redis-login-rate.js';
import { isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';

/**
 * Log-in under attack, on two API processes (two apps) sharing Redis and Elasticsearch: guesses sent
 * all at once, and an account changed while a log-in checks its password.
 */
const USERNAME_KEY = Buffer.from('u'.repeat(32));

describe('log-in lock-out and sessions under concurrent requests (real Redis and Elasticsearch)', () => {
  const iso = isolation();
  const redis = createRedis(iso.redisUrl);
  const lockout = ConfigSchema.parse({}).auth;
  let es: Client;
  let users: EsUserStore;
  let audit: EsAuditLog;
  let sessions: RedisSessionStore;
  const servers: Server[] = [];
  const bases: string[] = [];
  let adminToken: string;
  /** Runs once inside the next account read of this username, before the read's result is returned. */
  const duringRead = new Map<string, () => Promise<void>>();

  const login = async (base: string, username: string, password: string) => {
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    const cookie = res.headers.get('set-cookie') ?? '';
    return { status: res.status, token: /qs_session=([^;]+)/.exec(cookie)?.[1] };
  };
  const asAdmin = async (method: string, path: string, body?: unknown) =>
    (await fetch(`${bases[0]}/api${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })).status;
  const auditActions = async (entityId: string) => (await audit.list({ entityId, limit: 1000 })).map((r) => r.action);

  beforeAll(async () => {
    es = new Client({ node: iso.esUrl });
    const names = indexNames(iso.indexPrefix);
    await ensureIndices(es, names);
    users = new EsUserStore(es, names.users);
    const adminHash = await hashPassword('admin-pass-1');
    await users.seed([{ username: 'admin1', displayName: '管理员', roles: ['admin'], passwordHash: adminHash }]);
    const reading = Object.assign(Object.create(users) as EsUserStore, {
      get: async (username: string): Promise<User | undefined> => {
        const user = await users.get(username);
        const hook = duringRead.get(username);
        duringRead.delete(username);
        if (hook) await hook();
        return user;
      },
    });
    audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
    sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
    adminToken = await sessions.create({ username: 'admin1', displayName: '管理员', roles: ['admin'] });
    // Two processes allowing many log-ins per address (as guesses from many addresses would be: the
    // account's own lock-out is under test there), and a third allowing 5 a minute per address.
    for (const perMinute of [10_000, 10_000, 5]) {
      const attempts = new RedisLoginAttempts(redis, iso.redisPrefix, lockout);
      const loginRate = new RedisLoginRate(redis, `${iso.redisPrefix}:${perMinute}`, perMinute);
      const processSessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
      const app = createApp({
        log: createLogger('silent'),
        sessions: processSessions,
        users: reading,
        apiRouters: [
          authRoutes({ users: reading, sessions: processSessions, attempts, loginRate, unknownUsernameKey: USERNAME_KEY, audit, lockout, timeZone: 'Asia/Shanghai', secureCookie: false, ttlSeconds: 600 }),
          userRoutes({ users, sessions: processSessions, attempts, audit }),
        ],
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

  it('checks no more than the limit of 100 guesses sent at once to two processes, and the right one among them does not get in', async () => {
    await users.seed([{ username: 'target', displayName: '目标', roles: ['duty'], passwordHash: await hashPassword('right-password-1') }]);
    const guesses = Array.from({ length: 100 }, (_, i) => (i === 60 ? 'right-password-1' : `guess-${i}`));
    const answers = await Promise.all(guesses.map((password, i) => login(bases[i % 2]!, 'target', password)));
    expect(answers[60]!.token).toBeUndefined();
    expect(answers.filter((a) => a.status === 200)).toHaveLength(0);
    // Refused unchecked: locked (423), or while the limit's worth of attempts were being checked (429).
    expect(answers.filter((a) => a.status === 423 || a.status === 429).length).toBeGreaterThanOrEqual(100 - lockout.maxFailures);
    expect(answers.every((a) => [401, 423, 429].includes(a.status))).toBe(true);
    // Each password checked and wrong leaves one record: no more than the limit were checked, and one lock is recorded.
    const actions = await auditActions('target');
    expect(actions.filter((a) => a === 'session.login_failed').length).toBeLessThanOrEqual(lockout.maxFailures);
    expect(actions.filter((a) => a === 'user.locked')).toHaveLength(1);
    // Still locked afterwards, for the right password too; an admin's unlock lets it in.
    expect((await login(bases[1]!, 'target', 'right-password-1')).status).toBe(423);
    expect(await asAdmin('POST', '/users/target/unlock')).toBe(204);
    expect((await login(bases[1]!, 'target', 'right-password-1')).status).toBe(200);
  });

  it('does not lock out a person who typed wrong four times and then pressed Enter twice, nor six people sharing an account at once', async () => {
    await users.seed([{ username: 'typist', displayName: '打字员', roles: ['duty'], passwordHash: await hashPassword('right-password-2') }]);
    for (let i = 1; i <= lockout.maxFailures - 1; i++) expect((await login(bases[0]!, 'typist', `typo-${i}`)).status).toBe(401);
    const twice = await Promise.all([login(bases[0]!, 'typist', 'right-password-2'), login(bases[1]!, 'typist', 'right-password-2')]);
    expect(twice.map((a) => a.status)).toContain(200);
    expect(twice.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect(await auditActions('typist')).not.toContain('user.locked');
    expect((await login(bases[1]!, 'typist', 'right-password-2')).status).toBe(200);

    await users.seed([{ username: 'shared', displayName: '值班室', roles: ['duty'], passwordHash: await hashPassword('right-password-3') }]);
    const six = await Promise.all(Array.from({ length: 6 }, (_, i) => login(bases[i % 2]!, 'shared', 'right-password-3')));
    expect(six.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(lockout.maxFailures);
    expect(six.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect((await login(bases[0]!, 'shared', 'right-password-3')).status).toBe(200);
  });

  it('holds back an address spraying guesses over many usernames, with Retry-After, before any password check', async () => {
    // Successful log-ins do not use up the address's allowance: a duty room behind one address signs in together.
    for (let i = 0; i < 8; i++) expect((await login(bases[2]!, 'admin1', 'admin-pass-1')).status).toBe(200);
    const answers = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${bases[2]}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `sprayed-${i}`, password: 'guess' }) });
      answers.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
    }
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(answers.slice(5).map((a) => a.status)).toEqual([429, 429, 429]);
    expect(Number(answers[7]!.retryAfter)).toBeGreaterThanOrEqual(1);
    // Only the five checked attempts left records, and none keeps the text typed as a username (it may be a password).
    const records = await audit.list({ action: 'session.login_failed', limit: 1000 });
    const sprayed = Array.from({ length: 8 }, (_, i) => unknownUsernameId(`sprayed-${i}`, USERNAME_KEY));
    expect(records.filter((r) => sprayed.includes(r.entity.id))).toHaveLength(5);
    expect(JSON.stringify(records)).not.toContain('sprayed-');
  });

  it('a password reset while a log-in checks the old password leaves that log-in no session', async () => {
    await users.seed([{ username: 'victim', displayName: '受害者', roles: ['duty'], passwordHash: await hashPassword('old-password-1') }]);
    const before = await login(bases[0]!, 'victim', 'old-password-1');
    expect(before.status).toBe(200);
    // The admin resets the password right after the log-in read the account (with its old password).
    duringRead.set('victim', async () => {
      expect(await asAdmin('POST', '/users/victim/password', { password: 'new-password-1' })).toBe(204);
    });
    const during = await login(bases[1]!, 'victim', 'old-password-1');
    expect(during.status).toBe(401);
    expect(during.token).toBeUndefined();
    expect(await sessions.get(before.token!)).toBeUndefined();
    expect(await redis.smembers(`${iso.redisPrefix}:user-sessions:victim`)).toEqual([]);
    expect((await login(bases[0]!, 'victim', 'new-password-1')).status).toBe(200);
  });

  it('keeps a user’s set of sessions to the live ones, and ends them all at once', async () => {
    const short = new RedisSessionStore(redis, iso.redisPrefix, 1);
    const user = { username: 'frequent', displayName: '常登录', roles: ['duty' as const] };
    for (let i = 0; i < 3; i++) await short.create(user);
    await new Promise((r) => setTimeout(r, 1_100));
    const live = [await sessions.create(user), await sessions.create(user)];
    expect((await redis.smembers(`${iso.redisPrefix}:user-sessions:frequent`)).sort()).toEqual([...live].sort());
    expect(await sessions.destroyAll('frequent')).toBe(2);
    for (const token of live) expect(await sessions.get(token)).toBeUndefined();
  });
});
