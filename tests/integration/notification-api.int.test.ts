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
import { startDingTalkRobot, startWeComRobot, type Receiver } from '../fixtures/receivers/robots.js';

const iso = isolation();
let es: Client;
let redis: Redis;
let server: Server;
let base: string;
let robot: Receiver;
let wecomRobot: Receiver;
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
  wecomRobot = await startWeComRobot({ key: 'PLAIN-URL-TOKEN-42' });
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  const channels = new EsChannelStore(es, names.channels, 0);
  await channels.ensure([
    { id: 'duty-dingtalk', name: '值班钉钉群', type: 'dingtalk', enabled: true, urlEnv: 'QS_TEST_DT_URL', secretEnv: 'QS_TEST_DT_SECRET', rateLimit: { perMinute: 18, blockSeconds: 600 } },
    { id: 'local-wecom', name: '本地企业微信测试群', type: 'wecom', enabled: true, url: wecomRobot.url, rateLimit: { perMinute: 18, blockSeconds: 60 } },
  ]);
  const deliveries = new EsDeliveryLog(es, names.notifications);
  await deliveries.ensure();
  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  for (const role of ['admin', 'duty', 'auditor'] as Role[]) tokens[role] = await sessions.create({ username: `u-${role}`, displayName: `测试${role}`, roles: [role] });
  const env = { QS_TEST_DT_URL: robot.url, QS_TEST_DT_SECRET: 'SEC-api-test', QS_TEST_BAD_URL: 'not-a-url SECRET-VALUE-77', ES_PASSWORD: 'HOST-ES-PASSWORD-99' };
  const app = createApp({
    log: createLogger('silent'),
    sessions,
    apiRouters: [notificationRoutes({ channels, deliveries, audit, redis, prefix: iso.redisPrefix, env, dashboardUrl: 'http://127.0.0.1:8600/', secretEnvPrefixes: ['QS_'] })],
  });
  ({ server, base } = await listenOnLoopback(app));
});

afterAll(async () => {
  server?.close();
  await robot?.close();
  await wecomRobot?.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('notification channels over the API', () => {
  it('lists channels with the names of their secrets and whether they are set, never the values', async () => {
    const { status, json } = await call('duty', 'GET', '/channels');
    expect(status).toBe(200);
    expect(JSON.stringify(json)).not.toContain('SEC-api-test');
    expect(json.channels).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'duty-dingtalk', secretsSet: { QS_TEST_DT_URL: true, QS_TEST_DT_SECRET: true } })]));
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
    const { status } = await call('admin', 'PUT', '/channels/duty-dingtalk', { name: '值班钉钉群（新）', type: 'dingtalk', urlEnv: 'QS_TEST_DT_URL', secretEnv: 'QS_TEST_DT_SECRET' });
    expect(status).toBe(200);
    const [record] = await audit.list({ entityType: 'channel', entityId: 'duty-dingtalk' });
    expect(record).toMatchObject({ action: 'channel.update', actor: { id: 'u-admin' }, after: { name: '值班钉钉群（新）' } });
  });

  it('shows a plain url with its token redacted to readers and in the audit record, and still sends with the stored one', async () => {
    const listed = await call('duty', 'GET', '/channels');
    expect(JSON.stringify(listed.json)).not.toContain('PLAIN-URL-TOKEN-42');
    const wecom = (listed.json.channels as { id: string; url?: string }[]).find((c) => c.id === 'local-wecom')!;
    expect(wecom.url).toMatch(/\?key=\*\*\*$/);
    // The dashboard saves back what it was shown: the redacted url means "unchanged".
    const saved = await call('admin', 'PUT', '/channels/local-wecom', { name: '本地企业微信测试群（改名）', type: 'wecom', url: wecom.url });
    expect(saved.status).toBe(200);
    expect(JSON.stringify(saved.json)).not.toContain('PLAIN-URL-TOKEN-42');
    const [record] = await audit.list({ entityType: 'channel', entityId: 'local-wecom' });
    expect(record).toMatchObject({ action: 'channel.update', before: { url: wecom.url }, after: { url: wecom.url, name: '本地企业微信测试群（改名）' } });
    expect(JSON.stringify(record)).not.toContain('PLAIN-URL-TOKEN-42');
    const sent = await call('admin', 'POST', '/channels/local-wecom/test');
    expect(sent.json.outcome).toMatchObject({ status: 'sent' });
    expect(wecomRobot.received).toHaveLength(1);
    expect(JSON.stringify(sent.json)).not.toContain('PLAIN-URL-TOKEN-42');
  });

  it('a test send through an env var that holds no URL names the variable, never its value', async () => {
    expect((await call('admin', 'PUT', '/channels/bad-url', { name: '地址有误的群', type: 'dingtalk', urlEnv: 'QS_TEST_BAD_URL' })).status).toBe(201);
    const { status, json } = await call('admin', 'POST', '/channels/bad-url/test');
    expect(status).toBe(200);
    expect(json.outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('QS_TEST_BAD_URL') });
    expect(JSON.stringify(json)).not.toContain('SECRET-VALUE-77');
    const outcomes = await call('admin', 'GET', '/notifications?subjectType=test&subjectId=bad-url');
    expect(JSON.stringify(outcomes.json)).not.toContain('SECRET-VALUE-77');
    expect(JSON.stringify(await audit.list({ entityType: 'channel', entityId: 'bad-url' }))).not.toContain('SECRET-VALUE-77');
  });

  it.each([
    ['a robot URL', { type: 'dingtalk', urlEnv: 'ES_PASSWORD' }, 'urlEnv'],
    ['a signing key', { type: 'webhook', urlEnv: 'QS_TEST_DT_URL', secretEnv: 'AUDIT_CHECKPOINT_KEY' }, 'secretEnv'],
    ['an SMTP password', { type: 'email', smtp: { host: 'evil.example', port: 25, user: 'u', passwordEnv: 'ES_PASSWORD', from: 'a@b.c' } }, 'smtp.passwordEnv'],
  ])('refuses %s held in a host variable outside the allowed prefix, naming the field', async (_what, fields, field) => {
    const { status, json } = await call('admin', 'PUT', '/channels/exfil', { name: '外部', ...fields });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'secret_env_not_allowed', message: expect.stringContaining(field) });
    expect(JSON.stringify(json)).not.toContain('HOST-ES-PASSWORD-99');
    expect((await call('admin', 'POST', '/channels/exfil/test')).status).toBe(404);
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
