import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWeiboCollector } from '../../../crawlers/weibo/collect.js';
import type { CollectOutcome } from '../../../crawlers/collector.js';
import type { ExtractedItem } from '../../../core/posts/collected-item.js';
import { WeiboSourceSchema, type WeiboSource } from '../../../core/sources/source.js';
import { startWeiboFake } from '../../fixtures/platforms/weibo-fake.js';
import { WEIBO_ACCOUNT, weiboPosts } from '../../fixtures/demo-site/weibo-content.js';

const NOW = Date.parse('2026-11-24T10:00:00+08:00');
let fake: Awaited<ReturnType<typeof startWeiboFake>>;

beforeEach(async () => {
  fake = await startWeiboFake({ ...WEIBO_ACCOUNT, posts: weiboPosts(NOW) });
});
afterEach(async () => {
  await fake.close();
});

function source(extra: Record<string, unknown> = {}): WeiboSource {
  return WeiboSourceSchema.parse({ id: 'qingshan-weibo', kind: 'weibo', name: '青山发布微博', owner: { section: '县委宣传部', person: '陈静' }, uid: WEIBO_ACCOUNT.uid, baseUrl: fake.url, ...extra });
}

async function collect(s: WeiboSource, env: Record<string, string> = {}): Promise<{ items: ExtractedItem[]; outcome: CollectOutcome }> {
  const items: ExtractedItem[] = [];
  const outcome = await createWeiboCollector({ pauseMs: 0 })(s, { emit: async (i) => void items.push(i), timeoutSeconds: 5, now: () => new Date(NOW), env, secretHosts: {} });
  return { items, outcome };
}

describe('Weibo collector against the fake mobile endpoints', () => {
  it('collects the timeline over pages, long texts in full, and every comment and reply with parent links', async () => {
    const { items, outcome } = await collect(source());
    expect(outcome.failures).toEqual([]);
    const posts = items.filter((i) => i.kind === 'weibo');
    const comments = items.filter((i) => i.kind === 'comment');
    expect(posts.map((p) => p.platformId)).toEqual(['weibo:5101234567890101', 'weibo:5101234567890102', 'weibo:5101234567890103', 'weibo:5101234567890104', 'weibo:5101234567890105']);
    expect(posts[1]!.text).toContain('公交3路、7路临时改道');
    expect(posts[3]!.text).toContain('//转发 @青山县公安局：【反诈提醒】');
    const expected = weiboPosts(NOW).flatMap((p) => p.comments.flatMap((c) => [c, ...(c.replies ?? [])]));
    expect(comments.map((c) => c.platformId).sort()).toEqual(expected.map((c) => `weibo:comment:${c.id}`).sort());
    const ids = new Set(items.map((i) => i.platformId));
    for (const c of comments) expect(ids.has(c.parentRef!)).toBe(true);
    expect(comments.find((c) => c.platformId === 'weibo:comment:5101234567893006')?.parentRef).toBe('weibo:comment:5101234567893003');
    // Paging: since_id on the timeline, max_id on comments, hotFlowChild for the long thread.
    expect(fake.calls.filter((c) => c.path === '/api/container/getIndex').map((c) => c.query.since_id)).toEqual([undefined, '5101234567890103', '5101234567890105']);
    expect(fake.calls.filter((c) => c.path === '/comments/hotflow' && c.query.id === '5101234567890101').map((c) => c.query.max_id)).toEqual([undefined, '3']);
    expect(fake.calls.some((c) => c.path === '/comments/hotFlowChild' && c.query.cid === '5101234567893001')).toBe(true);
  });

  it('takes a post without comments as empty, not as a failure', async () => {
    const { outcome } = await collect(source());
    expect(fake.calls.some((c) => c.path === '/comments/hotflow' && c.query.id === '5101234567890105')).toBe(true);
    expect(outcome.failures).toEqual([]);
  });

  it.each([
    ['login-redirect', 'weibo_login_required', '微博要求登录'],
    ['login-json', 'weibo_login_required', '微博要求登录'],
    ['http-418', 'weibo_risk_control', '风控'],
    ['http-432', 'weibo_risk_control', '风控'],
    ['risk-json', 'weibo_risk_control', '风控'],
  ] as const)('a %s answer on the timeline is a blocked health failure, never an empty result', async (refusal, code, words) => {
    fake.refuseNext('/api/container/getIndex', refusal);
    const { items, outcome } = await collect(source());
    expect(items).toEqual([]);
    expect(outcome.failures).toEqual([expect.objectContaining({ code, blocked: true, cause: expect.stringContaining(words) })]);
    expect(fake.calls.filter((c) => c.path !== '/api/container/getIndex')).toEqual([]);
  });

  it('keeps the posts and stops asking when risk control hits the comments', async () => {
    fake.refuseNext('/comments/hotflow', 'http-418');
    const { items, outcome } = await collect(source());
    expect(items.filter((i) => i.kind === 'weibo')).toHaveLength(5);
    expect(items.filter((i) => i.kind === 'comment')).toEqual([]);
    expect(outcome.failures).toEqual([expect.objectContaining({ code: 'weibo_risk_control', blocked: true })]);
    expect(fake.calls.filter((c) => c.path === '/comments/hotflow')).toHaveLength(1);
  });

  it('reports a timeline that answers "no data" on its first page as a failure, not an empty result', async () => {
    const { items, outcome } = await collect(source({ uid: '1234567' }));
    expect(items).toEqual([]);
    expect(outcome.failures).toEqual([expect.objectContaining({ code: 'weibo_timeline_empty', cause: expect.stringContaining('时间线返回为空') })]);
  });

  it('pages by number when the timeline gives no since_id, and stops quietly past the end', async () => {
    await fake.close();
    fake = await startWeiboFake({ ...WEIBO_ACCOUNT, posts: weiboPosts(NOW), postsPerPage: 2, cursorPaging: false });
    const { items, outcome } = await collect(source({ maxPages: 10, comments: false }));
    expect(outcome.failures).toEqual([]);
    expect(items).toHaveLength(5);
    expect(fake.calls.filter((c) => c.path === '/api/container/getIndex').map((c) => c.query.page)).toEqual([undefined, '2', '3', '4']);
  });

  it('stops at maxPages and skips comments when told to', async () => {
    const { items } = await collect(source({ maxPages: 1, comments: false }));
    expect(items.map((i) => i.kind)).toEqual(['weibo', 'weibo']);
  });

  it('sends the cookie named by cookieEnv and reports it missing when unset', async () => {
    const missing = await collect(source({ cookieEnv: 'WEIBO_COOKIE' }));
    expect(missing.outcome.failures).toEqual([expect.objectContaining({ code: 'credentials_missing', cause: '未配置微博登录 Cookie：环境变量 WEIBO_COOKIE 未设置' })]);
    const withCookie = await collect(source({ cookieEnv: 'WEIBO_COOKIE', maxPages: 1, comments: false }), { WEIBO_COOKIE: 'SUB=_2A25Lxxxx; SUBP=0033' });
    expect(withCookie.outcome.failures).toEqual([]);
    expect(JSON.stringify(withCookie.outcome)).not.toContain('SUB=');
  });
});
