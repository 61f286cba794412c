import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import type { CrawlErrorClass } from '../../crawlers/shared/crawl-error.js';
import { crawlCommand } from '../../bin/crawl-command.js';
import { MemoryCrawlState } from '../../crawlers/shared/crawl-state.js';
import { crawlHostileFolder, startHostileSite, type HostileSite } from '../fixtures/hostile-site.js';

describe('bad input: every broken or hostile site ends with a readable outcome, and the others keep running', () => {
  let site: HostileSite;
  beforeAll(async () => {
    site = await startHostileSite();
  });
  afterAll(async () => {
    await site?.close();
  });

  const crawl = (dir: string) => crawlHostileFolder(site, dir, { render: 'static', timeoutSeconds: 2, maxRequests: 50 });

  it.each<[string, string, 'ok' | 'failed', CrawlErrorClass | undefined, ((items: CollectedItem[]) => void) | undefined]>([
    // GBK without any declaration: the bytes are not UTF-8, so GB18030 is used and the text is right.
    ['GBK page without a charset', 'gbk-undeclared', 'ok', undefined, (items) => expect(items[0]?.title).toBe('关于做好防汛工作的通知')],
    // gb2312 declared, GB18030-only characters present: decoded as the superset.
    ['GB18030 characters on a page that says gb2312', 'gb18030-meta', 'ok', undefined, (items) => expect(items[0]?.title).toBe('关于喆䶮社区防汛工作的通知')],
    ['a charset nobody knows', 'unknown-charset', 'failed', 'decode', undefined],
    // Declared UTF-8, sent GBK: nothing is thrown; what can be read is read.
    ['UTF-8 declared, GBK sent', 'wrong-charset', 'ok', undefined, undefined],
    ['broken, unclosed HTML', 'broken-html', 'ok', undefined, (items) => expect(items[0]?.text).toContain('13812345678')],
    ['a PDF served as text/html', 'binary', 'failed', 'not-html', undefined],
    ['an image', 'image', 'failed', 'not-html', undefined],
    ['a server that drips one byte every 500 ms', 'slow', 'failed', 'timeout', undefined],
    ['a redirect loop', 'redirect-loop', 'failed', 'redirect-loop', undefined],
    ['an endless redirect chain', 'redirect-chain', 'failed', 'redirect-loop', undefined],
    ['a 50 MB page', 'huge', 'failed', 'too-large', undefined],
    ['a path robots.txt disallows', 'private', 'failed', 'robots', undefined],
    ['a server error', 'server-error', 'failed', 'server-error', undefined],
    // A detail page that redirects to another host is not the position's content: skipped, not collected.
    ['a detail page redirected off the source\'s hosts', 'off-site', 'ok', undefined, (items) => expect(items.map((i) => i.title)).toEqual(['关于做好防汛工作的通知'])],
    // An entry point that redirects off the source's hosts has lost its column: the run fails and says so.
    ['an entry point redirected off the source\'s hosts', 'off-site-entry', 'failed', 'off-site', (items) => expect(items).toEqual([])],
    // The list is fine, its detail page is an error page served with 200: the page fails, the run does not.
    ['an error page with status 200', 'error-page', 'ok', undefined, (items) => expect(items).toEqual([])],
  ])('%s → %s', async (_case, dir, outcome, errorClass, check) => {
    const started = Date.now();
    const { report, items } = await crawl(dir);
    expect(report.outcome).toBe(outcome);
    if (errorClass) {
      expect(report.error?.errorClass).toBe(errorClass);
      expect(report.error?.message.length).toBeGreaterThan(10);
    }
    check?.(items);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('counts a page that redirected off the source\'s hosts as skipped, not as a failure of the run', async () => {
    const state = new MemoryCrawlState();
    const { report } = await crawlHostileFolder(site, 'off-site', { render: 'static', timeoutSeconds: 2, maxRequests: 50, state });
    expect(report.skipped['redirected-off-host']).toBe(1);
    expect(report.failures).toEqual([]);
    // Remembered with its list entry: the next run does not fetch it again.
    const again = await crawlHostileFolder(site, 'off-site', { render: 'static', timeoutSeconds: 2, maxRequests: 50, state });
    expect(again.report.skipped['redirected-off-host']).toBeUndefined();
    expect(again.report.detailFetched).toBe(0);
  });

  it('runs the hostile cases side by side without one stopping another', async () => {
    const results = await Promise.all(['slow', 'huge', 'gbk-undeclared', 'redirect-loop', 'binary'].map((d) => crawl(d)));
    expect(results.map((r) => r.report.outcome)).toEqual(['failed', 'failed', 'ok', 'failed', 'failed']);
    expect(results[2]!.items.length).toBe(1);
  });
});

describe('qianshao crawl --once (no queue, no services)', () => {
  let site: HostileSite;
  let dir: string;
  beforeAll(async () => {
    site = await startHostileSite();
    dir = await mkdtemp(path.join(tmpdir(), 'qs-cli-'));
  });
  afterAll(async () => {
    await site?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (argv: string[]) => {
    let stderr = '';
    let stdout = '';
    const sink = (f: (s: string) => void) => new Writable({ write: (chunk, _e, cb) => (f(String(chunk)), cb()) });
    const code = await crawlCommand(['crawl', ...argv], { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
    return { code, stdout, stderr };
  };

  it('writes one JSON item per line from a YAML source file', async () => {
    const yamlFile = path.join(dir, 'one.yaml');
    await writeFile(yamlFile, `sources:\n  - id: gbk-site\n    kind: website\n    name: 测试站\n    owner: { section: 办公室, person: 张三 }\n    entryPoints: ['${site.url}/gbk-undeclared/index.html']\n    crawl: { delayMs: 0 }\n`);
    const out = path.join(dir, 'items.jsonl');
    const { code, stderr } = await run(['--source', yamlFile, '--once', '--out', out]);
    expect(code, stderr).toBe(0);
    const lines = (await import('node:fs')).readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: 'article', source: 'gbk-site', title: '关于做好防汛工作的通知', published_at: '2024-05-01T10:30:00+08:00', author: '县政府办公室', parent: null, change: 'new' });
    expect((lines[0]!.hashes as { content: string }).content).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[0]!.text).toContain('13812345678');
  });

  it('takes a bare URL for a site nobody configured', async () => {
    const { code, stdout } = await run(['--source', `${site.url}/broken-html/index.html`, '--once', '--delay-ms', '0']);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l).url)).toEqual([`${site.url}/broken-html/a1.html`]);
  });

  it.each([
    ['invalid YAML', 'sources: [ {id: x', /sources_yaml|YAML|Flow/i],
    ['a source missing its entry points', 'sources:\n  - { id: x, kind: website, name: x, owner: { section: a, person: b } }\n', /entryPoints/],
  ])('ends %s with exit code 2 and a readable line', async (_case, yamlText, message) => {
    const yamlFile = path.join(dir, 'bad.yaml');
    await writeFile(yamlFile, yamlText);
    const { code, stderr } = await run(['--source', yamlFile, '--once']);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('a site that cannot be crawled exits 1 with its cause', async () => {
    const { code, stderr } = await run(['--source', `${site.url}/redirect-loop/index.html`, '--once']);
    expect(code).toBe(1);
    expect(stderr).toContain('重定向');
  });
});
