import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessTokens, MemoryAccessTokenStore } from '../../../crawlers/wechat-mp/access-token.js';
import { createWechatMpCollector } from '../../../crawlers/wechat-mp/collect.js';
import { createWeiboCollector } from '../../../crawlers/weibo/collect.js';
import { extractFeed } from '../../../crawlers/rss/extract.js';
import { decodeHtml } from '../../../crawlers/shared/decode.js';
import { loadSources, type WechatMpSource, type WeiboSource } from '../../../core/sources/source.js';
import type { ExtractedItem } from '../../../core/posts/collected-item.js';
import { configDir } from '../../../core/paths.js';
import { DEMO_CREDENTIALS, startDemoSite, type DemoSite } from '../../fixtures/demo-site/server.js';
import path from 'node:path';

let site: DemoSite;
beforeAll(async () => {
  site = await startDemoSite({ port: 0 });
});
afterAll(async () => {
  await site.close();
});

const demoSources = () => loadSources(path.join(configDir, 'demo', 'sources.yaml'), { DEMO_SITE_URL: site.url });
const ctx = (items: ExtractedItem[]) => ({ emit: async (i: ExtractedItem) => void items.push(i), timeoutSeconds: 5, now: () => new Date(), env: DEMO_CREDENTIALS, secretHosts: {} });

describe('the demo county’s WeChat, Weibo and RSS positions', () => {
  it('config/demo/sources.yaml declares them, and a push source, next to the website and message board', () => {
    expect(demoSources().map((s) => s.kind)).toEqual(['website', 'message-board', 'wechat-mp', 'weibo', 'rss', 'push']);
  });

  it('the WeChat account is collectable with the demo credentials, comments and planted problems included', async () => {
    const source = demoSources().find((s) => s.kind === 'wechat-mp') as WechatMpSource;
    const items: ExtractedItem[] = [];
    const outcome = await createWechatMpCollector({ tokens: new AccessTokens({ store: new MemoryAccessTokenStore() }) })(source, ctx(items));
    expect(outcome.failures).toEqual([]);
    expect(items.filter((i) => i.kind === 'article').length).toBeGreaterThanOrEqual(4);
    const texts = items.map((i) => i.text).join('\n');
    for (const planted of ['拆迁补偿', '暴力执法', '噪音扰民', '13907381234', '中华人民共合国']) expect(texts).toContain(planted);
    // Article links lead to the demo's own article pages.
    const article = items.find((i) => i.kind === 'article')!;
    const page = await fetch(article.url);
    expect(await page.text()).toContain('id="js_content"');
  });

  it('the Weibo account is collectable with nested threads', async () => {
    const source = demoSources().find((s) => s.kind === 'weibo') as WeiboSource;
    const items: ExtractedItem[] = [];
    const outcome = await createWeiboCollector({ pauseMs: 0 })(source, ctx(items));
    expect(outcome.failures).toEqual([]);
    expect(items.filter((i) => i.kind === 'weibo')).toHaveLength(5);
    expect(items.filter((i) => i.kind === 'comment' && i.parentRef?.startsWith('weibo:comment:')).length).toBeGreaterThanOrEqual(8);
    for (const planted of ['食物中毒', '集体上访', '暴力执法', '110101199003078515']) expect(items.map((i) => i.text).join('\n')).toContain(planted);
  });

  it('the information-disclosure feed is GBK and readable', async () => {
    const res = await fetch(`${site.url}/rss/xxgk.xml`);
    const { html, encoding } = decodeHtml(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type') ?? undefined);
    expect(encoding).toBe('gb18030');
    const feed = extractFeed(html, res.url);
    expect(feed.items.map((i) => i.title)).toContain('青山县2026年度城乡居民最低生活保障对象公示（第十一批）');
    expect(feed.items[0]!.text).toContain('510722198507152314');
  });

  it('while live, new comments appear under the newest WeChat article and Weibo post', async () => {
    const live = await startDemoSite({ port: 0, live: { intervalMs: 20 } });
    try {
      const before = live.weibo.posts.reduce((n, p) => n + p.comments.length, 0) + live.wechat.messages.reduce((n, m) => n + m.news[0]!.comments.length, 0);
      await new Promise((r) => setTimeout(r, 200));
      const after = live.weibo.posts.reduce((n, p) => n + p.comments.length, 0) + live.wechat.messages.reduce((n, m) => n + m.news[0]!.comments.length, 0);
      expect(after).toBeGreaterThanOrEqual(before + 2);
    } finally {
      await live.close();
    }
  });
});
