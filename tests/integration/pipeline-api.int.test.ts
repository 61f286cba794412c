import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { isolation } from '../support/isolation.js';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { searchRoutes } from '../../api/routes/search-routes.js';
import { pipelineRoutes } from '../../api/routes/pipeline-routes.js';
import { createLogger } from '../../core/logger.js';
import type { PublicUser } from '../../core/auth/user.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { createQueues } from '../../pipeline/queues.js';
import { RedisEventClusterer, readEventState } from '../../pipeline/events/redis-event-clusterer.js';
import type { IndexedPost } from '../../core/posts/post.js';

const users: Record<string, PublicUser> = {
  admin: { username: 'admin', displayName: '系统管理员', roles: ['admin'] },
  duty: { username: 'duty', displayName: '张值班', roles: ['duty'] },
};

describe('search, dead-letter, event and signal endpoints', () => {
  const iso = isolation();
  const es = new Client({ node: iso.esUrl });
  const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
  const names = indexNames(iso.indexPrefix);
  const queues = createQueues(redis, iso.redisPrefix);
  const deadLetters = new RedisDeadLetters(redis, iso.redisPrefix);
  /** What the next queueing of a replayed ingest job does beside queueing: fail (Redis refusing it), or a worker failing it at once. */
  let nextQueueing: { fail?: boolean; after?: () => Promise<void> } = {};
  const ingestQueue = queues.ingest;
  const replayQueues = {
    ...queues,
    ingest: new Proxy(ingestQueue, {
      get(target, prop) {
        if (prop !== 'add') {
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
        return async (...args: Parameters<typeof ingestQueue.add>) => {
          const { fail, after } = nextQueueing;
          nextQueueing = {};
          if (fail) throw new Error('Redis refused the job');
          const job = await target.add(...args);
          await after?.();
          return job;
        };
      },
    }),
  };
  const audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  let server: Server;
  let base = '';
  const tokens: Record<string, string> = {};

  async function call(path: string, as?: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}${path}`, { ...init, headers: { ...(as ? { authorization: `Bearer ${tokens[as]}` } : {}) } });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }

  beforeAll(async () => {
    await ensureIndices(es, names);
    const bulk = new BulkIndexer(es, { flushMs: 5 });
    const posts = new EsPostStore(es, names.posts, bulk);
    const text = '<img src=x onerror=alert(1)>城管暴力执法，大家都看见了';
    const post: IndexedPost = {
      id: 'p1',
      sourceId: 'demo-website',
      kind: 'comment',
      url: 'http://127.0.0.1/p1',
      title: '',
      text,
      collectedAt: '2026-11-20T08:00:00.000Z',
      at: '2026-11-20T08:00:00.000Z',
      contentHash: 'h1',
      tokens: '< img src = x onerror = alert ( 1 ) > 城管 暴力执法 ， 大家 都 看见 了',
      words: [],
      keywords: [],
      hits: [],
      terms: [],
      categories: [],
      indexedAt: '2026-11-20T08:00:01.000Z',
      eventId: 'ev-single',
    };
    await posts.upsert(post);
    await es.indices.refresh({ index: names.posts });
    const sessions = new RedisSessionStore(redis, iso.redisPrefix, 3600);
    for (const [name, user] of Object.entries(users)) tokens[name] = await sessions.create(user);
    const app = createApp({
      log: createLogger('silent'),
      sessions,
      apiRouters: [
        searchRoutes({ posts }),
        pipelineRoutes({ deadLetters, queues: replayQueues, events: new EsEventStore(es, names.events, bulk), signals: new EsSignalStore(es, names.signals, bulk), posts, liveEvent: (id) => readEventState(redis, iso.redisPrefix, id), audit }),
      ],
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await queues.close();
    redis.disconnect();
    await es.close();
    await iso.cleanup();
  });

  it('GET /api/posts/search needs a signed-in user', async () => {
    expect((await call('/api/posts/search?q=暴力执法')).status).toBe(401);
  });

  it('returns hits with highlight offsets and snippet parts, hostile markup kept as text', async () => {
    const { status, body } = await call(`/api/posts/search?q=${encodeURIComponent('暴力执法')}`, 'duty');
    expect(status).toBe(200);
    const hit = (body.hits as { post: { text: string }; highlights: { text: { start: number; end: number }[] }; snippet: { text: string; mark: boolean }[] }[])[0]!;
    expect(hit.highlights.text.map((r) => hit.post.text.slice(r.start, r.end))).toEqual(['暴力执法']);
    expect(hit.snippet[0]).toEqual({ text: '<img src=x onerror=alert(1)>城管', mark: false });
    expect(body.total).toBe(1);
  });

  it.each([
    ['limit=5000', 'limit'],
    ['from=tomorrow', 'from'],
    ['minLevel=9', 'minLevel'],
    [`q=${'字'.repeat(300)}`, 'q'],
  ])('a bad query (%s) is a 400 naming the field', async (qs, field) => {
    const { status, body } = await call(`/api/posts/search?${qs}`, 'duty');
    expect(status).toBe(400);
    expect((body.error as { code: string; message: string }).message).toContain(field);
  });

  it('dead letters are for admins: listed with their reason, replayed onto their queue, and the replay is audited', async () => {
    await deadLetters.add({
      id: 'job-1',
      queue: 'ingest',
      name: 'item',
      data: { item: { sourceId: 's', kind: 'comment', url: 'http://127.0.0.1/x', text: 'x', collectedAt: 'yesterday' } },
      code: 'invalid_item',
      reason: 'collected item rejected: collectedAt: Invalid ISO datetime',
      attempts: 1,
      failedAt: '2026-11-20T08:00:00.000Z',
    });
    expect((await call('/api/pipeline/dead-letters', 'duty')).status).toBe(403);
    const listed = await call('/api/pipeline/dead-letters', 'admin');
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ total: 1, letters: [{ id: 'job-1', code: 'invalid_item', reason: expect.stringContaining('collectedAt') }] });

    expect((await call('/api/pipeline/dead-letters/job-1/replay', 'duty', { method: 'POST' })).status).toBe(403);
    expect((await call('/api/pipeline/dead-letters/nope/replay', 'admin', { method: 'POST' })).status).toBe(404);
    const replayed = await call('/api/pipeline/dead-letters/job-1/replay', 'admin', { method: 'POST' });
    expect(replayed).toMatchObject({ status: 202, body: { replayed: 'job-1', queue: 'ingest' } });
    const job = await queues.ingest.getJob('job-1');
    expect(job?.data).toMatchObject({ item: { url: 'http://127.0.0.1/x' } });
    expect((await deadLetters.list(10)).total).toBe(0);
    const records = await audit.list({ entityType: 'pipeline' });
    expect(records).toMatchObject([{ action: 'pipeline.dead_letter_replay', actor: { id: 'admin' }, entity: { id: 'dead-letter:job-1' } }]);
  });

  it('a replay that fails again at once keeps its new letter; two replays at once queue once; a replay that cannot be queued puts the letter back', async () => {
    const letter = {
      id: 'job-2',
      queue: 'ingest',
      name: 'item',
      data: { item: { sourceId: 's', kind: 'comment', url: 'http://127.0.0.1/y', text: 'y', collectedAt: 'yesterday' } },
      code: 'invalid_item',
      reason: 'collected item rejected: collectedAt: Invalid ISO datetime',
      attempts: 1,
      failedAt: '2026-11-20T09:00:00.000Z',
    };
    await deadLetters.add(letter);
    // The worker fails the replayed job before the replay's answer is sent: its new letter stays.
    nextQueueing = { after: () => deadLetters.add({ ...letter, reason: 'failed again', failedAt: '2026-11-20T09:05:00.000Z' }) };
    expect((await call('/api/pipeline/dead-letters/job-2/replay', 'admin', { method: 'POST' })).status).toBe(202);
    expect(await deadLetters.get('job-2')).toMatchObject({ reason: 'failed again', replays: 1 });

    // Two admins replay it at once: one queues it, the other is told it changed.
    const both = await Promise.all([1, 2].map(() => call('/api/pipeline/dead-letters/job-2/replay', 'admin', { method: 'POST' })));
    expect(both.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(both.find((r) => r.status === 409)!.body).toMatchObject({ error: { code: 'dead_letter_changed' } });
    expect(await deadLetters.get('job-2')).toBeUndefined();

    // Redis refuses the job: the letter is back as it was, to be replayed later.
    await deadLetters.add({ ...letter, failedAt: '2026-11-20T09:10:00.000Z' });
    nextQueueing = { fail: true };
    expect((await call('/api/pipeline/dead-letters/job-2/replay', 'admin', { method: 'POST' })).status).toBe(500);
    expect(await deadLetters.get('job-2')).toMatchObject({ failedAt: '2026-11-20T09:10:00.000Z', replays: 2 });
    expect((await deadLetters.list(10)).letters.map((l) => l.id)).toContain('job-2');
    const trail = await audit.list({ entityType: 'pipeline', entityId: 'dead-letter:job-2' });
    expect(trail.map((r) => r.action)).toContain('pipeline.dead_letter_replay_failed');
  });

  it('lists events and signals for signed-in users', async () => {
    expect((await call('/api/events', 'duty')).body).toEqual({ events: [] });
    expect((await call('/api/signals?scope=position', 'duty')).body).toEqual({ signals: [] });
    expect((await call('/api/signals?scope=planet', 'duty')).status).toBe(400);
    expect((await call('/api/events/ev-none', 'duty')).status).toBe(404);
  });

  it('answers for a one-post event, whose document is not written yet, from its post', async () => {
    const { status, body } = await call('/api/events/ev-single', 'duty');
    expect(status).toBe(200);
    expect(body).toMatchObject({ event: { id: 'ev-single', postIds: ['p1'], postCount: 1, sourceIds: ['demo-website'], commentCount: 1 } });
  });

  it('answers for an event just clustered, before its post is searchable, from the clusterer\'s state', async () => {
    // The alert of a fresh post reaches the wall before Elasticsearch refreshes: its event must not be a 404.
    const clusterer = new RedisEventClusterer(redis, iso.redisPrefix, { windowMs: 3_600_000 });
    const { event } = await clusterer.assign({ id: 'p-fresh', title: '县医院门口发生纠纷', text: '多名网友反映县医院门口发生纠纷', sourceId: 'demo-board', kind: 'message', at: '2026-11-20T09:00:00.000Z', negative: true });
    const { status, body } = await call(`/api/events/${event.id}`, 'duty');
    expect(status).toBe(200);
    expect(body).toMatchObject({ event: { id: event.id, postIds: ['p-fresh'], postCount: 1, sourceIds: ['demo-board'], commentCount: 1, negativeCount: 1, title: '县医院门口发生纠纷' } });
  });
});
