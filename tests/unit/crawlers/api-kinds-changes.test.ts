import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crawlPosition } from '../../../crawlers/crawl-position.js';
import { createApiCollectors } from '../../../crawlers/api-collectors.js';
import { MemoryCrawlState } from '../../../crawlers/shared/crawl-state.js';
import type { CollectedItem } from '../../../core/posts/collected-item.js';
import { SourceSchema, type Source } from '../../../core/sources/source.js';
import { startWechatMpFake } from '../../fixtures/platforms/wechat-mp-fake.js';
import { startWeiboFake } from '../../fixtures/platforms/weibo-fake.js';
import { WECHAT_ACCOUNT, wechatMessages } from '../../fixtures/demo-site/wechat-content.js';
import { WEIBO_ACCOUNT, weiboPosts } from '../../fixtures/demo-site/weibo-content.js';

const NOW = Date.parse('2026-11-24T10:00:00+08:00');
const owner = { section: '县委宣传部', person: '陈静' };
const env = { WX_APPID: WECHAT_ACCOUNT.appid, WX_SECRET: WECHAT_ACCOUNT.secret };

let wechat: Awaited<ReturnType<typeof startWechatMpFake>>;
let weibo: Awaited<ReturnType<typeof startWeiboFake>>;
beforeEach(async () => {
  wechat = await startWechatMpFake({ ...WECHAT_ACCOUNT, accountName: WECHAT_ACCOUNT.name, messages: wechatMessages(NOW) });
  weibo = await startWeiboFake({ ...WEIBO_ACCOUNT, posts: weiboPosts(NOW) });
});
afterEach(async () => {
  await Promise.all([wechat.close(), weibo.close()]);
});

function runner(source: Source) {
  const state = new MemoryCrawlState();
  const collectors = createApiCollectors({ prefix: 'unit', weiboPauseMs: 0 });
  return async () => {
    const items: CollectedItem[] = [];
    const report = await crawlPosition(source, { state, collectors, env, maxRequests: 100, timeoutSeconds: 5, now: () => new Date(NOW), onItem: async (i) => void items.push(i) });
    return { items, report };
  };
}

describe('changes on the API kinds: new, unchanged, edited, deleted', () => {
  it('WeChat: a second run emits nothing; an edited comment reply, a deleted comment and a deleted article are signalled once', async () => {
    const crawl = runner(SourceSchema.parse({ id: 'mp', kind: 'wechat-mp', name: '青山发布', owner, api: { baseUrl: wechat.url, appidEnv: 'WX_APPID', secretEnv: 'WX_SECRET' } }));
    const first = await crawl();
    expect(first.items.every((i) => i.change === 'new')).toBe(true);
    expect((await crawl()).items).toEqual([]);

    const heating = wechat.messages[0]!.news[0]!;
    heating.comments[1]!.reply = { text: '补贴标准为每户800元，已在县政府网站公开。', createTime: Math.floor(NOW / 1000) };
    heating.comments.splice(3, 1); // the comment with the mobile number is taken down
    wechat.messages[2]!.news[0]!.deleted = true; // 丰收节 article deleted
    const third = await crawl();
    const changes = third.items.map((i) => [i.change, i.kind, i.title ?? i.platformId]);
    expect(changes).toEqual(
      expect.arrayContaining([
        ['edited', 'comment', expect.stringMatching(/:comment:2$/)],
        ['deleted', 'comment', expect.stringMatching(/:comment:4$/)],
        ['deleted', 'article', '青山县第十届农民丰收节圆满落幕'],
      ]),
    );
    expect(third.items).toHaveLength(3);
    expect(third.report.itemsDeleted).toBe(2);
    expect((await crawl()).items).toEqual([]);
  });

  it('Weibo: a removed reply deep in a thread is signalled as deleted', async () => {
    const crawl = runner(SourceSchema.parse({ id: 'wb', kind: 'weibo', name: '青山发布', owner, uid: WEIBO_ACCOUNT.uid, baseUrl: weibo.url }));
    await crawl();
    const thread = weibo.posts[2]!.comments[0]!;
    thread.replies = thread.replies!.filter((r) => r.id !== '5101234567893004');
    const second = await crawl();
    expect(second.items.map((i) => [i.change, i.platformId])).toEqual([['deleted', 'weibo:comment:5101234567893004']]);
  });

  it('a deletion whose hand-over failed is signalled again by the next run (the listing is remembered after it)', async () => {
    const source = SourceSchema.parse({ id: 'wb3', kind: 'weibo', name: '青山发布', owner, uid: WEIBO_ACCOUNT.uid, baseUrl: weibo.url });
    const state = new MemoryCrawlState();
    const collectors = createApiCollectors({ prefix: 'unit', weiboPauseMs: 0 });
    const crawl = (onItem: (i: CollectedItem) => Promise<void>) => crawlPosition(source, { state, collectors, env, maxRequests: 100, timeoutSeconds: 5, now: () => new Date(NOW), onItem });
    await crawl(async () => undefined);
    const thread = weibo.posts[2]!.comments[0]!;
    thread.replies = thread.replies!.filter((r) => r.id !== '5101234567893004');
    // The queue is down when the deletion is handed over: the run fails, nothing is remembered of it.
    await expect(
      crawl(async (i) => {
        if (i.change === 'deleted') throw new Error('queue unavailable');
      }),
    ).rejects.toThrow('queue unavailable');
    const items: CollectedItem[] = [];
    await crawl(async (i) => void items.push(i));
    expect(items.map((i) => [i.change, i.platformId])).toEqual([['deleted', 'weibo:comment:5101234567893004']]);
  });

  it('a run cut short by a refusal signals no deletion', async () => {
    const crawl = runner(SourceSchema.parse({ id: 'wb2', kind: 'weibo', name: '青山发布', owner, uid: WEIBO_ACCOUNT.uid, baseUrl: weibo.url }));
    await crawl();
    weibo.refuseNext('/comments/hotflow', 'http-418');
    const blocked = await crawl();
    expect(blocked.items.filter((i) => i.change === 'deleted')).toEqual([]);
    expect(blocked.report.failures[0]).toMatchObject({ code: 'weibo_risk_control', blocked: true });
  });
});
