import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { notificationRoutes } from '../../api/routes/notification-routes.js';
import type { Role } from '../../core/auth/user.js';
import { createLogger } from '../../core/logger.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsChannelStore } from '../../pipeline/notify/es-channel-store.js';
import { EsDeliveryLog } from '../../pipeline/notify/es-delivery-log.js';
import { isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';
import { startDingTalkRobot, type Receiver } from '../fixtures/receivers/robots.js';

const iso = isolation();
let es: Client;
let redis: Redis;
let server: Server;
let base: string;
let robot: Receiver;
let audit: EsAuditLog;
const tokens: Partial<Record<Role, string>> = {};

async function call(role: Role | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(role ? { Authorization: `Bearer ${tokens[role]}` } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  redis = new Redis(iso.redisUrl);
  robot = await startDingTalkRobot({ accessToken: 'tok', secret: 'SEC-api-test' });
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  const channels = new EsChannelStore(es, names.channels, 0);
  await channels.ensure([
    { id: 'duty-dingtalk', name: '值班钉钉群', type: 'dingtalk', enabled: true, urlEnv: 'T_DT_URL', secretEnv: 'T_DT_SECRET', rateLimit: { perMinute: 18, blockSeconds: 600 } },
  ]);
  const deliveries = new EsDeliveryLog(es, names.notifications);
  await deliveries.ensure();
  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  for (const role of ['admin', 'duty', 'auditor'] as Role[]) tokens[role] = await sessions.create({ username: `u-${role}`, displayName: `测试${role}`, roles: [role] });
  const env = { T_DT_URL: robot.url, T_DT_SECRET: 'SEC-api-test' };
  const app = createApp({
    log: createLogger('silent'),
    sessions,
    apiRouters: [notificationRoutes({ channels, deliveries, audit, redis, prefix: iso.redisPrefix, env, dashboardUrl: 'http://127.0.0.1:8600/' })],
  });
  ({ server, base } = await listenOnLoopback(app));
});

afterAll(async () => {
  server?.close();
  await robot?.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('notification channels over the API', () => {
  it('lists channels with the names of their secrets and whether they are set, never the values', async () => {
    const { status, json } = await call('duty', 'GET', '/channels');
    expect(status).toBe(200);
    expect(JSON.stringify(json)).not.toContain('SEC-api-test');
    expect(json.channels).toEqual([expect.objectContaining({ id: 'duty-dingtalk', secretsSet: { T_DT_URL: true, T_DT_SECRET: true } })]);
  });

  it('sends a test message at once and answers with the outcome, audited', async () => {
    const { status, json } = await call('admin', 'POST', '/channels/duty-dingtalk/test');
    expect(status).toBe(200);
    expect(json.outcome).toMatchObject({ status: 'sent', channelType: 'dingtalk' });
    expect(robot.received).toHaveLength(1);
    const records = await audit.list({ entityType: 'channel', entityId: 'duty-dingtalk' });
    expect(records.map((r) => r.action)).toContain('channel.test_send');
    const outcomes = await call('admin', 'GET', '/notifications?subjectType=test&subjectId=duty-dingtalk');
    expect(outcomes.json.outcomes).toEqual([expect.objectContaining({ status: 'sent' })]);
  });

  it('edits a channel, audited with before and after', async () => {
    const { status } = await call('admin', 'PUT', '/channels/duty-dingtalk', { name: '值班钉钉群（新）', type: 'dingtalk', urlEnv: 'T_DT_URL', secretEnv: 'T_DT_SECRET' });
    expect(status).toBe(200);
    const [record] = await audit.list({ entityType: 'channel', entityId: 'duty-dingtalk' });
    expect(record).toMatchObject({ action: 'channel.update', actor: { id: 'u-admin' }, after: { name: '值班钉钉群（新）' } });
  });

  it.each<[string, Role | undefined, string, string, unknown, number]>([
    ['a duty officer cannot edit channels', 'duty', 'PUT', '/channels/x', { name: 'x', type: 'inapp' }, 403],
    ['an auditor cannot test-send', 'auditor', 'POST', '/channels/duty-dingtalk/test', undefined, 403],
    ['nobody anonymous', undefined, 'GET', '/channels', undefined, 401],
    ['a secret pasted where an env name belongs is refused', 'admin', 'PUT', '/channels/x', { name: 'x', type: 'dingtalk', urlEnv: 'https://robot?access_token=abc' }, 400],
    ['an unknown type is refused', 'admin', 'PUT', '/channels/x', { name: 'x', type: 'sms' }, 400],
    ['a non-object body is refused', 'admin', 'PUT', '/channels/x', '"just a string"', 400],
    ['testing an unknown channel is 404', 'admin', 'POST', '/channels/nope/test', undefined, 404],
    ['outcomes need a subject', 'duty', 'GET', '/notifications', undefined, 400],
  ])('%s', async (_what, role, method, path, body, expected) => {
    const { status, json } = await call(role, method, path, body);
    expect(status).toBe(expected);
    expect(json.error).toBeDefined();
  });

  it('names the bad field in a 400', async () => {
    const { json } = await call('admin', 'PUT', '/channels/x', { name: 'x', type: 'email', smtp: { host: 'h', port: 99999, from: 'a@b' } });
    expect(JSON.stringify(json.error)).toContain('smtp.port');
  });
});
