import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createApiCollectors } from '../../crawlers/api-collectors.js';
import { startCrawlerRole } from '../../crawlers/crawler-role.js';
import { RedisSourceRegistry } from '../../crawlers/shared/source-registry.js';
import { RedisSourceHealthStore } from '../../crawlers/shared/source-health.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { tmpdir } from 'node:os';
import type { CrawlReport } from '../../crawlers/shared/crawl-source.js';
import { AccessTokens, RedisAccessTokenStore } from '../../crawlers/wechat-mp/access-token.js';
import { createWechatMpCollector } from '../../crawlers/wechat-mp/collect.js';
import { SourceSchema, type Source, type WechatMpSource } from '../../core/sources/source.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { eventually, isolation } from '../support/isolation.js';
import { startWechatMpFake } from '../fixtures/platforms/wechat-mp-fake.js';
import { startWeiboFake } from '../fixtures/platforms/weibo-fake.js';
import { WECHAT_ACCOUNT, wechatMessages } from '../fixtures/demo-site/wechat-content.js';
import { WEIBO_ACCOUNT, weiboPosts } from '../fixtures/demo-site/weibo-content.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';

const owner = { section: '县委宣传部', person: '陈静' };
const env = { QS_TEST_WX_APPID: WECHAT_ACCOUNT.appid, QS_TEST_WX_SECRET: WECHAT_ACCOUNT.secret };

