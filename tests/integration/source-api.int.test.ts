import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { sourceRoutes } from '../../api/routes/source-routes.js';
import type { Role } from '../../core/auth/user.js';
import { createLogger } from '../../core/logger.js';
import { SourceSchema } from '../../core/sources/source.js';
import { startCrawlerRole } from '../../crawlers/crawler-role.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { RedisSourceHealthStore } from '../../crawlers/shared/source-health.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { RedisSourceRegistry } from '../../crawlers/shared/source-registry.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { startDemoSite, type DemoSite } from '../fixtures/demo-site/server.js';
import { eventually, isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';

const iso = isolation();
const owner = { section: '县政府办公室', person: '李明' };
let es: Client;
const redis = createRedis(iso.redisUrl);
let server: Server;
let base: string;
let site: DemoSite;
let queues: Queues;
let audit: EsAuditLog;
let evidenceDir: string;
let role: { close(): Promise<void> } | undefined;
const tokens: Partial<Record<Role, string>> = {};
/** A second loopback site (another port, so another host) that QS_TEST_CMS_AUTH is not bound to. */
let foreign: Server;
let foreignHost: string;
const foreignSeen: IncomingHttpHeaders[] = [];
const CMS_AUTH = 'Bearer cms-token-for-the-demo-site-only';

async function call(who: Role | undefined, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api${urlPath}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(who ? { Authorization: `Bearer ${tokens[who]}` } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  // Response bodies are read loosely: the assertions say what they must hold.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, any> };
}

type Json = Awaited<ReturnType<typeof call>>['json'];
const healthOf = async (id: string) => ((await call('duty', 'GET', '/sources/health')).json.sources as Json[]).find((s) => s.sourceId === id);

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  site = await startDemoSite();
  foreign = createServer((req, res) => {
    foreignSeen.push(req.headers);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<html><body><ul><li><a href="/a1.html">通知</a></li></ul></body></html>');
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  foreignHost = `127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  // The crawler reads credentials from env when it crawls.
  process.env.QS_TEST_CMS_AUTH = CMS_AUTH;
  const secretHosts = { QS_TEST_CMS_AUTH: [new URL(site.url).host] };
  evidenceDir = await mkdtemp(path.join(tmpdir(), 'qs-evidence-'));
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  queues = createQueues(redis, iso.redisPrefix);
  const registry = new RedisSourceRegistry(redis, iso.redisPrefix);
  await registry.seed([
    SourceSchema.parse({ id: 'demo-website', kind: 'website', name: '青山县人民政府门户网站', owner, everySeconds: 3600, entryPoints: [`${site.url}/xwzx/gzdt/index.html`], allowedHosts: [new URL(site.url).host], crawl: { delayMs: 0 } }),
    // Written by the admin in sources.yaml: trusted without checks at write, checked at use.
    SourceSchema.parse({ id: 'yaml-cms', kind: 'website', name: '内网栏目（配置文件）', owner, enabled: false, entryPoints: [`${site.url}/xwzx/tzgg/index.html`], allowedHosts: [new URL(site.url).host], credentials: { authorization: 'QS_TEST_CMS_AUTH' } }),
    SourceSchema.parse({ id: 'yaml-foreign', kind: 'website', name: '外站栏目（配置文件）', owner, enabled: false, entryPoints: [`http://${foreignHost}/index.html`], allowedHosts: [foreignHost], credentials: { authorization: 'QS_TEST_CMS_AUTH' }, crawl: { delayMs: 0, retries: 0, robotsTxt: 'ignore' } }),
  ]);
  const health = new RedisSourceHealthStore(redis, iso.redisPrefix);
  role = await startCrawlerRole({
    registry,
    health,
    healthPolicy: { alertAfterFailures: 2, remindEveryMinutes: 60 },
    evidence: new DiskEvidenceStore(evidenceDir),
    queues,
    connection: redis,
    prefix: iso.redisPrefix,
    defaultEverySeconds: 3600,
    maxRequestsPerRun: 200,
    timeoutSeconds: 5,
    log: createLogger('silent'),
    collectors: {},
    secretHosts,
    recordReport: async () => undefined,
  });
  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  for (const r of ['admin', 'duty', 'section_chief', 'viewer'] as Role[]) tokens[r] = await sessions.create({ username: `u-${r}`, displayName: `测试${r}`, roles: [r] });
  const app = createApp({
    log: createLogger('silent'),
    sessions,
    apiRouters: [sourceRoutes({ registry, health, crawlQueue: queues.crawl, audit, defaultEverySeconds: 3600, zombieDays: 14, posts: new EsPostStore(es, names.posts, new BulkIndexer(es)), secretEnvPrefixes: ['QS_'], secretHosts })],
  });
  ({ server, base } = await listenOnLoopback(app));
});

