import type { Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { isolation } from '../support/isolation.js';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { createLogger } from '../../core/logger.js';

/** What `vite build` writes with `html.cspNonce` (dashboards/vite.config.ts), cut down. */
const INDEX_HTML = '<!doctype html><html><head><meta property="csp-nonce" nonce="__CSP_NONCE__"><script type="module" src="/assets/index.js" nonce="__CSP_NONCE__"></script></head><body><div id="app"></div></body></html>';

describe('the dashboard page and its Content-Security-Policy nonce', () => {
  const iso = isolation();
  const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
  const dir = mkdtempSync(path.join(tmpdir(), 'qs-dashboard-'));
  let server: Server;
  let base: string;

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), INDEX_HTML);
    writeFileSync(path.join(dir, 'assets', 'index.js'), 'export {};\n');
    const app = createApp({ log: createLogger('silent'), sessions: new RedisSessionStore(redis, iso.redisPrefix, 3600), apiRouters: [], dashboardDir: dir });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
    await iso.cleanup();
  });

  async function page(url: string): Promise<{ csp: string; nonce: string | undefined; html: string; status: number }> {
    const res = await fetch(`${base}${url}`, { headers: { Accept: 'text/html' } });
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    return { csp, nonce: /style-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1], html, status: res.status };
  }

  it('every page load gets its own nonce, in the style-src header and in the page, and nothing inline besides', async () => {
    const first = await page('/wall');
    const second = await page('/rules');
    for (const p of [first, second]) {
      expect(p.status).toBe(200);
      expect(p.nonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
      expect(p.html).toContain(`<meta property="csp-nonce" nonce="${p.nonce}">`);
      expect(p.html).not.toContain('__CSP_NONCE__');
      expect(p.csp).toContain("script-src 'self';");
      expect(p.csp).not.toContain('unsafe-inline');
    }
    expect(first.nonce).not.toBe(second.nonce);
  });

  it('/index.html itself is served with a nonce too, never the placeholder', async () => {
    const p = await page('/index.html');
    expect(p.html).toContain(`nonce="${p.nonce}"`);
    expect(p.html).not.toContain('__CSP_NONCE__');
  });

  it('a revalidation never gets a 304 that would keep an earlier nonce, and no cache keeps the page', async () => {
    const first = await fetch(`${base}/wall`, { headers: { Accept: 'text/html' } });
    await first.text();
    expect(first.headers.get('cache-control')).toBe('no-store');
    const etag = first.headers.get('etag');
    const again = await fetch(`${base}/wall`, { headers: { Accept: 'text/html', ...(etag ? { 'If-None-Match': etag } : {}) } });
    expect(again.status).toBe(200);
    expect(again.headers.get('cache-control')).toBe('no-store');
  });

  // Every way to name the file, asked for by clients that take anything or no HTML at all.
  it.each([
    ['/index.html', '*/*'],
    ['/index.html', 'application/json'],
    ['/index.html', 'image/*'],
    ['/%69ndex.html', 'application/json'],
    ['//index.html', 'application/json'],
    ['/index.html', ''],
  ])('%s with Accept "%s" gets the page with a fresh nonce, not cached, or a 404 — never the placeholder', async (url, accept) => {
    const res = await fetch(`${base}${url}`, { headers: accept ? { Accept: accept } : {} });
    const html = await res.text();
    expect(html).not.toContain('__CSP_NONCE__');
    expect([200, 404]).toContain(res.status);
    if (res.status === 200) {
      const nonce = /style-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
      expect(html).toContain(`<meta property="csp-nonce" nonce="${nonce}">`);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('hashed assets are still served as files, cacheable', async () => {
    const res = await fetch(`${base}/assets/index.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('immutable');
  });
});
