import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crawlPosition } from '../../../crawlers/crawl-position.js';
import { createApiCollectors } from '../../../crawlers/api-collectors.js';
import { MemoryCrawlState } from '../../../crawlers/shared/crawl-state.js';
import { SourceSchema, withDefaultHosts, type Source } from '../../../core/sources/source.js';
import type { SecretHosts } from '../../../core/config/secret-hosts.js';
import { startWechatMpFake } from '../../fixtures/platforms/wechat-mp-fake.js';
import { startWeiboFake } from '../../fixtures/platforms/weibo-fake.js';
import { WECHAT_ACCOUNT, wechatMessages } from '../../fixtures/demo-site/wechat-content.js';
import { WEIBO_ACCOUNT, weiboPosts } from '../../fixtures/demo-site/weibo-content.js';

const NOW = Date.parse('2026-11-24T10:00:00+08:00');
const owner = { section: '县政府办公室', person: '李明' };
const TOKEN = 'Bearer bound-to-a-only';

/** Two loopback sites on two ports: a secret bound to A must never reach B. */
describe('a crawl run and the hosts its secrets are bound to', () => {
  const seen: { site: string; path: string; headers: IncomingHttpHeaders }[] = [];
  const servers: Server[] = [];
  const hosts: Record<'a' | 'b', string> = { a: '', b: '' };

  beforeAll(async () => {
    for (const site of ['a', 'b'] as const) {
      const server = createServer((req, res) => {
        seen.push({ site, path: req.url ?? '', headers: req.headers });
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end('<html><body><ul class="list"><li><a href="/a1.html">通知</a><span>2026-11-20</span></li></ul></body></html>');
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      hosts[site] = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    process.env.QS_SITE_AUTH = TOKEN;
  });
  afterAll(async () => {
    delete process.env.QS_SITE_AUTH;
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
  afterEach(() => void seen.splice(0));

  const website = (host: string, render: 'static' | 'browser' = 'static') =>
    withDefaultHosts(SourceSchema.parse({ id: 'site', kind: 'website', name: '门户网站', owner, entryPoints: [`http://${host}/index.html`], render, credentials: { authorization: 'QS_SITE_AUTH' }, crawl: { robotsTxt: 'ignore', delayMs: 0, retries: 0 } }));
  const run = (source: Source, secretHosts: SecretHosts, env: Record<string, string> = {}) =>
    crawlPosition(source, { state: new MemoryCrawlState(), collectors: createApiCollectors({ prefix: 'unit', weiboPauseMs: 0 }), env, secretHosts, maxRequests: 20, timeoutSeconds: 5, now: () => new Date(NOW), onItem: async () => undefined });

  it('sends a bound authorization header to the host it is bound to', async () => {
    await run(website(hosts.a), { QS_SITE_AUTH: [hosts.a] });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.site === 'a' && s.headers.authorization === TOKEN)).toBe(true);
  });

  it('refuses the run, naming the variable and the host, before the header goes to a host outside the binding', async () => {
    await expect(run(website(hosts.b), { QS_SITE_AUTH: [hosts.a] })).rejects.toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining(`QS_SITE_AUTH`) });
    expect(seen.filter((s) => s.headers.authorization !== undefined)).toEqual([]);
    // Rendered in Chromium, the same: refused before the browser is started.
    await expect(run(website(hosts.b, 'browser'), { QS_SITE_AUTH: [hosts.a] })).rejects.toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining(hosts.b) });
    expect(seen).toEqual([]);
  });

  it('refuses a source last written through the API that names a secret without a binding (named before bindings existed); from the YAML it still runs', async () => {
    const throughApi = (source: Source) =>
      crawlPosition(source, { state: new MemoryCrawlState(), collectors: createApiCollectors({ prefix: 'unit', weiboPauseMs: 0 }), env: {}, secretHosts: {}, requireSecretBindings: true, maxRequests: 20, timeoutSeconds: 5, now: () => new Date(NOW), onItem: async () => undefined });
    await expect(throughApi(website(hosts.b))).rejects.toMatchObject({ code: 'secret_host_not_allowed', message: expect.stringContaining('QS_SITE_AUTH') });
    expect(seen).toEqual([]);
    await run(website(hosts.a), {});
    expect(seen.length).toBeGreaterThan(0);
  });
});

describe('API collectors and the hosts their secrets are bound to', () => {
  it('does not send the Weibo cookie to an API host outside its binding', async () => {
    const weibo = await startWeiboFake({ ...WEIBO_ACCOUNT, posts: weiboPosts(NOW) });
    try {
      const source = SourceSchema.parse({ id: 'wb', kind: 'weibo', name: '微博', owner, uid: WEIBO_ACCOUNT.uid, baseUrl: weibo.url, cookieEnv: 'QS_WEIBO_COOKIE' });
      const report = await crawlPosition(source, { state: new MemoryCrawlState(), collectors: createApiCollectors({ prefix: 'unit', weiboPauseMs: 0 }), env: { QS_WEIBO_COOKIE: 'SUB=s3cret' }, secretHosts: { QS_WEIBO_COOKIE: ['m.weibo.example'] }, maxRequests: 20, timeoutSeconds: 5, now: () => new Date(NOW), onItem: async () => undefined });
      expect(report.outcome).toBe('failed');
      expect(report.failures).toEqual([expect.objectContaining({ code: 'secret_host_not_allowed', errorClass: 'config', error: expect.stringContaining(new URL(weibo.url).host) })]);
      expect(report.failures[0]!.error).not.toContain('s3cret');
      expect(weibo.calls).toEqual([]);
    } finally {
      await weibo.close();
    }
  });

  it('does not send the WeChat appid and secret to an API host outside their binding', async () => {
    const wechat = await startWechatMpFake({ ...WECHAT_ACCOUNT, accountName: WECHAT_ACCOUNT.name, messages: wechatMessages(NOW) });
    try {
      const source = SourceSchema.parse({ id: 'mp', kind: 'wechat-mp', name: '公众号', owner, api: { baseUrl: wechat.url, appidEnv: 'QS_WX_APPID', secretEnv: 'QS_WX_SECRET' } });
      const env = { QS_WX_APPID: WECHAT_ACCOUNT.appid, QS_WX_SECRET: WECHAT_ACCOUNT.secret };
      const report = await crawlPosition(source, { state: new MemoryCrawlState(), collectors: createApiCollectors({ prefix: 'unit' }), env, secretHosts: { QS_WX_SECRET: ['api.wx.example'] }, maxRequests: 20, timeoutSeconds: 5, now: () => new Date(NOW), onItem: async () => undefined });
      expect(report.failures).toEqual([expect.objectContaining({ code: 'secret_host_not_allowed', error: expect.stringContaining('QS_WX_SECRET') })]);
      expect(wechat.calls).toEqual([]);
    } finally {
      await wechat.close();
    }
  });
});
