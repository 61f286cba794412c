import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessTokens, MemoryAccessTokenStore } from '../../../crawlers/wechat-mp/access-token.js';
import { createWechatMpCollector } from '../../../crawlers/wechat-mp/collect.js';
import type { CollectOutcome } from '../../../crawlers/collector.js';
import type { ExtractedItem } from '../../../core/posts/collected-item.js';
import { WechatMpSourceSchema, type WechatMpSource } from '../../../core/sources/source.js';
import { startWechatMpFake, type FakeWechatMessage } from '../../fixtures/platforms/wechat-mp-fake.js';
import { WECHAT_ACCOUNT, wechatMessages } from '../../fixtures/demo-site/wechat-content.js';

const NOW = Date.parse('2026-11-24T10:00:00+08:00');
const env = { WX_APPID: WECHAT_ACCOUNT.appid, WX_SECRET: WECHAT_ACCOUNT.secret };

let fake: Awaited<ReturnType<typeof startWechatMpFake>>;
let tokens: AccessTokens;

async function startFake(messages: FakeWechatMessage[] = wechatMessages(NOW)) {
  fake = await startWechatMpFake({ ...WECHAT_ACCOUNT, accountName: WECHAT_ACCOUNT.name, messages, now: () => Date.now() });
}
beforeEach(async () => {
  tokens = new AccessTokens({ store: new MemoryAccessTokenStore() });
  await startFake();
});
afterEach(async () => {
  await fake.close();
});

function source(extra: Partial<{ api: Record<string, unknown>; articleUrls: string[] }> = {}): WechatMpSource {
  return WechatMpSourceSchema.parse({
    id: 'qingshan-mp',
    kind: 'wechat-mp',
    name: '青山发布',
    owner: { section: '县委宣传部', person: '陈静' },
    api: { baseUrl: fake.url, appidEnv: 'WX_APPID', secretEnv: 'WX_SECRET', ...extra.api },
    articleUrls: extra.articleUrls ?? [],
    allowedHosts: [new URL(fake.url).host],
  });
}

async function collect(s: WechatMpSource, withEnv: Record<string, string> = env): Promise<{ items: ExtractedItem[]; outcome: CollectOutcome }> {
  const items: ExtractedItem[] = [];
  const collector = createWechatMpCollector({ tokens, retryPausesMs: [10, 10] });
  const outcome = await collector(s, { emit: async (i) => void items.push(i), timeoutSeconds: 5, now: () => new Date(NOW), env: withEnv, secretHosts: {} });
  return { items, outcome };
}

const paths = () => fake.calls.map((c) => c.path);

