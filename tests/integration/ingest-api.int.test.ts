import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { ingestRoutes } from '../../api/routes/ingest-routes.js';
import { createLogger } from '../../core/logger.js';
import { SourceSchema } from '../../core/sources/source.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { createQueues, type Queues } from '../../pipeline/queues.js';
import { isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';

const HOTLINE_TOKEN = 'hotline-7f3a9c1e5b2d4f6a8c0e2b4d';
const CMS_TOKEN = 'cms-0d9e8f7a6b5c4d3e2f1a0b9c';
const owner = { section: '县政务服务中心', person: '刘洋' };

const iso = isolation();
const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
const es = new Client({ node: iso.esUrl });
let queues: Queues;
let audit: EsAuditLog;
let server: Server;
let base = '';

beforeAll(async () => {
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  queues = createQueues(redis, iso.redisPrefix);
  const sources = [
    { id: 'hotline-12345', kind: 'push', name: '12345政务服务便民热线', owner, tokenEnv: 'T_HOTLINE_TOKEN' },
    { id: 'county-cms', kind: 'push', name: '县政府网站内容管理系统', owner, tokenEnv: 'T_CMS_TOKEN' },
    { id: 'weak', kind: 'push', name: '口令过短的推送源', owner, tokenEnv: 'T_WEAK_TOKEN' },
    { id: 'site', kind: 'website', name: '门户网站', owner, entryPoints: ['http://127.0.0.1:1/index.html'] },
  ].map((s) => SourceSchema.parse(s));
  const app = createApp({
    log: createLogger('silent'),
    sessions: new RedisSessionStore(redis, iso.redisPrefix, 600),
    apiRouters: [ingestRoutes({ sources, env: { T_HOTLINE_TOKEN: HOTLINE_TOKEN, T_CMS_TOKEN: CMS_TOKEN, T_WEAK_TOKEN: 'short' }, ingest: queues.ingest, audit })],
  });
  ({ server, base } = await listenOnLoopback(app));
});

afterAll(async () => {
  server?.close();
  await queues?.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

async function push(body: unknown, token?: string, raw = false) {
  const res = await fetch(`${base}/api/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const hotlineItem = (n: number) => ({
  kind: 'message',
  url: `https://12345.qingshan.gov.cn/gd/2026112400${n}`,
  platformId: `GD2026112400${n}`,
  title: `工单${n}：反映城南小区供暖不热`,
  text: `市民来电反映城南小区${n}号楼暖气不热，已持续三天，要求尽快处理。`,
  author: '市民',
  publishedAt: '2026-11-24T09:30:00+08:00',
});

describe('POST /api/ingest', () => {
  it('queues a batch with deterministic job ids under the token’s source, and audits it', async () => {
    const res = await push({ items: [hotlineItem(1), hotlineItem(2)] }, HOTLINE_TOKEN);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ sourceId: 'hotline-12345', received: 2, queued: 2, duplicates: 0 });
    const jobs = res.body.jobs as { jobId: string }[];
    expect(jobs.map((j) => j.jobId)).toEqual([expect.stringMatching(/^[0-9a-f]{40}$/), expect.stringMatching(/^[0-9a-f]{40}$/)]);
    const batches = res.body.batches as string[];
    expect(batches).toHaveLength(1);
    const job = await queues.ingest.getJob(batches[0]!);
    const batch = job?.data as { items: CollectedItem[] } | undefined;
    expect(batch?.items[0]).toMatchObject({ ...hotlineItem(1), sourceId: 'hotline-12345' });
    expect(batch?.items[0]!.collectedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const records = await audit.list({ entityType: 'source', entityId: 'hotline-12345' });
    expect(records[0]).toMatchObject({ action: 'source.push', actor: { kind: 'token', id: 'push:hotline-12345' }, after: { items: 2, queued: 2 } });
    expect(JSON.stringify(records)).not.toContain(HOTLINE_TOKEN);
  });

  it('is idempotent: the same batch again queues nothing new', async () => {
    const before = await queues.ingest.count();
    const res = await push({ items: [hotlineItem(1), hotlineItem(2), hotlineItem(2)] }, HOTLINE_TOKEN);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ received: 3, queued: 0, duplicates: 3 });
    expect(await queues.ingest.count()).toBe(before);
  });

  it('an edited item gets a new job; the post identity stays the same', async () => {
    const first = await push({ items: [hotlineItem(3)] }, HOTLINE_TOKEN);
    const edited = await push({ items: [{ ...hotlineItem(3), text: '市民来电反映城南小区3号楼暖气不热，已持续五天。' }] }, HOTLINE_TOKEN);
    expect(edited.body.queued).toBe(1);
    const [a, b] = [(first.body.jobs as { jobId: string; postId: string }[])[0]!, (edited.body.jobs as { jobId: string; postId: string }[])[0]!];
    expect(b.jobId).not.toBe(a.jobId);
    expect(b.postId).toBe(a.postId);
  });

  it.each([
    // no header
    [undefined, 'missing bearer token'],
    // wrong token
    ['not-the-token-00000000000', 'invalid bearer token'],
    // a token configured shorter than 16 characters is never accepted
    ['short', 'invalid bearer token'],
  ])('refuses token %s with 401', async (token, message) => {
    const res = await push({ items: [hotlineItem(4)] }, token);
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).toContain(message);
  });

  it('refuses an item for another source with 403 naming its index', async () => {
    const res = await push({ items: [hotlineItem(5), { ...hotlineItem(6), sourceId: 'hotline-12345' }, { ...hotlineItem(7), sourceId: 'county-cms' }] }, HOTLINE_TOKEN);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'forbidden', message: expect.stringContaining('items.2.sourceId') } });
  });

  it.each([
    // not a URL
    [{ items: [hotlineItem(8), { ...hotlineItem(9), url: 'gd-9' }] }, 'items.1.url'],
    // unknown kind
    [{ items: [{ ...hotlineItem(8), kind: 'tweet' }] }, 'items.0.kind'],
    // date without offset
    [{ items: [{ ...hotlineItem(8), publishedAt: '2026-11-24 09:30' }] }, 'items.0.publishedAt'],
    // a misspelt field is refused, not dropped
    [{ items: [{ ...hotlineItem(8), publishAt: '2026-11-24T09:30:00+08:00' }] }, 'items.0'],
    // missing text
    [{ items: [{ kind: 'message', url: 'https://x.test/1' }] }, 'items.0.text'],
    // a URL the dashboard would link to but must not: only http(s)
    [{ items: [{ ...hotlineItem(8), url: "javascript:fetch('/api/users')" }] }, 'items.0.url: must be an http(s) URL'],
    [{ items: [{ ...hotlineItem(8), attachments: [{ url: 'data:text/html,x', name: 'a' }] }] }, 'items.0.attachments.0.url'],
    // empty batch, no batch
    [{ items: [] }, 'items'],
    [{}, 'items'],
    [[hotlineItem(8)], '(body)'],
    // too many
    [{ items: Array.from({ length: 501 }, (_, i) => hotlineItem(i)) }, 'items'],
  ])('refuses a bad batch with 400 naming the field (%#)', async (body, field) => {
    const before = await queues.ingest.count();
    const res = await push(body, CMS_TOKEN);
    expect(res.status).toBe(400);
    expect((res.body.error as { message: string }).message).toContain(field);
    expect(await queues.ingest.count()).toBe(before);
  });

  it('answers 400, not 500, for a body that is not JSON', async () => {
    const res = await push('{"items": [', CMS_TOKEN, true);
    expect(res.status).toBe(400);
  });
});
