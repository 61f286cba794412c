import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchPage } from '../../../crawlers/shared/fetch-page.js';

/** The source's cookie and authorization go to its own origin, never along a redirect to another. */
describe('fetchPage and a source’s credentials', () => {
  const seen: { server: string; path: string; headers: IncomingHttpHeaders }[] = [];
  const servers: Server[] = [];
  let own = '';
  let other = '';

  const start = async (name: string, handler: (path: string, res: ServerResponse) => void) => {
    const server = createServer((req, res) => {
      seen.push({ server: name, path: req.url ?? '', headers: req.headers });
      handler(req.url ?? '', res);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    other = await start('other', (_p, res) => res.end('<html><body>elsewhere</body></html>'));
    own = await start('own', (p, res) => {
      if (p === '/moved') res.writeHead(302, { location: '/here' }).end();
      else if (p === '/away') res.writeHead(302, { location: `${other}/landing` }).end();
      else res.end('<html><body>here</body></html>');
    });
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  const headers = { cookie: 'SESSIONID=s3cret', authorization: 'Bearer t0k' };

  it('keeps them across a redirect within the origin', async () => {
    await fetchPage(`${own}/moved`, { timeoutMs: 5000, maxBytes: 1e6, expect: 'page', headers });
    const here = seen.filter((s) => s.server === 'own').map((s) => [s.path, s.headers.cookie, s.headers.authorization]);
    expect(here).toEqual([
      ['/moved', headers.cookie, headers.authorization],
      ['/here', headers.cookie, headers.authorization],
    ]);
  });

  it('drops them when a redirect leaves the origin', async () => {
    const res = await fetchPage(`${own}/away`, { timeoutMs: 5000, maxBytes: 1e6, expect: 'page', headers });
    expect(res.status).toBe('ok');
    const landing = seen.find((s) => s.server === 'other')!;
    expect(landing.path).toBe('/landing');
    expect(landing.headers.cookie).toBeUndefined();
    expect(landing.headers.authorization).toBeUndefined();
  });
});
