import path from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { ruleRoutes } from '../../api/routes/rule-routes.js';
import { createLogger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import type { IndexedPost } from '../../core/posts/post.js';
import { RulesRegistry } from '../../core/rules/rules-registry.js';
import { RulePackVersions } from '../../core/rules/rule-pack-versions.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsRulePackStore } from '../../pipeline/elasticsearch/es-rule-pack-store.js';
import { publishRuleChanges } from '../../pipeline/rules/rules-sync.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { normalizeItem } from '../../pipeline/ingest/normalize.js';
import { isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';

const iso = isolation();
let es: Client;
let redis: Redis;
let server: Server;
let base: string;
let token: string;
let posts: EsPostStore;
const now = new Date('2026-11-25T08:00:00.000Z');
const rules = RulesRegistry.load(path.join(configDir, 'rules'), { log: { info: () => {}, warn: () => {} } });
const classify = createClassifier(() => rules.current());

function post(n: number, text: string, daysAgo: number): IndexedPost {
  const at = new Date(now.getTime() - daysAgo * 86_400_000).toISOString();
  const normalized = normalizeItem({ sourceId: 'demo-website', kind: 'comment', url: `http://127.0.0.1:8601/c/${n}`, platformId: String(n), title: '', text, collectedAt: at });
  return { ...normalized, at, tokens: '', words: [], keywords: [], ...classify(normalized), indexedAt: at };
}

async function call(method: string, route: string, body?: unknown, auth = true): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/api${route}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const PACK = `id: trial
name: 试用规则
version: 1
level: 2
terms: [强拆]
schemes:
  - { id: noise, name: 噪音, level: 3, subject: 工地|施工, event: 噪音扰民|吵, proximity: 20 }
`;

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  redis = new Redis(iso.redisUrl);
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  posts = new EsPostStore(es, names.posts, new BulkIndexer(es, { flushMs: 5 }));
  // Fully classified posts (schemes, privacy, sentiment, domain) are accepted by the mapping.
  await posts.upsert(post(1, '昨天镇上城管去强拆，把人推倒了，我电话13812345678', 1));
  await posts.upsert(post(2, '城南工地夜间施工噪音扰民快一个月了', 2));
  await posts.upsert(post(3, '今年的文化下乡活动办得很好', 3));
  await posts.upsert(post(4, '去年村里也有过强拆', 30));
  await es.indices.refresh({ index: names.posts });
  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  token = await sessions.create({ username: 'u-duty', displayName: '值班员', roles: ['duty'] });
  const store = new EsRulePackStore(es, `${iso.indexPrefix}-rule-packs`);
  await store.ensure();
  const audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  const versions = new RulePackVersions({ store, audit, announce: publishRuleChanges(redis, iso.redisPrefix), now: () => now, log: createLogger('silent') });
  const app = createApp({ log: createLogger('silent'), sessions, apiRouters: [ruleRoutes({ rules: () => rules.current(), refreshRules: async () => undefined /* nothing is saved here */, versions, posts, sentiment: rules.sentiment, now: () => now })] });
  ({ server, base } = await listenOnLoopback(app));
});

afterAll(async () => {
  server?.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('trying a rule pack before saving it', () => {
  it('stores the whole classification of a post under the strict mapping', async () => {
    const stored = await posts.get(post(1, '昨天镇上城管去强拆，把人推倒了，我电话13812345678', 1).id);
    expect(stored?.privacy).toEqual([expect.objectContaining({ kind: 'mobile', masked: '138****5678' })]);
    expect(stored?.schemes?.some((s) => s.schemeId === 'law-enforcement-conflict' && s.fired)).toBe(true);
    expect(stored?.sentiment?.label).toBe('negative');
    expect(stored?.level).toBe(2);
  });

  it('runs a YAML pack on sample text and says whether it caught it', async () => {
    const { status, json } = await call('POST', '/rules/try', { pack: PACK, text: '听说明天又要强拆' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ pack: { id: 'trial', version: 1, terms: 1, schemes: 1 }, caught: true, sample: { terms: ['强拆'], level: 2 } });
  });

  it('answers what the pack would have caught among the posts of the last N days', async () => {
    const { status, json } = await call('POST', '/rules/try', { pack: PACK, days: 7 });
    expect(status).toBe(200);
    const result = json.posts as { scanned: number; caughtTotal: number; caught: { post: { id: string }; hits: unknown[]; schemes: { schemeId: string }[] }[] };
    expect(result.scanned).toBe(3); // the 30-day-old post is outside the window
    expect(result.caughtTotal).toBe(2);
    expect(result.caught.map((c) => c.post.id).sort()).toEqual([post(1, '', 1).id, post(2, '', 2).id].sort());
    expect(result.caught.find((c) => c.post.id === post(2, '', 2).id)?.schemes.map((s) => s.schemeId)).toEqual(['noise']);
  });

  it('rejects an invalid pack with 400 and problems naming line and field', async () => {
    const { status, json } = await call('POST', '/rules/try', { pack: PACK.replace('level: 2', 'level: 6'), text: 'x' });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'rule_pack_invalid', problems: [{ file: 'pack.yaml', line: 4, field: 'level' }] });
  });

  it('accepts a pack as an object, and rejects a body without text or days, naming the field', async () => {
    expect((await call('POST', '/rules/try', { pack: { id: 'o', name: 'o', version: 1, terms: [{ term: '吵', level: 4 }] }, text: '太吵了' })).json).toMatchObject({ caught: true });
    const bad = await call('POST', '/rules/try', { pack: PACK });
    expect(bad.status).toBe(400);
    expect((bad.json.error as { message: string }).message).toContain('text:');
  });

  it('requires a signed-in user', async () => {
    expect((await call('POST', '/rules/try', { pack: PACK, text: 'x' }, false)).status).toBe(401);
    expect((await call('GET', '/rules', undefined, false)).status).toBe(401);
  });

  it('lists the packs in force with their versions and content hashes', async () => {
    const { json } = await call('GET', '/rules');
    expect(json.packs).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'demo-sensitive', hash: expect.stringMatching(/^[0-9a-f]{16}$/) })]));
  });
});