describe('WeChat official account collector against the fake API', () => {
  it('collects every published article and the comments of those with comments open, with parent links', async () => {
    const { items, outcome } = await collect(source());
    expect(outcome.failures).toEqual([]);
    const articles = items.filter((i) => i.kind === 'article');
    const comments = items.filter((i) => i.kind === 'comment');
    expect(articles.map((a) => a.title)).toEqual([
      '青山县2026年冬季清洁取暖补贴开始发放',
      '冬季用气安全，这些事项请牢记',
      '关于城区部分路段施工期间实行交通管制的通告',
      '青山县第十届农民丰收节圆满落幕',
      '县委理论学习中心组召开专题学习会',
    ]);
    expect(comments).toHaveLength(10);
    for (const c of comments) expect(articles.some((a) => a.platformId === c.parentRef)).toBe(true);
    expect(comments.find((c) => c.text.includes('13907381234'))?.parentRef).toBe(articles[0]!.platformId);
    // The fourth message has comments closed: it is never asked for.
    expect(fake.calls.filter((c) => c.path === 'cgi-bin/comment/list').map((c) => c.body?.msg_data_id)).not.toContain(2650001122);
    expect(fake.calls.find((c) => c.path === 'cgi-bin/comment/list')?.body).toEqual({ msg_data_id: 2650001203, index: 0, begin: 0, count: 50, type: 0 });
  });

  it('fetches one token and reuses it across runs until it nears expiry', async () => {
    await collect(source());
    await collect(source());
    expect(fake.tokensIssued()).toBe(1);
    expect(paths().filter((p) => p === 'cgi-bin/token')).toHaveLength(1);
  });

  it('refreshes once and retries when the token expired (42001)', async () => {
    await collect(source());
    fake.expireTokens();
    const { items, outcome } = await collect(source());
    expect(outcome.failures).toEqual([]);
    expect(items.filter((i) => i.kind === 'article')).toHaveLength(5);
    expect(fake.tokensIssued()).toBe(2);
  });

  it('refreshes only once when the new token is rejected too (40001 twice), then reports it', async () => {
    fake.failNext('cgi-bin/freepublish/batchget', 40001, 2);
    const { outcome } = await collect(source());
    expect(fake.tokensIssued()).toBe(2);
    expect(outcome.failures).toEqual([expect.objectContaining({ code: 'wechat_token_invalid' })]);
  });

  it('stops at a rate limit (45011) as blocked, without asking for comments', async () => {
    fake.failNext('cgi-bin/freepublish/batchget', 45011);
    const { items, outcome } = await collect(source());
    expect(items).toEqual([]);
    expect(outcome.failures).toEqual([expect.objectContaining({ code: 'wechat_rate_limited', blocked: true, cause: expect.stringContaining('过于频繁') })]);
    expect(paths()).not.toContain('cgi-bin/comment/list');
  });

  it('keeps the articles and reports a health failure with a Chinese cause when comments are not permitted (48001)', async () => {
    fake.failNext('cgi-bin/comment/list', 48001);
    const { items, outcome } = await collect(source());
    expect(items.filter((i) => i.kind === 'article')).toHaveLength(5);
    expect(items.filter((i) => i.kind === 'comment')).toEqual([]);
    expect(outcome.failures).toEqual([expect.objectContaining({ code: 'wechat_permission_denied', blocked: true, cause: expect.stringContaining('没有该接口的权限') })]);
    // One refusal is enough: the other articles are not asked.
    expect(paths().filter((p) => p === 'cgi-bin/comment/list')).toHaveLength(1);
  });

  it.each([50001, 50002])('reports %i on the published list as a blocked health failure', async (errcode) => {
    fake.failNext('cgi-bin/freepublish/batchget', errcode);
    const { items, outcome } = await collect(source());
    expect(items).toEqual([]);
    expect(outcome.failures[0]).toMatchObject({ blocked: true, cause: expect.stringMatching(/公众号|授权/) });
  });

  it('retries a busy answer (-1) and then succeeds', async () => {
    fake.failNext('cgi-bin/freepublish/batchget', -1);
    fake.failNext('cgi-bin/token', -1);
    const { items, outcome } = await collect(source());
    expect(outcome.failures).toEqual([]);
    expect(items.filter((i) => i.kind === 'article')).toHaveLength(5);
  });

  it('reports a wrong secret (40125) and missing credentials without ever printing the secret', async () => {
    const wrong = await collect(source(), { WX_APPID: WECHAT_ACCOUNT.appid, WX_SECRET: 'not-the-secret-9f8e7d' });
    expect(wrong.outcome.failures).toEqual([expect.objectContaining({ code: 'wechat_credentials_invalid', cause: expect.stringContaining('AppSecret') })]);
    expect(JSON.stringify(wrong.outcome)).not.toContain('not-the-secret-9f8e7d');
    const missing = await collect(source(), {});
    expect(missing.outcome.failures).toEqual([expect.objectContaining({ code: 'credentials_missing', cause: '未配置公众号凭据：环境变量 WX_APPID、WX_SECRET 未设置', blocked: true })]);
  });

  it('pages through freepublish/batchget with offset and count, up to maxArticles', async () => {
    await fake.close();
    const many = Array.from({ length: 45 }, (_, i): FakeWechatMessage => ({
      articleId: `art-${i}`,
      mid: 2650002000 + i,
      createTime: Math.floor(NOW / 1000) - i * 3600,
      news: [{ title: `第${i + 1}条`, author: '青山发布', digest: '', paragraphs: [`正文${i + 1}`], comments: [] }],
    }));
    await startFake(many);
    const { items } = await collect(source({ api: { maxArticles: 30, comments: false } }));
    expect(items.map((i) => i.title)).toEqual(Array.from({ length: 30 }, (_, i) => `第${i + 1}条`));
    expect(fake.calls.filter((c) => c.path === 'cgi-bin/freepublish/batchget').map((c) => c.body?.offset)).toEqual([0, 20]);
  });

  it('pages through comment/list with begin and count', async () => {
    await fake.close();
    const comments = Array.from({ length: 120 }, (_, i) => ({ id: i + 1, text: `留言${i + 1}`, createTime: Math.floor(NOW / 1000) - i }));
    await startFake([{ articleId: 'a', mid: 2650003000, createTime: Math.floor(NOW / 1000), news: [{ title: '热帖', author: 'x', digest: '', paragraphs: ['正文'], comments }] }]);
    const { items } = await collect(source({ api: { maxCommentsPerArticle: 110 } }));
    expect(items.filter((i) => i.kind === 'comment')).toHaveLength(110);
    expect(fake.calls.filter((c) => c.path === 'cgi-bin/comment/list').map((c) => [c.body?.begin, c.body?.count])).toEqual([
      [0, 50],
      [50, 50],
      [100, 10],
    ]);
  });

  it('reads public article pages as a fallback and reports a deleted one', async () => {
    const messages = fake.messages;
    const s = WechatMpSourceSchema.parse({
      id: 'qingshan-mp-pages',
      kind: 'wechat-mp',
      name: '青山发布',
      owner: { section: '县委宣传部', person: '陈静' },
      articleUrls: [fake.permalink(fake.url, messages[2]!, 0), `${fake.url}/s?__biz=${WECHAT_ACCOUNT.biz}&mid=1&idx=1&sn=gone`],
    });
    const { items, outcome } = await collect({ ...s, allowedHosts: [new URL(fake.url).host] });
    expect(items).toEqual([expect.objectContaining({ kind: 'article', title: '青山县第十届农民丰收节圆满落幕', author: '县融媒体中心' })]);
    expect(outcome.failures).toEqual([expect.objectContaining({ code: 'wechat_article_deleted', cause: '公众号文章已被删除或因违规无法查看' })]);
  });
});
