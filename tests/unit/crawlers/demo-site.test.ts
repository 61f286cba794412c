import { afterEach, describe, expect, it, vi } from 'vitest';
import { extractMessage, extractMessageList } from '../../../crawlers/message-board/extract.js';
import { decodeHtml } from '../../../crawlers/shared/decode.js';
import { extractArticle, extractListPage } from '../../../crawlers/website/extract.js';
import { ARTICLES } from '../../fixtures/demo-site/content.js';
import { startDemoSite, type DemoSite } from '../../fixtures/demo-site/server.js';

const NOW = new Date('2024-11-20T02:00:00Z');
const started: DemoSite[] = [];

async function start(options: Parameters<typeof startDemoSite>[0] = {}): Promise<DemoSite> {
  const site = await startDemoSite({ port: 0, now: () => NOW, ...options });
  started.push(site);
  return site;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function fetchPage(site: DemoSite, pathOrUrl: string): Promise<{ url: string; status: number; html: string; body: Buffer; contentType: string }> {
  const res = await fetch(new URL(pathOrUrl, site.url));
  const body = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type') ?? '';
  return { url: res.url, status: res.status, body, contentType, html: decodeHtml(body, contentType).html };
}

/** Everything citizens and the unit wrote on the site, crawled the way the collectors do. */
async function crawlAll(site: DemoSite): Promise<{ articles: string[]; comments: string[]; messages: string[] }> {
  const out = { articles: [] as string[], comments: [] as string[], messages: [] as string[] };
  for (const column of ['gzdt', 'tzgg']) {
    const first = await fetchPage(site, `/xwzx/${column}/index.html`);
    const pages = [first.url, ...extractListPage(first.html, first.url).nextPages];
    for (const listUrl of pages) {
      const list = await fetchPage(site, listUrl);
      for (const link of extractListPage(list.html, list.url).links) {
        const page = await fetchPage(site, link.url);
        const article = extractArticle(page.html, page.url);
        out.articles.push(article.text);
        out.comments.push(...article.comments.map((c) => c.text));
      }
    }
  }
  const board = await fetchPage(site, '/hdjl/lyb/index.html');
  for (const listUrl of [board.url, ...extractMessageList(board.html, board.url).nextPages]) {
    const list = await fetchPage(site, listUrl);
    for (const entry of extractMessageList(list.html, list.url).messages) {
      const page = await fetchPage(site, entry.url);
      out.messages.push(extractMessage(page.html, page.url).text);
    }
  }
  return out;
}

describe('the demo site', () => {
  it('plants every demo problem where the collectors find it', async () => {
    const site = await start();
    const { articles, comments, messages } = await crawlAll(site);
    expect(articles).toHaveLength(16);
    const said = [...comments, ...messages].join('\n');
    for (const term of ['暴力执法', '集体上访', '食物中毒', '拆迁补偿', '路面塌陷', '噪音扰民']) expect(said).toContain(term);
    expect(articles.join('\n')).toContain('中华人民共合国');
    expect(articles.join('\n')).toMatch(/511922198503124529.*13812341234/);
    expect(messages).toHaveLength(7);
  });

  it('serves the 通知公告 column as real GBK bytes, declared in the header and in <meta>', async () => {
    const site = await start();
    const page = await fetchPage(site, '/xwzx/tzgg/index.html');
    expect(page.contentType).toBe('text/html; charset=GBK');
    expect(page.body.toString('latin1')).toMatch(/<meta http-equiv="Content-Type" content="text\/html; charset=gb2312">/);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(page.body)).toThrow();
    expect(page.html).toContain('通知公告');
  });

  it('takes a message posted through the form and redirects to its page', async () => {
    const site = await start();
    const res = await fetch(`${site.url}/hdjl/lyb/submit`, {
      method: 'POST',
      body: new URLSearchParams({ title: '<script>alert(1)</script>食堂问题', content: '实验小学又有学生食物中毒 & 家长要集体上访', author: '家长' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(/^\/hdjl\/lyb\/detail_LY\d+\.html$/);
    const page = await fetchPage(site, location);
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;食堂问题');
    expect(extractMessage(page.html, page.url)).toMatchObject({ title: '<script>alert(1)</script>食堂问题', text: '实验小学又有学生食物中毒 & 家长要集体上访', author: '家长', publishedAt: '2024-11-20T10:00:00+08:00' });
    const list = await fetchPage(site, '/hdjl/lyb/index.html');
    expect(extractMessageList(list.html, list.url).messages[0]).toMatchObject({ title: '<script>alert(1)</script>食堂问题', answered: false });
  });

  it('rejects a form post without title or content', async () => {
    const site = await start();
    const res = await fetch(`${site.url}/hdjl/lyb/submit`, { method: 'POST', body: new URLSearchParams({ title: '', content: '' }), redirect: 'manual' });
    expect(res.status).toBe(400);
  });

  it('shows comments added through the API, replies under their parent', async () => {
    const site = await start();
    const path = '/xwzx/gzdt/202411/t20241106_1234510.html';
    const top = site.addComment(path, { text: '食堂到底怎么回事？', author: '家长甲' });
    const reply = site.addComment(path, { text: '同问', replyTo: top, at: new Date('2024-11-20T03:00:00Z') });
    const page = await fetchPage(site, path);
    const comments = extractArticle(page.html, page.url).comments;
    expect(comments.find((c) => c.id === top)).toMatchObject({ author: '家长甲', publishedAt: '2024-11-20T10:00:00+08:00' });
    expect(comments.find((c) => c.id === reply)).toMatchObject({ text: '同问', parentId: top, publishedAt: '2024-11-20T11:00:00+08:00' });
    expect(() => site.addComment(path, { text: 'x', replyTo: 'c0' })).toThrow(/no comment c0/);
    expect(() => site.addComment('/nope.html', { text: 'x' })).toThrow(/no article/);
  });

  it('in live mode, keeps adding scripted comments and messages', async () => {
    const site = await start({ live: { intervalMs: 20 } });
    await vi.waitFor(
      async () => {
        const { comments, messages } = await crawlAll(site);
        expect(messages.length).toBeGreaterThan(7);
        expect(comments.length).toBeGreaterThan(9);
      },
      { timeout: 5_000, interval: 100 },
    );
  });

  it('serves robots.txt allowing everything and a sitemap listing every article', async () => {
    const site = await start();
    const robots = await fetchPage(site, '/robots.txt');
    expect(robots.html).toMatch(/User-agent: \*\s+Allow: \//);
    const sitemap = await fetchPage(site, '/sitemap.xml');
    const locs = [...sitemap.html.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
    expect(locs).toHaveLength(ARTICLES.length);
    for (const loc of locs) expect(loc).toMatch(new RegExp(`^${site.url}/xwzx/(gzdt|tzgg|rsxx)/\\d{6}/t\\d{8}_\\d+\\.html$`));
  });

  it('serves the home page at / and /index.html with links into the columns', async () => {
    const site = await start();
    for (const path of ['/', '/index.html']) {
      const page = await fetchPage(site, path);
      expect(page.status).toBe(200);
      expect(page.html).toContain('青山县人民政府');
      expect(extractListPage(page.html, page.url).links.length).toBeGreaterThan(0);
    }
  });
});
