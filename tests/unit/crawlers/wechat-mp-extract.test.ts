import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { articleKeyOf, extractAccessToken, extractArticlePage, extractComments, extractPublishedArticles, WechatPageUnavailable, wechatErrorOf } from '../../../crawlers/wechat-mp/extract.js';
import { InvalidInputError } from '../../../core/errors.js';
import { CollectedItemSchema } from '../../../core/posts/collected-item.js';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../../fixtures/wechat-mp', name), 'utf8');
const json = (name: string) => JSON.parse(fixture(name)) as unknown;

describe('wechatErrorOf decides what an errcode means', () => {
  it.each([
    [40001, 'refresh-token'], // invalid credential: another service refreshed the token
    [40014, 'refresh-token'], // invalid access_token
    [42001, 'refresh-token'], // access_token expired
    [45009, 'back-off'], // daily quota used up
    [45011, 'back-off'], // per-minute quota used up
    [48001, 'permission-denied'], // api unauthorized
    [50001, 'permission-denied'], // user unauthorized
    [50002, 'permission-denied'], // user limited (banned)
    [88000, 'no-comment-permission'], // comments not open
    [40164, 'misconfigured'], // server IP not in the allow-list
    [40125, 'misconfigured'], // wrong secret
    [-1, 'retry'], // system busy
    [47001, 'fail'], // anything else
  ])('errcode %i → %s', (errcode, decision) => {
    const error = wechatErrorOf({ errcode, errmsg: 'x' });
    expect(error?.decision).toBe(decision);
    expect(error?.cause).toMatch(/[\u4e00-\u9fff]/);
  });

  it('is undefined for a successful answer', () => {
    expect(wechatErrorOf({ errcode: 0, errmsg: 'ok', total: 0 })).toBeUndefined();
    expect(wechatErrorOf({ total_count: 0 })).toBeUndefined();
    expect(wechatErrorOf(null)).toBeUndefined();
  });

  it('names the missing permission in Chinese', () => {
    expect(wechatErrorOf({ errcode: 48001, errmsg: 'api unauthorized' })).toMatchObject({ code: 'wechat_permission_denied', cause: expect.stringContaining('没有该接口的权限') });
  });
});

describe('extractAccessToken', () => {
  it('reads token and lifetime', () => {
    expect(extractAccessToken(json('token.json'))).toEqual({ token: '86_Xq3...redacted-example-token', expiresInSeconds: 7200 });
  });
  it('names the field when the answer is wrong', () => {
    expect(() => extractAccessToken({ expires_in: 7200 })).toThrow(/cgi-bin\/token answer has an unexpected shape at access_token/);
  });
});

describe('extractPublishedArticles on a freepublish/batchget page', () => {
  const page = extractPublishedArticles(json('batchget-page.json'), '青山发布');

  it('turns each news item into an article, leaving deleted ones out', () => {
    expect(page.totalCount).toBe(4);
    expect(page.itemCount).toBe(3);
    expect(page.articles.map((a) => a.item.title)).toEqual(['青山县2026年冬季清洁取暖补贴开始发放', '关于城区部分路段施工期间实行交通管制的通告', '青山县第十届农民丰收节圆满落幕']);
  });

  it('reads title, author, text without markup, publish time and the comment key', () => {
    const first = page.articles[0]!;
    expect(first).toMatchObject({ articleId: 'Fq7cN0xXhJ3lKZ2mT8wYbA_vR4pS6dEe1gU9iOa5kLc', index: 0, msgDataId: '2650001203', commentsOpen: true });
    expect(first.item).toEqual({
      kind: 'article',
      url: 'https://mp.weixin.qq.com/s?__biz=MzI0NTY3ODkwMQ==&mid=2650001203&idx=1&sn=323635303030313230332d31&chksm=3236353030303132',
      platformId: 'wxmp:Fq7cN0xXhJ3lKZ2mT8wYbA_vR4pS6dEe1gU9iOa5kLc:0',
      title: '青山县2026年冬季清洁取暖补贴开始发放',
      text: '为做好今冬明春清洁取暖工作，经县政府研究，2026年冬季清洁取暖补贴自即日起开始发放。\n补贴对象为已完成“煤改电”“煤改气”改造的农村住户，每户补贴800元，由各乡镇核实后通过“一卡通”发放。\n咨询电话：0838-6212345（工作日9:00—17:00）。',
      author: '县发展和改革局',
      publishedAt: '2026-11-23T10:00:00+08:00',
    });
    expect(CollectedItemSchema.safeParse({ ...first.item, sourceId: 'mp', collectedAt: '2026-11-24T10:00:00+08:00' }).success).toBe(true);
  });

  it.each([
    // item is not an array
    [{ total_count: 1, item_count: 1, item: 'x' }, /at item: /],
    // a news item without a news_item list
    [{ total_count: 1, item_count: 1, item: [{ article_id: 'a', content: {} }] }, /at item\.0\.content\.news_item/],
    // totals missing
    [{ item: [] }, /at total_count/],
    // not even an object
    ['<html>', /at \(the answer\)/],
  ])('a malformed answer → InvalidInputError naming the field (%#)', (answer, where) => {
    expect(() => extractPublishedArticles(answer, '青山发布')).toThrow(InvalidInputError);
    expect(() => extractPublishedArticles(answer, '青山发布')).toThrow(where);
  });
});

