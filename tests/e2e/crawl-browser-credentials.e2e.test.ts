import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { WebsiteSourceSchema } from '../../core/sources/source.js';
import { crawlPageSource } from '../../crawlers/routes-for.js';
import { MemoryCrawlState } from '../../crawlers/shared/crawl-state.js';

/**
 * A position behind a log-in (an intranet CMS): its pages want the session cookie, its list API a
 * bearer token, and the list page pulls a script from a third-party host. Some of its pages and
 * API calls are redirected to the third-party host, and the third-party host redirects back.
 * Rendered in Chromium, the source's credentials reach its own host, on every hop that is its own,
 * and nothing else.
 */
describe('browser render mode with credentials', () => {
  let site: Server;
  let thirdParty: Server;
  let siteUrl: string;
  let thirdUrl: string;
  const seenBySite: { path: string; headers: IncomingHttpHeaders }[] = [];
  const seenByThirdParty: (IncomingHttpHeaders & { path?: string })[] = [];
  const env = { QS_TEST_CMS_COOKIE: 'SESSIONID=s3cret; lang=zh', QS_TEST_CMS_AUTH: 'Bearer t0ken-for-list' };
  /** Answers the list page's wait for its popup once the popup has landed on the third-party host. */
  let popupLanded: () => void = () => undefined;
  const popup = new Promise<void>((resolve) => (popupLanded = resolve));

  const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const page = (res: ServerResponse, body: string) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>内网</title></head><body>${body}</body></html>`);
  };
  const article = (title: string, date: string) =>
    `<div class="article"><h1>${title}</h1><div class="info">发布时间：${date} 09:00 来源：办公室</div><div class="content"><p>各科室：为做好节日期间值班工作，现将有关事项通知如下，请各科室认真落实值班制度，确保信息畅通。</p></div></div>`;
  const redirect = (res: ServerResponse, location: string) => res.writeHead(302, { location }).end();

  beforeAll(async () => {
    Object.assign(process.env, env);
    thirdParty = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seenByThirdParty.push({ ...req.headers, path: url.pathname });
      // A bounce back onto the source's host, as single sign-on and link trackers do.
      if (url.pathname === '/bounce') return redirect(res, `${siteUrl}${url.searchParams.get('to') ?? '/'}`);
      if (url.pathname === '/landing.html') return page(res, article('第三方落地页：本页不属于该阵地', '2024-05-09'));
      if (url.pathname === '/api/landing.json' || url.pathname === '/api/worker-landing.json') {
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        return res.end('[]');
      }
      if (url.pathname === '/frame.html') {
        // A cross-site frame calling the source's API, then telling the page it is done.
        return page(res, `<script>fetch('${siteUrl}/api/from-frame.json', { mode: 'no-cors' }).catch(function () {}).then(function () { parent.postMessage('frame-done', '*'); });</script>`);
      }
      if (url.pathname === '/popup-landing.html') {
        popupLanded();
        return page(res, '第三方弹窗');
      }
      if (url.pathname === '/popup-seen') {
        // Held until the popup has landed (5 s at most), so the list page is read only after.
        const timer = setTimeout(() => res.end('late'), 5000);
        return void popup.then(() => {
          clearTimeout(timer);
          res.writeHead(200, { 'access-control-allow-origin': '*' }).end('seen');
        });
      }
      res.writeHead(200, { 'content-type': 'application/javascript' });
      res.end('window.tracked = true;');
    });
    thirdUrl = `http://localhost:${await listen(thirdParty)}`;
    const articles = [1, 2, 3].map((n) => ({ href: `/202405/t2024050${n}_${n}.html`, title: `内网通知第${n}号：关于做好节日值班工作的通知`, date: `2024-05-0${n}` }));
    // Reached through the third-party host and back, then moved once more on the site:
    // /go/… → third party → /202405/….htm → /202405/….html.
    const bounced = { href: '/go/t20240504_4.html', back: '/202405/t20240504_4.htm', landing: '/202405/t20240504_4.html', title: '内网通知第4号：经第三方跳转回本站的通知', date: '2024-05-04' };
    // Moved off the site: the third-party host must not see who asked.
    const movedAway = { href: '/202405/t20240505_5.html', title: '内网通知第5号（已迁出）', date: '2024-05-05' };
    site = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      seenBySite.push({ path, headers: req.headers });
      if (path === '/api/back.json' || path === '/api/from-frame.json') {
        // Reached through the third-party host (the page's script bounced there and back, or the
        // third-party frame): a cross-site request, so the browser sends no cookie of its own
        // accord (fetch credentials are same-origin, the cookie SameSite=Lax).
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('[]');
      }
      if (!/(^|;\s*)SESSIONID=s3cret(;|$)/.test(req.headers.cookie ?? '')) return redirect(res, '/login.html');
      if (path === '/list/index.html') {
        // The list is written (by an intranet script) only once the redirected calls, the workers',
        // the frame's and the popup have finished, so the crawler reads the page after every hop has been made.
        return page(
          res,
          `<div class="position">当前位置：首页 &gt; 通知公告</div><ul class="list" id="js-list"></ul>
<script src="${thirdUrl}/track.js"></script>
<script>fetch('${thirdUrl}/cookie?c=' + encodeURIComponent(document.cookie), { mode: 'no-cors' });</script>
<script>navigator.serviceWorker && navigator.serviceWorker.register('/sw.js').catch(function () {});</script>
<script>window.open('/popup.html');</script>
<link rel="stylesheet" href="/css/site.css"><img src="/images/logo.png" alt="">
<iframe src="${thirdUrl}/frame.html"></iframe>
<script src="/js/list.js"></script>`,
        );
      }
      if (path === '/js/list.js') {
        res.writeHead(200, { 'content-type': 'application/javascript' });
        return res.end(`
var worker = new Promise(function (resolve) { var w = new Worker('/js/worker.js'); w.onmessage = resolve; w.onerror = resolve; });
var shared = new Promise(function (resolve) { var w = new SharedWorker('/js/shared.js'); w.port.onmessage = resolve; w.onerror = resolve; });
var frame = new Promise(function (resolve) { addEventListener('message', function (e) { if (e.data === 'frame-done') resolve(); }); });
var hops = [
  fetch('/api/away.json').then(function (r) { return r.text(); }),
  fetch('${thirdUrl}/bounce?to=/api/back.json', { mode: 'no-cors' }),
  fetch('${thirdUrl}/popup-seen').then(function (r) { return r.text(); }),
  worker,
  shared,
  frame,
];
Promise.all(hops.map(function (p) { return p.catch(function () {}); })).then(function () { return fetch('/api/list.json'); }).then(function (r) { return r.json(); }).then(function (items) { var ul = document.getElementById('js-list'); items.forEach(function (it) { var li = document.createElement('li'); var a = document.createElement('a'); a.href = it.href; a.textContent = it.title; var s = document.createElement('span'); s.textContent = it.date; li.appendChild(a); li.appendChild(s); ul.appendChild(li); }); });`);
      }
      if (path === '/js/worker.js') {
        res.writeHead(200, { 'content-type': 'application/javascript' });
        return res.end(`fetch('/api/worker-away.json').then(function (r) { return r.text(); }).catch(function () {}).then(function () { postMessage('done'); });`);
      }
      if (path === '/js/shared.js') {
        res.writeHead(200, { 'content-type': 'application/javascript' });
        return res.end(`onconnect = function (e) { var port = e.ports[0]; fetch('/api/shared.json').catch(function () {}).then(function () { port.postMessage('done'); }); };`);
      }
      if (path === '/api/worker-away.json') return redirect(res, `${thirdUrl}/api/worker-landing.json`);
      if (path === '/api/list.json') {
        if (req.headers.authorization !== env.QS_TEST_CMS_AUTH) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return res.end('{"error":"unauthorized"}');
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify([...articles, bounced, movedAway].map(({ href, title, date }) => ({ href, title, date }))));
      }
      if (path === '/api/away.json') return redirect(res, `${thirdUrl}/api/landing.json`);
      if (path === '/popup.html') return redirect(res, `${thirdUrl}/popup-landing.html`);
      if (path === bounced.href) return redirect(res, `${thirdUrl}/bounce?to=${bounced.back}`);
      if (path === bounced.back) return redirect(res, bounced.landing);
      if (path === bounced.landing) return page(res, article(bounced.title, bounced.date));
      if (path === movedAway.href) return redirect(res, `${thirdUrl}/landing.html`);
      const own = articles.find((a) => a.href === path);
      if (own) return page(res, article(own.title, own.date));
      res.writeHead(404);
      res.end();
    });
    siteUrl = `http://127.0.0.1:${await listen(site)}`;
  });
  afterAll(async () => {
    for (const key of Object.keys(env)) delete process.env[key];
    await Promise.all([site, thirdParty].map((s) => new Promise((r) => s?.close(r))));
  });

  it('sends the cookie and the authorization header to the source host only, hop by hop', async () => {
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
    // The list, written from the token-guarded API, was read: the intranet sub-resources loaded.
    const onSite = items.filter((i) => i.kind === 'article' && i.url.startsWith(`${siteUrl}/`));
    // The article that moved to the third party is not collected as the position's own.
    expect(items.map((i) => i.url).filter((u) => !u.startsWith(`${siteUrl}/`))).toEqual([]);
    expect(report.skipped['redirected-off-host']).toBe(1);
    expect(onSite.map((i) => i.title).sort()).toEqual([...[1, 2, 3].map((n) => `内网通知第${n}号：关于做好节日值班工作的通知`), '内网通知第4号：经第三方跳转回本站的通知']);

    // Every hop the site saw carried the session, robots.txt, sitemap discovery and the redirects
    // out included; the exceptions are the cross-site requests (see /api/back.json).
    const crossSite = ['/api/back.json', '/api/from-frame.json'];
    expect(seenBySite.filter((r) => !crossSite.includes(r.path) && !/SESSIONID=s3cret/.test(r.headers.cookie ?? '')).map((r) => r.path)).toEqual([]);
    const hopsOf = (...paths: string[]) => seenBySite.filter((r) => paths.includes(r.path));
    // The rendered pages and the page's own API calls carry the token on each of the site's hops:
    // the script, the list call, the calls redirected away (the page's and its worker's), the
    // navigations redirected away and back, the returns from the third-party host (a navigation
    // and a script's call) and the redirect on the site after that return.
    for (const path of ['/list/index.html', '/js/list.js', '/js/worker.js', '/api/list.json', '/api/away.json', '/api/worker-away.json', '/go/t20240504_4.html', '/202405/t20240504_4.htm', '/202405/t20240504_4.html', '/202405/t20240505_5.html', '/api/back.json']) {
      const hops = hopsOf(path);
      expect(hops.length, path).toBeGreaterThan(0);
      expect(
        hops.map((r) => r.headers.authorization),
        path,
      ).toEqual(hops.map(() => env.QS_TEST_CMS_AUTH));
    }

    // A popup, a shared worker and a cross-site frame are targets of their own, outside the tab's
    // Fetch session: they get no authorization header at all (failing closed), only the cookie the
    // browser's own rules allow; none of them is read.
    const sent = (path: string) => hopsOf(path).map((r) => ({ authorization: r.headers.authorization, cookie: /SESSIONID=s3cret/.test(r.headers.cookie ?? '') }));
    expect(sent('/popup.html')).toEqual([{ authorization: undefined, cookie: true }]);
    expect(sent('/api/shared.json')).toEqual([{ authorization: undefined, cookie: true }]);
    expect(sent('/api/from-frame.json')).toEqual([{ authorization: undefined, cookie: false }]);

    // The third-party host was reached on every path out: the script, the page's calls, the
    // redirected navigation, API calls (the page's and its worker's) and popup, and the bounce
    // back, each without the secrets.
    const thirdPaths = new Set(seenByThirdParty.map((h) => h.path));
    for (const path of ['/track.js', '/cookie', '/api/landing.json', '/api/worker-landing.json', '/landing.html', '/bounce', '/popup-landing.html']) expect(thirdPaths, path).toContain(path);
    expect(seenByThirdParty.filter((h) => h.cookie !== undefined || h.authorization !== undefined).map((h) => h.path)).toEqual([]);
    // The session cookie is httpOnly: the page's scripts cannot read it and hand it on.
    const handedOn = seenByThirdParty.find((h) => h.path === '/cookie');
    expect(handedOn).toBeDefined();
    expect(JSON.stringify(handedOn)).not.toContain('s3cret');
    // Service workers, which would fetch outside the tab, are never registered; styles and images
    // stay blocked inside Chromium alongside the Fetch session.
    expect(seenBySite.map((r) => r.path).filter((p) => ['/sw.js', '/css/site.css', '/images/logo.png'].includes(p))).toEqual([]);
  });
});