describe('WeChat, Weibo and RSS positions crawled through the crawler role into the real ingest queue', () => {
  const iso = isolation();
  const redis = createRedis(iso.redisUrl);
  let queues: Queues;
  let wechat: Awaited<ReturnType<typeof startWechatMpFake>>;
  let weibo: Awaited<ReturnType<typeof startWeiboFake>>;
  let blockedWeibo: Awaited<ReturnType<typeof startWeiboFake>>;
  let feeds: Server;
  let feedsUrl = '';
  let role: { close(): Promise<void> } | undefined;
  const reports = new Map<string, CrawlReport[]>();
  let sources: Source[] = [];

  beforeAll(async () => {
    Object.assign(process.env, env);
    wechat = await startWechatMpFake({ ...WECHAT_ACCOUNT, accountName: WECHAT_ACCOUNT.name, messages: wechatMessages(Date.now()) });
    weibo = await startWeiboFake({ ...WEIBO_ACCOUNT, posts: weiboPosts(Date.now()) });
    blockedWeibo = await startWeiboFake({ ...WEIBO_ACCOUNT, posts: weiboPosts(Date.now()) });
    blockedWeibo.refuseNext('/api/container/getIndex', 'login-redirect', 100);
    const dir = path.join(import.meta.dirname, '../fixtures/feeds');
    feeds = createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      if (!['qingshan-rss2.xml', 'qingshan-gbk.xml', 'qingshan-atom.xml'].includes(name)) return void res.writeHead(404).end();
      // The GBK feed declares its charset only in the XML declaration, as many CMS feeds do.
      res.writeHead(200, { 'Content-Type': name.includes('atom') ? 'application/atom+xml' : 'application/rss+xml' });
      res.end(readFileSync(path.join(dir, name)));
    });
    await new Promise<void>((resolve) => feeds.listen(0, '127.0.0.1', () => resolve()));
    const address = feeds.address();
    feedsUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    sources = [
      { id: 'qingshan-mp', kind: 'wechat-mp', name: '青山发布', owner, everySeconds: 3600, api: { baseUrl: wechat.url, appidEnv: 'QS_TEST_WX_APPID', secretEnv: 'QS_TEST_WX_SECRET' } },
      { id: 'qingshan-weibo', kind: 'weibo', name: '青山发布微博', owner, everySeconds: 3600, uid: WEIBO_ACCOUNT.uid, baseUrl: weibo.url },
      { id: 'blocked-weibo', kind: 'weibo', name: '被拦截的微博', owner, everySeconds: 3600, uid: WEIBO_ACCOUNT.uid, baseUrl: blockedWeibo.url },
      { id: 'qingshan-rss', kind: 'rss', name: '青山县政府订阅', owner, everySeconds: 3600, entryPoints: [`${feedsUrl}/qingshan-rss2.xml`, `${feedsUrl}/qingshan-gbk.xml`, `${feedsUrl}/qingshan-atom.xml`], allowedHosts: [new URL(feedsUrl).host] },
      { id: 'hotline', kind: 'push', name: '12345热线', owner, tokenEnv: 'QS_TEST_PUSH_TOKEN' },
    ].map((s) => SourceSchema.parse(s));
    queues = createQueues(redis, iso.redisPrefix);
    const registry = new RedisSourceRegistry(redis, iso.redisPrefix);
    await registry.seed(sources);
    role = await startCrawlerRole({
      registry,
      health: new RedisSourceHealthStore(redis, iso.redisPrefix),
      healthPolicy: { alertAfterFailures: 3, remindEveryMinutes: 60 },
      evidence: new DiskEvidenceStore(path.join(tmpdir(), `qs-evidence-${iso.redisPrefix}`)),
      queues,
      connection: redis,
      prefix: iso.redisPrefix,
      defaultEverySeconds: 3600,
      maxRequestsPerRun: 200,
      timeoutSeconds: 10,
      log: pino({ level: 'silent' }),
      collectors: createApiCollectors({ redis, prefix: iso.redisPrefix }),
      recordReport: async (report) => void reports.set(report.sourceId, [...(reports.get(report.sourceId) ?? []), report]),
    });
  });

  afterAll(async () => {
    await role?.close();
    await queues?.close();
    await Promise.all([wechat?.close(), weibo?.close(), blockedWeibo?.close(), new Promise((r) => feeds?.close(r))]);
    redis.disconnect();
    await iso.cleanup();
  });

  // The crawler role queues batch jobs; every item in them, with the id of the job that carries it.
  const ingestItems = async () =>
    (await queues.ingest.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'])).flatMap((j) => ('items' in j.data ? j.data.items : [j.data.item]).map((item: CollectedItem) => ({ id: j.id!, item })));
  const reportsOf = (id: string) => eventually(async () => reports.get(id), 60_000, `a crawl report of ${id}`);

  it('schedules every crawled kind and never the push source', async () => {
    const keys = (await queues.crawl.getJobSchedulers()).map((s) => s.key).sort();
    expect(keys).toEqual(['source:blocked-weibo', 'source:qingshan-mp', 'source:qingshan-rss', 'source:qingshan-weibo']);
  });

  it('puts the WeChat articles and comments, with parent links, on the ingest queue', async () => {
    const [report] = await reportsOf('qingshan-mp');
    expect(report!.failures).toEqual([]);
    const items = (await ingestItems()).map((j) => j.item).filter((i) => i.sourceId === 'qingshan-mp');
    expect(items.filter((i) => i.kind === 'article')).toHaveLength(5);
    expect(items.filter((i) => i.kind === 'comment')).toHaveLength(10);
    expect(report!.itemsEmitted).toBe(15);
    expect(items.find((i) => i.text.includes('暴力执法'))?.parentRef).toMatch(/^wxmp:/);
    // The token lives in Redis for the other workers, under a hash of the appid.
    const keys = await redis.keys(`${iso.redisPrefix}:wechat-mp:token:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(WECHAT_ACCOUNT.appid);
  });

  it('puts the Weibo posts and every nested comment on the ingest queue', async () => {
    const [report] = await reportsOf('qingshan-weibo');
    expect(report!.failures).toEqual([]);
    const items = (await ingestItems()).map((j) => j.item).filter((i) => i.sourceId === 'qingshan-weibo');
    expect(items.filter((i) => i.kind === 'weibo')).toHaveLength(5);
    expect(items.filter((i) => i.kind === 'comment')).toHaveLength(weiboPosts(Date.now()).flatMap((p) => p.comments.flatMap((c) => [c, ...(c.replies ?? [])])).length);
  });

  it('puts the items of RSS 2.0, GBK-declared RSS and Atom feeds on the ingest queue', async () => {
    const [report] = await reportsOf('qingshan-rss');
    expect(report!.failures).toEqual([]);
    const titles = (await ingestItems()).map((j) => j.item).filter((i) => i.sourceId === 'qingshan-rss').map((i) => i.title);
    expect(titles).toEqual(expect.arrayContaining(['青山县召开2026年冬季安全生产工作会议', '青山县喆䶮镇卫生院搬迁公告', '青山县冬季供暖今起试运行']));
    expect(titles).toHaveLength(8);
  });

  it('records a login wall as a blocked failure with a Chinese cause, and queues nothing for it', async () => {
    const [report] = await reportsOf('blocked-weibo');
    expect(report!.itemsEmitted).toBe(0);
    expect(report!.failures).toEqual([expect.objectContaining({ code: 'weibo_login_required', blocked: true, cause: expect.stringContaining('微博要求登录') })]);
    expect((await ingestItems()).filter((j) => j.item.sourceId === 'blocked-weibo')).toEqual([]);
  });

  it('a second crawl of unchanged positions adds no job to the ingest queue', async () => {
    for (const id of ['qingshan-mp', 'qingshan-weibo', 'qingshan-rss']) await reportsOf(id);
    const before = (await ingestItems()).map((j) => j.id).sort();
    for (const id of ['qingshan-mp', 'qingshan-weibo', 'qingshan-rss']) await queues.crawl.add('crawl', { sourceId: id });
    await eventually(async () => (['qingshan-mp', 'qingshan-weibo', 'qingshan-rss'].every((id) => (reports.get(id)?.length ?? 0) >= 2) ? true : undefined), 60_000, 'second crawls');
    expect((await ingestItems()).map((j) => j.id).sort()).toEqual(before);
    // One token served both WeChat runs.
    expect(wechat.tokensIssued()).toBe(1);
  });

  it('two workers sharing the Redis token store fetch one token between them', async () => {
    const fresh = await startWechatMpFake({ ...WECHAT_ACCOUNT, accountName: WECHAT_ACCOUNT.name, messages: wechatMessages(Date.now()) });
    try {
      const source = SourceSchema.parse({ id: 'shared-token', kind: 'wechat-mp', name: '青山发布', owner, api: { baseUrl: fresh.url, appidEnv: 'QS_TEST_WX_APPID', secretEnv: 'QS_TEST_WX_SECRET', comments: false } }) as WechatMpSource;
      const prefix = `${iso.redisPrefix}:shared`;
      const connections = [redis.duplicate(), redis.duplicate()];
      const workers = connections.map((c) => createWechatMpCollector({ tokens: new AccessTokens({ store: new RedisAccessTokenStore(c, prefix) }) }));
      const ctx = { emit: async () => {}, timeoutSeconds: 5, now: () => new Date(), env, secretHosts: {} };
      const outcomes = await Promise.all(workers.map((collect) => collect(source, ctx)));
      expect(outcomes.flatMap((o) => o.failures)).toEqual([]);
      expect(fresh.tokensIssued()).toBe(1);
      await redis.del(...(await redis.keys(`${prefix}:*`)));
      for (const c of connections) c.disconnect();
    } finally {
      await fresh.close();
    }
  });
});