describe('extractComments on a comment/list page', () => {
  const article = { url: 'https://mp.weixin.qq.com/s?__biz=MzI0NTY3ODkwMQ==&mid=2650001203&idx=1', platformId: 'wxmp:A:0' };
  const page = extractComments(json('comment-list.json'), article, '青山发布');

  it('turns each comment into a comment under the article, with the account reply', () => {
    expect(page.total).toBe(4);
    expect(page.comments).toHaveLength(4);
    expect(page.comments[0]).toEqual({
      kind: 'comment',
      url: `${article.url}#comment-1`,
      platformId: 'wxmp:A:0:comment:1',
      parentRef: 'wxmp:A:0',
      text: '我们村的补贴到现在还没到账，打了好几次电话都说在走流程。',
      publishedAt: '2026-11-23T12:24:00+08:00',
      reply: { text: '您好，请留言具体村组，我们已转县发改局核实，将尽快回复您。', by: '青山发布', at: '2026-11-23T14:48:00+08:00' },
    });
    expect(page.comments[3]).not.toHaveProperty('reply');
    expect(JSON.stringify(page.comments)).not.toContain('openid');
  });

  it('names the field of a malformed comment', () => {
    expect(() => extractComments({ total: 1, comment: [{ content: 'x' }] }, article, '青山发布')).toThrow(/at comment\.0\.user_comment_id/);
  });
});

describe('extractArticlePage on a public article page', () => {
  it('reads title, account, publish time from the script, body and the permanent link', () => {
    const item = extractArticlePage(fixture('article-page.html'), 'https://mp.weixin.qq.com/s/AbCdEf');
    expect(item).toMatchObject({
      kind: 'article',
      url: expect.stringMatching(/^https:\/\/mp\.weixin\.qq\.com\/s\?__biz=MzI0NTY3ODkwMQ==&mid=2650001187&idx=1&sn=/),
      platformId: 'wxmp-page:MzI0NTY3ODkwMQ==:2650001187:0',
      title: '关于城区部分路段施工期间实行交通管制的通告',
      author: '县公安局交通管理大队',
      publishedAt: '2026-11-21T12:00:00+08:00',
    });
    expect(item.text.split('\n')).toEqual([
      '因滨河路雨污分流改造工程施工需要，自2026年11月20日至12月31日，滨河路（文化路至人民路段）实行全封闭施工，过往车辆请绕行文化路、人民路。',
      '施工期间给广大市民出行带来不便，敬请谅解。',
    ]);
  });

  it('reports a deleted article as such', () => {
    expect(() => extractArticlePage(fixture('deleted-page.html'), 'https://mp.weixin.qq.com/s/gone')).toThrow(WechatPageUnavailable);
  });

  it('reports the verification page as risk control', () => {
    try {
      extractArticlePage('<html><body><div class="weui-msg"><p>环境异常</p><p>当前环境异常，完成验证后即可继续访问。</p></div></body></html>', 'https://mp.weixin.qq.com/s/x');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WechatPageUnavailable);
      expect((err as WechatPageUnavailable).reason).toBe('verification');
    }
  });

  it('refuses a page that is not an article', () => {
    expect(() => extractArticlePage('<html><body><p>欢迎访问</p></body></html>', 'https://mp.weixin.qq.com/s/x')).toThrow(/not a WeChat article page/);
  });
});

describe('articleKeyOf', () => {
  it.each([
    ['https://mp.weixin.qq.com/s?__biz=MzI0&mid=2650001203&idx=2&sn=ab#rd', { msgDataId: '2650001203', index: 1 }],
    ['http://mp.weixin.qq.com/s?__biz=MzI0&amp;mid=2650001203&amp;idx=1&amp;sn=ab', { msgDataId: '2650001203', index: 0 }],
    ['https://mp.weixin.qq.com/s/AbCdEf', undefined], // short link: no key
    ['not a url', undefined],
  ])('%s', (url, key) => {
    expect(articleKeyOf(url)).toEqual(key);
  });
});
