import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFeed } from '../../../crawlers/rss/extract.js';
import { decodeHtml } from '../../../crawlers/shared/decode.js';
import { InvalidInputError } from '../../../core/errors.js';
import { CollectedItemSchema } from '../../../core/posts/collected-item.js';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../../fixtures/feeds', name));
const feedText = (name: string) => decodeHtml(fixture(name)).html;

describe('extractFeed on RSS 2.0', () => {
  const feed = extractFeed(feedText('qingshan-rss2.xml'), 'http://www.qingshan.gov.cn/rss/zwyw.xml');

  it('reads every item with a title or text, skipping empty ones', () => {
    expect(feed.format).toBe('rss');
    expect(feed.title).toBe('青山县人民政府 - 政务要闻');
    expect(feed.items.map((i) => i.title)).toEqual(['青山县召开2026年冬季安全生产工作会议', '关于2026年青山县公开招聘教师拟聘用人员的公示', '2026']);
  });

  it('prefers content:encoded, strips markup and scripts, keeps paragraphs', () => {
    expect(feed.items[0]).toEqual({
      kind: 'article',
      url: 'http://www.qingshan.gov.cn/xwzx/zwyw/202611/t20261124_2001.html',
      platformId: 'zwyw-2001',
      title: '青山县召开2026年冬季安全生产工作会议',
      text: '11月24日，青山县召开冬季安全生产工作会议，部署冬季安全生产和森林防火工作。\n会议要求各乡镇压实责任 ，确保全县安全形势稳定。',
      publishedAt: '2026-11-24T10:00:00+08:00',
      author: '县应急管理局',
    });
  });

  it('resolves relative links, reads local-time dates as Beijing time and decodes escaped HTML', () => {
    expect(feed.items[1]).toMatchObject({
      url: 'http://www.qingshan.gov.cn/xwzx/tzgg/202611/t20261120_2002.html',
      publishedAt: '2026-11-20T16:30:00+08:00',
      author: '县教育和体育局',
      text: '现将拟聘用人员名单予以公示，公示期为7个工作日。',
    });
  });

  it('gives an item without link or guid a stable URL inside the feed', () => {
    const again = extractFeed(feedText('qingshan-rss2.xml'), 'http://www.qingshan.gov.cn/rss/zwyw.xml');
    expect(feed.items[2]!.url).toMatch(/^http:\/\/www\.qingshan\.gov\.cn\/rss\/zwyw\.xml#item-[0-9a-f]{16}$/);
    expect(again.items[2]!.url).toBe(feed.items[2]!.url);
  });

  it('produces items the pipeline accepts', () => {
    for (const item of feed.items) expect(CollectedItemSchema.safeParse({ ...item, sourceId: 'rss', collectedAt: '2026-11-24T12:00:00+08:00' }).success).toBe(true);
  });
});

describe('extractFeed on a GBK-declared feed', () => {
  it('decodes through the XML declaration, including GB18030-only characters', () => {
    const { html, encoding } = decodeHtml(fixture('qingshan-gbk.xml'));
    expect(encoding).toBe('gb18030');
    const feed = extractFeed(html, 'http://www.qingshan.gov.cn/rss/tzgg.xml');
    expect(feed.items.map((i) => i.title)).toEqual(['关于开展冬季燃气安全隐患排查整治的通知', '青山县喆䶮镇卫生院搬迁公告']);
    expect(feed.items[0]!.text).toContain('电话：13812345678');
    expect(feed.items[0]!.publishedAt).toBe('2026-11-22T09:00:00+08:00');
  });
});

describe('extractFeed on Atom', () => {
  const feed = extractFeed(feedText('qingshan-atom.xml'), 'http://rmt.qingshan.gov.cn/atom.xml');

  it('reads entries with the alternate link, published date in Beijing time, authors and HTML content', () => {
    expect(feed.format).toBe('atom');
    expect(feed.title).toBe('青山县融媒体中心');
    expect(feed.items[0]).toEqual({
      kind: 'article',
      url: 'http://rmt.qingshan.gov.cn/news/3001.html',
      platformId: 'tag:qingshan.gov.cn,2026:3001',
      title: '青山县冬季供暖今起试运行',
      text: '县城集中供暖今起试运行。\n供暖热线：0838-1234567。',
      publishedAt: '2026-11-24T10:00:00+08:00',
      author: '青山县融媒体中心',
    });
  });

  it('falls back to the id as link, updated as date and summary as text', () => {
    expect(feed.items[1]).toMatchObject({ url: 'http://rmt.qingshan.gov.cn/news/3002.html', publishedAt: '2026-11-23T18:30:00+08:00', text: '因管网改造，城南片区11月25日停水8小时。' });
  });

  it('reads xhtml content', () => {
    expect(feed.items[2]).toMatchObject({ title: 'XHTML 标题', text: expect.stringContaining('第一段。') });
  });
});

describe('extractFeed on bad input', () => {
  it.each([
    // not well-formed: names the line
    ['malformed.xml', /not well-formed XML: line \d+/],
    // an HTML page where a feed was expected
    [null, /not an RSS or Atom feed \(its root element is <html>\)/],
  ])('%s → a readable InvalidInputError', (name, message) => {
    const text = name ? feedText(name) : '<html><body><p>页面不存在</p></body></html>';
    expect(() => extractFeed(text, 'http://x.test/feed.xml')).toThrow(InvalidInputError);
    expect(() => extractFeed(text, 'http://x.test/feed.xml')).toThrow(message);
  });

  it('does not expand entities declared in a DOCTYPE (billion laughs)', () => {
    let outcome: string;
    try {
      const feed = extractFeed(feedText('billion-laughs.xml'), 'http://x.test/feed.xml');
      outcome = feed.items.map((i) => i.title ?? '').join('');
    } catch (err) {
      outcome = (err as Error).message;
    }
    expect(outcome.length).toBeLessThan(1000);
    expect(outcome).not.toContain('lollollol');
  });

  it('refuses a feed of more than 5 million characters', () => {
    expect(() => extractFeed(`<rss>${'x'.repeat(5_000_001)}</rss>`, 'http://x.test/feed.xml')).toThrow(/refusing to parse/);
  });

  it('reads empty, binary and random input as errors, not crashes', () => {
    for (const junk of ['', '\u0000\u0001\u0002', '{"items":[]}', '<rss version="2.0"></rss>']) {
      let result: unknown;
      try {
        result = extractFeed(junk, 'http://x.test/feed.xml');
      } catch (err) {
        result = err;
      }
      expect(result instanceof InvalidInputError || (typeof result === 'object' && result !== null && 'items' in result)).toBe(true);
    }
  });
});
