import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawlHostileFolder, startHostileSite, type HostileSite } from '../fixtures/hostile-site.js';

describe('bad input in browser render mode: each hostile site ends with a readable error, the others keep running', () => {
  let site: HostileSite;
  beforeAll(async () => {
    site = await startHostileSite();
  });
  afterAll(async () => {
    await site?.close();
  });

  const crawl = (dir: string) => crawlHostileFolder(site, dir, { render: 'browser', timeoutSeconds: 8, maxRequests: 20 });

  it('binary content, a 50 MB page, a slow drip, a redirect loop and a server error fail with their class; a GBK page and broken HTML are read', async () => {
    const dirs = ['binary', 'huge', 'slow', 'redirect-loop', 'server-error', 'gbk-undeclared', 'broken-html'];
    const results = await Promise.all(dirs.map((d) => crawl(d)));
    const byDir = Object.fromEntries(dirs.map((d, i) => [d, results[i]!]));
    for (const d of ['binary', 'huge', 'slow', 'redirect-loop', 'server-error']) {
      expect(byDir[d]!.report.outcome, d).toBe('failed');
      expect(byDir[d]!.report.error?.message.length, d).toBeGreaterThan(10);
    }
    expect(byDir['binary']!.report.error?.errorClass).toBe('not-html');
    expect(['too-large', 'timeout']).toContain(byDir['huge']!.report.error?.errorClass);
    expect(byDir['slow']!.report.error?.errorClass).toBe('timeout');
    expect(byDir['redirect-loop']!.report.error?.errorClass, byDir['redirect-loop']!.report.error?.message).toBe('redirect-loop');
    expect(byDir['server-error']!.report.error?.errorClass).toBe('server-error');
    expect(byDir['gbk-undeclared']!.report.outcome).toBe('ok');
    expect(byDir['gbk-undeclared']!.items[0]?.title).toBe('关于做好防汛工作的通知');
    expect(byDir['broken-html']!.items[0]?.text).toContain('13812345678');
  }, 120_000);
});
