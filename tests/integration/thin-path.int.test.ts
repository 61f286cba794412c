import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { eventually, isolation } from '../support/isolation.js';
import { freePort, runQianshao, waitForOutput, type AppProcess } from '../support/app-process.js';
import { DEMO_CREDENTIALS } from '../fixtures/demo-site/server.js';

interface AlertBody {
  id: string;
  terms: string[];
  level: number;
  status: string;
  postIds: string[];
}

describe('one thin path: a post on the unit website becomes an alert', () => {
  const iso = isolation();
  let app: AppProcess;
  let api: string;
  let site: string;
  let cookie = '';

  async function get<T>(path: string): Promise<T> {
    const res = await fetch(`${api}${path}`, { headers: { cookie } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  beforeAll(async () => {
    const [apiPort, sitePort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    site = `http://127.0.0.1:${sitePort}`;
    app = runQianshao(['all', '--demo'], {
      API_PORT: String(apiPort),
      DEMO_SITE_PORT: String(sitePort),
      REDIS_URL: iso.redisUrl,
      REDIS_PREFIX: iso.redisPrefix,
      ES_URL: iso.esUrl,
      ES_INDEX_PREFIX: iso.indexPrefix,
    });
    await waitForOutput(app, 'Dashboard:');
    const login = await fetch(`${api}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'duty', password: 'qianshao-demo' }),
    });
    expect(login.status).toBe(200);
    cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  });

  afterAll(async () => {
    await app?.stop();
    await iso.cleanup();
  });

  it('crawls a comment containing 暴力执法, indexes it segmented, and GET /api/alerts returns the alert', async () => {
    const alert = await eventually(
      async () => (await get<{ alerts: AlertBody[] }>('/api/alerts')).alerts.find((a) => a.terms.includes('暴力执法')),
      60_000,
      'an alert for 暴力执法',
    );
    expect(alert.status).toBe('new');
    expect(alert.level).toBe(2);

    const detail = await get<{ posts: { text: string; words: string[]; sourceId: string }[] }>(`/api/alerts/${alert.id}`);
    expect(detail.posts.some((p) => p.text.includes('暴力执法'))).toBe(true);
    // The segmenter, with the lexicon added as user words, keeps the term whole.
    expect(detail.posts.some((p) => p.words.includes('暴力执法'))).toBe(true);

    const es = new Client({ node: iso.esUrl });
    await es.indices.refresh({ index: `${iso.indexPrefix}-posts` });
    const found = await es.search({ index: `${iso.indexPrefix}-posts`, query: { match_phrase: { text: '暴力执法' } } });
    expect((found.hits.total as { value: number }).value).toBeGreaterThan(0);
    await es.close();

    const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
    const ingest = new Queue('ingest', { connection: redis, prefix: iso.redisPrefix });
    expect((await ingest.getJobCounts('completed')).completed).toBeGreaterThan(0);
    await ingest.close();
    await redis.quit();
  });

  it('a message a citizen posts on the board is caught within a minute', async () => {
    const marker = `测试${Date.now()}`;
    const form = new URLSearchParams({ title: `关于${marker}的反映`, content: `${marker}小区门口食物中毒的传言很多，请核实。`, author: '网友' });
    const posted = await fetch(`${site}/hdjl/lyb/submit`, { method: 'POST', body: form, redirect: 'manual' });
    expect([200, 302, 303]).toContain(posted.status);
    const alert = await eventually(
      async () => {
        for (const a of (await get<{ alerts: AlertBody[] }>('/api/alerts')).alerts.filter((x) => x.terms.includes('食物中毒'))) {
          const d = await get<{ posts: { text: string }[] }>(`/api/alerts/${a.id}`);
          if (d.posts.some((p) => p.text.includes(marker))) return a;
        }
        return undefined;
      },
      60_000,
      'an alert for the new message',
    );
    expect(alert.level).toBe(2);
  });

  it('re-crawling the same pages creates no second post and no second alert', async () => {
    const count = async () => {
      const { alerts } = await get<{ alerts: AlertBody[] }>('/api/alerts?limit=500');
      const { total } = await get<{ total: number }>('/api/posts?limit=1');
      return { alerts: alerts.length, posts: total, ids: alerts.map((a) => a.id).sort() };
    };
    const redis = new Redis(iso.redisUrl);
    const crawlsDone = async () => Number(await redis.hlen(`${iso.redisPrefix}:crawl:last`));
    await eventually(async () => ((await crawlsDone()) >= 2 ? true : undefined), 60_000, 'both sources crawled');
    const before = await count();
    // Wait for at least one more full crawl cycle of both sources (15 s and 20 s schedules).
    await new Promise((r) => setTimeout(r, 25_000));
    const after = await count();
    await redis.quit();
    // New live items may appear on the demo site meanwhile; what was there must not be duplicated.
    expect(new Set(after.ids).size).toBe(after.ids.length);
    for (const id of before.ids) expect(after.ids).toContain(id);
    expect(after.posts).toBeGreaterThanOrEqual(before.posts);
  });

  it('the demo WeChat account, Weibo account, RSS feed and push API all reach the index', async () => {
    const pushed = await fetch(`${api}/api/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_CREDENTIALS.DEMO_PUSH_TOKEN}` },
      body: JSON.stringify({ items: [{ kind: 'message', url: 'https://12345.qingshan.gov.cn/gd/GD20261124001', platformId: 'GD20261124001', title: '12345工单：东关村拆迁补偿', text: '来电人反映东关村拆迁补偿款至今未发放。', publishedAt: '2026-11-24T09:30:00+08:00' }] }),
    });
    expect(pushed.status).toBe(202);
    const sourcesSeen = await eventually(
      async () => {
        const { posts } = await get<{ posts: { sourceId: string; kind: string }[] }>('/api/posts?limit=200');
        const seen = new Set(posts.map((p) => `${p.sourceId}/${p.kind}`));
        const wanted = ['demo-wechat-mp/article', 'demo-wechat-mp/comment', 'demo-weibo/weibo', 'demo-weibo/comment', 'demo-rss/article', 'demo-hotline/message'];
        return wanted.every((w) => seen.has(w)) ? seen : undefined;
      },
      90_000,
      'posts of every demo position kind',
    );
    expect(sourcesSeen.size).toBeGreaterThanOrEqual(6);
  });

  it('GET /api/health reports Redis, Elasticsearch, queue depths and each role', async () => {
    const res = await fetch(`${api}/api/health`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as {
      redis: { status: string };
      elasticsearch: { status: string };
      queues: Record<string, { failed: number; waiting: number }>;
      roles: { role: string }[];
      collection: { stalled: string[] };
    };
    expect(health.redis.status).toBe('ok');
    expect(['green', 'yellow']).toContain(health.elasticsearch.status);
    expect(Object.keys(health.queues).sort()).toEqual(['alert', 'crawl', 'escalate', 'ingest', 'notify', 'probe']);
    expect(health.queues.ingest?.failed).toBe(0);
    expect(health.roles.map((r) => r.role).sort()).toEqual(['api', 'crawler', 'worker']);
    expect(health.collection).toEqual({ stalled: [] });
  });

  it('an unauthenticated request for alerts is refused with 401', async () => {
    const res = await fetch(`${api}/api/alerts`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  });

  it('SIGTERM shuts every role down and exits 0', async () => {
    expect(await app.stop('SIGTERM')).toBe(0);
  });
});
