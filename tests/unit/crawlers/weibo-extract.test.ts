import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractComments, extractLongText, extractReplies, extractTimeline, judgeWeiboAnswer, parseWeiboDate } from '../../../crawlers/weibo/extract.js';
import { InvalidInputError } from '../../../core/errors.js';
import { CollectedItemSchema } from '../../../core/posts/collected-item.js';

const json = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, '../../fixtures/weibo', name), 'utf8')) as unknown;
const BASE = 'https://m.weibo.cn';
const NOW = new Date('2026-11-24T02:00:00Z');

describe('judgeWeiboAnswer tells refusals from empty results', () => {
  it.each([
    // the normal answer
    [200, undefined, { ok: 1, data: {} }, 'ok'],
    // no comments yet: truthfully empty
    [200, undefined, { ok: 0, msg: '快来发表你的评论吧' }, 'empty'],
    // login wall as JSON
    [200, undefined, { ok: -100, url: 'https://passport.weibo.cn/signin/welcome?entry=mweibo' }, 'login-required'],
    // login wall as a redirect
    [302, 'https://passport.weibo.cn/signin/welcome?entry=mweibo&r=x', undefined, 'login-required'],
    // risk control as JSON
    [200, undefined, { ok: 0, msg: '请求过于频繁，请完成验证后再试' }, 'risk-control'],
    // risk control as HTTP status
    [418, undefined, undefined, 'risk-control'],
    [432, undefined, undefined, 'risk-control'],
    // anything else is an error, never an empty result
    // past the last timeline page
    [200, undefined, { ok: 0, msg: '这里还没有内容', data: { cards: [] } }, 'empty'],
    [200, undefined, { ok: 0, msg: '参数错误' }, 'error'],
    [200, undefined, 'not json', 'error'],
    [500, undefined, undefined, 'error'],
  ])('HTTP %i %s %j → %s', (status, location, body, kind) => {
    expect(judgeWeiboAnswer(status, location, body).kind).toBe(kind);
  });

  it('gives a Chinese cause for a login wall', () => {
    expect(judgeWeiboAnswer(200, undefined, { ok: -100 })).toMatchObject({ code: 'weibo_login_required', cause: expect.stringContaining('微博要求登录') });
  });
});

describe('parseWeiboDate', () => {
  it.each([
    ['Tue Nov 24 10:00:00 +0800 2026', '2026-11-24T10:00:00+08:00'],
    ['Tue Nov 24 02:00:00 +0000 2026', '2026-11-24T10:00:00+08:00'],
    ['Mon Feb 30 10:00:00 +0800 2026', undefined], // no such day
    ['5分钟前', '2026-11-24T09:55:00+08:00'],
    ['昨天 08:30', '2026-11-23T08:30:00+08:00'],
    [42, undefined],
  ])('%s → %s', (value, iso) => {
    expect(parseWeiboDate(value, NOW)).toBe(iso);
  });
});

describe('extractTimeline on a container/getIndex page', () => {
  const page = extractTimeline(json('timeline-page1.json'), BASE, NOW);

  it('reads the posts, skipping cards without one, with the cursor of the next page', () => {
    expect(page.posts.map((p) => p.id)).toEqual(['5101234567890101', '5101234567890102', '5101234567890103']);
    expect(page.nextSinceId).toBe('5101234567890104');
  });

  it('turns a post into a weibo item: text without markup but with emoticons and topics, author, time', () => {
    expect(page.posts[0]!.item).toEqual({
      kind: 'weibo',
      url: 'https://m.weibo.cn/detail/5101234567890101',
      platformId: 'weibo:5101234567890101',
      text: '#青山发布# 【县城集中供暖今起试运行】11月24日起，县城集中供暖管网开始试运行，12月1日正式供暖。家中暖气不热的，请拨打供热服务热线0838-6218888。',
      author: '青山发布',
      publishedAt: '2026-11-24T08:00:00+08:00',
    });
    expect(CollectedItemSchema.safeParse({ ...page.posts[0]!.item, sourceId: 'wb', collectedAt: NOW.toISOString() }).success).toBe(true);
  });

  it('marks a cut post as long text', () => {
    expect(page.posts[1]!.isLongText).toBe(true);
    expect(page.posts[1]!.item.text).toMatch(/全文$/);
  });

  it.each([
    [{ ok: 1, data: { cards: 'x' } }, /at data\.cards/],
    [{ ok: 1 }, /at data/],
    [{ ok: 1, data: { cards: [{ card_type: 9, mblog: { text: '没有 id' } }] } }, /cards\.0\.mblog answer has an unexpected shape at id/],
  ])('a malformed answer → InvalidInputError naming the field (%#)', (answer, where) => {
    expect(() => extractTimeline(answer, BASE)).toThrow(InvalidInputError);
    expect(() => extractTimeline(answer, BASE)).toThrow(where);
  });
});

describe('extractLongText', () => {
  it('reads the whole text with line breaks', () => {
    expect(extractLongText(json('extend.json'))).toContain('\n施工期间，公交3路、7路临时改道');
  });
});

describe('extractComments on a comments/hotflow page', () => {
  const post = { url: 'https://m.weibo.cn/detail/5101234567890103', platformId: 'weibo:5101234567890103' };
  const page = extractComments(json('hotflow-page1.json'), post, NOW);

  it('reads top-level comments under the post and inline replies under their comment', () => {
    const root = page.comments[0]!;
    expect(root).toEqual({
      kind: 'comment',
      url: 'https://m.weibo.cn/detail/5101234567890103#comment-5101234567893001',
      platformId: 'weibo:comment:5101234567893001',
      parentRef: 'weibo:5101234567890103',
      text: '我家孩子也上吐下泻，到底是不是食物中毒？学校说法前后不一[泪]',
      author: '实验小学家长',
      publishedAt: '2026-11-22T09:00:00+08:00',
    });
    expect(page.comments[1]).toMatchObject({ parentRef: 'weibo:comment:5101234567893001', author: '青山发布' });
    expect(page.comments.filter((c) => c.parentRef === post.platformId)).toHaveLength(3);
  });

  it('says which threads have more replies than shown and where the next page starts', () => {
    expect(page.moreReplies).toEqual([{ commentId: '5101234567893001', platformId: 'weibo:comment:5101234567893001', shown: 2, total: 5 }]);
    expect(page.nextMaxId).toBe('3');
  });

  it('links a reply to the reply it answers', () => {
    const replies = extractReplies(json('hotflow-child.json'), post, { platformId: 'weibo:comment:5101234567893001' }, NOW).replies;
    expect(replies.map((r) => [r.platformId, r.parentRef])).toEqual([
      ['weibo:comment:5101234567893002', 'weibo:comment:5101234567893001'],
      ['weibo:comment:5101234567893003', 'weibo:comment:5101234567893002'],
      ['weibo:comment:5101234567893004', 'weibo:comment:5101234567893001'],
      ['weibo:comment:5101234567893005', 'weibo:comment:5101234567893001'],
      ['weibo:comment:5101234567893006', 'weibo:comment:5101234567893003'],
    ]);
    expect(replies[1]!.text).toBe('回复@青山发布:那食堂到底有没有问题？为什么不公布检测报告？');
  });

  it('names the field of a malformed comment', () => {
    expect(() => extractComments({ ok: 1, data: { data: [{ text: 'x' }] } }, post)).toThrow(/comments\/hotflow answer has an unexpected shape at data\.data\.0\.id/);
  });
});