afterAll(async () => {
  server?.close();
  foreign?.close();
  delete process.env.QS_TEST_CMS_AUTH;
  await role?.close();
  await queues?.close();
  await site?.close();
  await rm(evidenceDir, { recursive: true, force: true });
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('positions over the API: edited without a restart, crawled on demand, honest about their health', () => {
  it('lists the YAML-seeded sources to any reader; refuses anonymous callers', async () => {
    expect((await call(undefined, 'GET', '/sources')).status).toBe(401);
    const { status, json } = await call('viewer', 'GET', '/sources');
    expect(status).toBe(200);
    expect(json.sources).toEqual(['demo-website', 'yaml-cms', 'yaml-foreign'].map((id) => expect.objectContaining({ version: 1, origin: 'yaml', source: expect.objectContaining({ id }) })));
  });

  it.each([
    ['no entry points', { id: 'x-site', kind: 'website', name: 'x', owner }, 'entryPoints'],
    ['an unknown kind', { id: 'x-site', kind: 'ftp', name: 'x', owner, entryPoints: ['http://a/'] }, 'kind'],
    ['a secret where an env var name belongs', { id: 'x-site', kind: 'website', name: 'x', owner, entryPoints: ['http://a/'], credentials: { cookie: 'SESSIONID=abc123' } }, 'credentials.cookie'],
    ['a page cap of zero', { id: 'x-site', kind: 'website', name: 'x', owner, entryPoints: ['http://a/'], crawl: { maxPages: 0 } }, 'crawl.maxPages'],
  ])('rejects a source with %s with 400 naming the field', async (_case, body, field) => {
    const { status, json } = await call('section_chief', 'POST', '/sources', body);
    expect(status).toBe(400);
    expect(json.error.message).toContain(field);
  });

  it('lets a section chief add a source (scheduled at once, audited) but not a duty officer', async () => {
    const body = { id: 'new-column', kind: 'website', name: '新栏目', owner, everySeconds: 600, entryPoints: [`${site.url}/xwzx/tzgg/index.html`], crawl: { delayMs: 0 } };
    expect((await call('duty', 'POST', '/sources', body)).status).toBe(403);
    const created = await call('section_chief', 'POST', '/sources', body);
    expect(created.status).toBe(201);
    expect(created.json.source.allowedHosts).toEqual([new URL(site.url).host]);
    expect((await queues.crawl.getJobScheduler('source:new-column'))?.every).toBe(600_000);
    expect((await call('section_chief', 'POST', '/sources', body)).status).toBe(409);
    const records = await audit.list({ entityType: 'source', entityId: 'new-column' });
    expect(records.map((r) => r.action)).toEqual(['source.create']);
    expect(records[0]!.actor.id).toBe('u-section_chief');
  });

  it.each([
    ['a website whose authorization is the host password', { kind: 'website', entryPoints: ['http://evil.example/'], credentials: { authorization: 'ES_PASSWORD' } }, 'credentials.authorization'],
    ['a website whose cookie is the audit key', { kind: 'website', entryPoints: ['http://evil.example/'], credentials: { cookie: 'AUDIT_CHECKPOINT_KEY' } }, 'credentials.cookie'],
    ['a WeChat account whose secret is the host password', { kind: 'wechat-mp', api: { baseUrl: 'http://evil.example/', appidEnv: 'QS_TEST_WX_APPID', secretEnv: 'ES_PASSWORD' } }, 'api.secretEnv'],
    ['a Weibo account whose cookie is the host password', { kind: 'weibo', uid: '1234567', baseUrl: 'http://evil.example/', cookieEnv: 'ES_PASSWORD' }, 'cookieEnv'],
    ['a push source whose token is the host password', { kind: 'push', tokenEnv: 'ES_PASSWORD' }, 'tokenEnv'],
  ])('refuses a section chief %s: secret env var names must carry the allowed prefix', async (_case, fields, field) => {
    const { status, json } = await call('section_chief', 'POST', '/sources', { id: 'exfil', name: '外部站点', owner, ...fields });
    expect(status).toBe(400);
    expect(json.error.code).toBe('secret_env_not_allowed');
    expect(json.error.message).toContain(field);
    expect(json.error.message).toContain('QS_');
    expect((await call('duty', 'GET', '/sources/exfil')).status).toBe(404);
  });

  it('lets a section chief name a QS_ credential, but not change it to ES_PASSWORD', async () => {
    const body = { id: 'cms-private', kind: 'website', name: '内网栏目', owner, everySeconds: 3600, entryPoints: [`${site.url}/xwzx/tzgg/index.html`], credentials: { authorization: 'QS_TEST_CMS_AUTH' }, enabled: false };
    expect((await call('section_chief', 'POST', '/sources', body)).status).toBe(201);
    const current = (await call('duty', 'GET', '/sources/cms-private')).json;
    const changed = await call('section_chief', 'PUT', '/sources/cms-private', { ...current.source, entryPoints: ['http://evil.example/'], allowedHosts: ['evil.example'], credentials: { authorization: 'ES_PASSWORD' } }, { 'If-Match': String(current.version) });
    expect(changed.status).toBe(400);
    expect(changed.json.error.message).toContain('credentials.authorization');
    expect((await call('duty', 'GET', '/sources/cms-private')).json.source.credentials).toEqual({ authorization: 'QS_TEST_CMS_AUTH' });
  });

  it('refuses a section chief a bound secret sent to a host outside its binding, naming the field; takes it for its own host', async () => {
    const body = { id: 'cms-elsewhere', kind: 'website', name: '外站栏目', owner, enabled: false, entryPoints: [`http://${foreignHost}/index.html`], credentials: { authorization: 'QS_TEST_CMS_AUTH' } };
    const refused = await call('section_chief', 'POST', '/sources', body);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining(`credentials.authorization: QS_TEST_CMS_AUTH may only be sent to ${new URL(site.url).host} (secrets.hosts), not to ${foreignHost}`) });
    expect(JSON.stringify(refused.json)).not.toContain(CMS_AUTH);
    expect((await call('duty', 'GET', '/sources/cms-elsewhere')).status).toBe(404);
    // One more allowed host outside the binding is refused as well: the crawl sends the header to each.
    const wider = await call('section_chief', 'POST', '/sources', { ...body, entryPoints: [`${site.url}/xwzx/tzgg/index.html`], allowedHosts: [new URL(site.url).host, foreignHost] });
    expect(wider.status).toBe(400);
    expect(wider.json.error.code).toBe('secret_host_not_allowed');
    // A secret without any binding cannot be named through the API at all.
    const unbound = await call('section_chief', 'POST', '/sources', { ...body, entryPoints: [`${site.url}/xwzx/tzgg/index.html`], credentials: { cookie: 'QS_TEST_OTHER_COOKIE' } });
    expect(unbound.status).toBe(400);
    expect(unbound.json.error).toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining('credentials.cookie: QS_TEST_OTHER_COOKIE has no binding') });
    const own = await call('section_chief', 'POST', '/sources', { ...body, entryPoints: [`${site.url}/xwzx/tzgg/index.html`] });
    expect(own.status).toBe(201);
  });

  it('refuses moving a YAML source that names a bound secret to a foreign host through the API', async () => {
    const current = (await call('duty', 'GET', '/sources/yaml-cms')).json;
    const moved = await call('section_chief', 'PUT', '/sources/yaml-cms', { ...current.source, entryPoints: [`http://${foreignHost}/index.html`], allowedHosts: [foreignHost] }, { 'If-Match': String(current.version) });
    expect(moved.status).toBe(400);
    expect(moved.json.error).toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining(`credentials.authorization: QS_TEST_CMS_AUTH may only be sent to ${new URL(site.url).host} (secrets.hosts), not to ${foreignHost}`) });
    expect((await call('duty', 'GET', '/sources/yaml-cms')).json).toMatchObject({ version: current.version, source: { entryPoints: [`${site.url}/xwzx/tzgg/index.html`] } });
    // Renamed in place, it still sends its secret only where the binding says: accepted.
    expect((await call('section_chief', 'PUT', '/sources/yaml-cms', { ...current.source, name: '内网栏目（改名）' }, { 'If-Match': String(current.version) })).status).toBe(200);
  });

  it('a crawl of a YAML source on a host outside its secret’s binding never sends the header and records why', async () => {
    expect((await call('duty', 'POST', '/sources/yaml-foreign/crawl', {})).status).toBe(202);
    const health = await eventually(async () => {
      const h = await healthOf('yaml-foreign');
      return h?.lastError ? h : undefined;
    }, 30_000, 'a refused crawl of yaml-foreign');
    expect(health.lastError).toMatchObject({ errorClass: 'config', message: expect.stringContaining('QS_TEST_CMS_AUTH') });
    expect(health.lastError.message).toContain(foreignHost);
    expect(JSON.stringify(health)).not.toContain(CMS_AUTH);
    expect(foreignSeen.filter((h) => h.authorization !== undefined)).toEqual([]);
  });

  it('applies a schedule change at once, refuses a stale version, and removes the schedule of a disabled source', async () => {
    const current = (await call('duty', 'GET', '/sources/new-column')).json;
    const changed = await call('admin', 'PUT', '/sources/new-column', { ...current.source, everySeconds: 120 }, { 'If-Match': String(current.version) });
    expect(changed.status).toBe(200);
    expect(changed.json.version).toBe(current.version + 1);
    expect((await queues.crawl.getJobScheduler('source:new-column'))?.every).toBe(120_000);
    const stale = await call('admin', 'PUT', '/sources/new-column', { ...current.source, everySeconds: 300 }, { 'If-Match': String(current.version) });
    expect(stale.status).toBe(409);
    await call('admin', 'PUT', '/sources/new-column', { ...current.source, enabled: false });
    expect(await queues.crawl.getJobScheduler('source:new-column')).toBeUndefined();
    expect((await audit.list({ entityType: 'source', entityId: 'new-column' })).map((r) => r.action).sort()).toEqual(['source.create', 'source.update', 'source.update']);
  });

  it('"crawl now" runs the source and its health shows the success and the new items', async () => {
    const { status, json } = await call('duty', 'POST', '/sources/demo-website/crawl', {});
    expect(status).toBe(202);
    expect(json.jobId).toMatch(/^manual-demo-website-/);
    const health = await eventually(async () => {
      const h = await healthOf('demo-website');
      return h?.lastSuccessAt ? h : undefined;
    }, 60_000, 'a successful crawl of demo-website');
    expect(health.status).toBe('ok');
    expect(health.consecutiveFailures).toBe(0);
    expect(health.lastNewItemAt).toBeTruthy();
    expect(health.lastRun.itemsNew).toBeGreaterThan(3);
    // 删除数 over the last week, from the posts' deletion marks (none indexed here).
    expect(health.deletions).toEqual({ days: 7, count: 0 });
  });

  it('a source that keeps failing records the error in Chinese and a coverage gap, and raises a source-health alert after N failures', async () => {
    const down = { id: 'down-site', kind: 'message-board', name: '已关闭的留言板', owner, everySeconds: 3600, entryPoints: ['http://127.0.0.1:9/lyb/index.html'], crawl: { retries: 0, delayMs: 0 } };
    expect((await call('section_chief', 'POST', '/sources', down)).status).toBe(201);
    // A new source is crawled at once by its scheduler; "crawl now" adds runs until two have failed.
    const health = await eventually(
      async () => {
        const h = await healthOf('down-site');
        if ((h?.consecutiveFailures ?? 0) >= 2) return h;
        await call('duty', 'POST', '/sources/down-site/crawl', {});
        await new Promise((r) => setTimeout(r, 1000));
        return undefined;
      },
      30_000,
      'two failed runs',
    );
    expect(health.status).toBe('failing');
    expect(health.lastError.errorClass).toBe('unreachable');
    expect(health.summary).toContain(`连续失败 ${health.consecutiveFailures} 次`);
    expect(health.lastError.cause).toContain('无法连接');
    expect(health.gaps).toEqual([expect.objectContaining({ errorClass: 'unreachable', from: expect.any(String) })]);
    expect(health.gaps[0].to).toBeUndefined();
    const alerts = await queues.alert.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    expect(alerts.filter((j) => j.name === 'source-health').map((j) => (j.data as { signal: string; sourceId: string }).sourceId)).toEqual(['down-site']);
  });

  it('reports the health of every source, including one never crawled', async () => {
    const idle = { id: 'idle-site', kind: 'website', name: '停用栏目', owner, enabled: false, entryPoints: [`${site.url}/xwzx/tzgg/index.html`] };
    expect((await call('admin', 'POST', '/sources', idle)).status).toBe(201);
    const health = (await call('viewer', 'GET', '/sources/health')).json.sources as Json[];
    expect(health.map((h) => h.sourceId).sort()).toEqual(['cms-elsewhere', 'cms-private', 'demo-website', 'down-site', 'idle-site', 'new-column', 'yaml-cms', 'yaml-foreign']);
    expect(health.find((h) => h.sourceId === 'idle-site')!.status).toBe('never-run');
    expect(health.find((h) => h.sourceId === 'idle-site')!.summary).toBe('尚未采集');
  });
});
