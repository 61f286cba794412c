import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
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
/** A receiver on another loopback port: a host the robot's secrets are not bound to. */
let foreign: Server;
let foreignHost: string;
const foreignSeen: string[] = [];
/** A would-be SMTP server on a host the SMTP password is not bound to: counts connections. */
let foreignSmtp: ReturnType<typeof createTcpServer>;
let foreignSmtpPort = 0;
let smtpConnections = 0;
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
  foreign = createServer((req, res) => {
    foreignSeen.push(`${req.method} ${req.url}`);
    res.end('ok');
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  foreignHost = `127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  foreignSmtp = createTcpServer((socket) => {
    smtpConnections++;
    socket.end('220 foreign ESMTP\r\n');
  });
  await new Promise<void>((r) => foreignSmtp.listen(0, '127.0.0.1', r));
  foreignSmtpPort = (foreignSmtp.address() as AddressInfo).port;
  const robotHost = new URL(robot.url).host;
  const secretHosts = { QS_TEST_DT_URL: [robotHost], QS_TEST_DT_SECRET: [robotHost], QS_TEST_BAD_URL: ['robot.invalid'], QS_TEST_SMTP_PASSWORD: ['smtp.qingshan.example:465'] };
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  const channels = new EsChannelStore(es, names.channels, 0);
  await channels.ensure([
    { id: 'duty-dingtalk', name: '值班钉钉群', type: 'dingtalk', enabled: true, urlEnv: 'QS_TEST_DT_URL', secretEnv: 'QS_TEST_DT_SECRET', rateLimit: { perMinute: 18, blockSeconds: 600 } },
    { id: 'local-wecom', name: '本地企业微信测试群', type: 'wecom', enabled: true, url: wecomRobot.url, rateLimit: { perMinute: 18, blockSeconds: 60 } },
    // Written by the admin in channels.yaml: trusted at write, checked at use.
    { id: 'yaml-hook', name: '外部接口（配置文件）', type: 'webhook', enabled: true, url: `http://${foreignHost}/hook`, secretEnv: 'QS_TEST_DT_SECRET', rateLimit: { perMinute: 120, blockSeconds: 0 } },
    { id: 'yaml-mail', name: '外部邮件（配置文件）', type: 'email', enabled: true, smtp: { host: '127.0.0.1', port: foreignSmtpPort, secure: false, user: 'u', passwordEnv: 'QS_TEST_SMTP_PASSWORD', from: 'a@qingshan.example' }, to: ['duty@qingshan.example'], rateLimit: { perMinute: 30, blockSeconds: 0 } },
  ]);
  const deliveries = new EsDeliveryLog(es, names.notifications);
  await deliveries.ensure();
  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  for (const role of ['admin', 'duty', 'auditor'] as Role[]) tokens[role] = await sessions.create({ username: `u-${role}`, displayName: `测试${role}`, roles: [role] });
  const env = { QS_TEST_SMTP_PASSWORD: 'SMTP-PASSWORD-55', QS_TEST_DT_URL: robot.url, QS_TEST_DT_SECRET: 'SEC-api-test', QS_TEST_BAD_URL: 'not-a-url SECRET-VALUE-77', ES_PASSWORD: 'HOST-ES-PASSWORD-99' };
  const app = createApp({
    log: createLogger('silent'),
    sessions,
    apiRouters: [notificationRoutes({ channels, deliveries, audit, redis, prefix: iso.redisPrefix, env, dashboardUrl: 'http://127.0.0.1:8600/', secretEnvPrefixes: ['QS_'], secretHosts })],
  });
  ({ server, base } = await listenOnLoopback(app));
});

afterAll(async () => {
  server?.close();
  foreign?.close();
  foreignSmtp?.close();
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

  it.each<[string, string, () => Record<string, unknown>, () => string]>([
    ['a signing key for a webhook on a foreign host', 'hook-elsewhere', () => ({ type: 'webhook', url: `http://${foreignHost}/hook`, secretEnv: 'QS_TEST_DT_SECRET' }), () => `secretEnv: QS_TEST_DT_SECRET may only be sent to ${new URL(robot.url).host} (secrets.hosts), not to ${foreignHost}`],
    ['an SMTP password for another mail server', 'mail-elsewhere', () => ({ type: 'email', smtp: { host: 'evil.example', port: 465, user: 'u', passwordEnv: 'QS_TEST_SMTP_PASSWORD', from: 'a@qingshan.example' } }), () => 'smtp.passwordEnv: QS_TEST_SMTP_PASSWORD may only be sent to smtp.qingshan.example:465 (secrets.hosts), not to evil.example:465'],
    ['a signing key without any binding', 'hook-unbound', () => ({ type: 'webhook', url: `${robot.url}`, secretEnv: 'QS_TEST_UNBOUND_KEY' }), () => 'secretEnv: QS_TEST_UNBOUND_KEY has no binding'],
  ])('refuses %s, naming the field (secret_host_not_allowed)', async (_what, id, fields, message) => {
    const { status, json } = await call('admin', 'PUT', `/channels/${id}`, { name: '外部', ...fields() });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining(message()) });
    expect(JSON.stringify(json)).not.toContain('SEC-api-test');
    expect((await call('admin', 'POST', `/channels/${id}/test`)).status).toBe(404);
  });

  it('takes a bound secret for the host it is bound to', async () => {
    expect((await call('admin', 'PUT', '/channels/hook-robot-host', { name: '本机接口', type: 'webhook', url: `http://${new URL(robot.url).host}/hook`, secretEnv: 'QS_TEST_DT_SECRET' })).status).toBe(201);
    expect((await call('admin', 'PUT', '/channels/mail', { name: '邮件', type: 'email', smtp: { host: 'smtp.qingshan.example', port: 465, secure: true, user: 'u', passwordEnv: 'QS_TEST_SMTP_PASSWORD', from: 'a@qingshan.example' } })).status).toBe(201);
  });

  it('refuses a YAML channel that names a bound secret for a foreign host, at a write and at a send; nothing reaches that host', async () => {
    const edited = await call('admin', 'PUT', '/channels/yaml-hook', { name: '外部接口（改名）', type: 'webhook', url: `http://${foreignHost}/hook`, secretEnv: 'QS_TEST_DT_SECRET' });
    expect(edited.status).toBe(400);
    expect(edited.json.error).toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining(foreignHost) });
    const { status, json } = await call('admin', 'POST', '/channels/yaml-hook/test');
    expect(status).toBe(200);
    expect(json.outcome).toMatchObject({ status: 'failed', error: expect.stringContaining(`QS_TEST_DT_SECRET 不可发往 ${foreignHost}`) });
    expect(JSON.stringify(json)).not.toContain('SEC-api-test');
    expect(foreignSeen).toEqual([]);
    // The SMTP password the same: no connection to a mail server outside its binding.
    const mail = await call('admin', 'POST', '/channels/yaml-mail/test');
    expect(mail.json.outcome).toMatchObject({ status: 'failed', error: expect.stringContaining(`QS_TEST_SMTP_PASSWORD 不可发往 127.0.0.1:${foreignSmtpPort}`) });
    expect(JSON.stringify(mail.json)).not.toContain('SMTP-PASSWORD-55');
    expect(smtpConnections).toBe(0);
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
