import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { ruleRoutes } from '../../api/routes/rule-routes.js';
import { createLogger } from '../../core/logger.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { RulePackVersions } from '../../core/rules/rule-pack-versions.js';
import { DEFAULT_SIGNAL_THRESHOLDS } from '../../core/signals/early-signal.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { EsRulePackStore } from '../../pipeline/elasticsearch/es-rule-pack-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { postIdOf } from '../../pipeline/ingest/normalize.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { startPipelineRole } from '../../pipeline/pipeline-role.js';
import { createQueues, createRedis } from '../../pipeline/queues.js';
import { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { publishRuleChanges, startRulesSync, type RulesSync } from '../../pipeline/rules/rules-sync.js';
import { createTestDesk } from '../support/alerting-harness.js';
import { listenOnLoopback } from '../support/loopback-server.js';
import { eventually, isolation } from '../support/isolation.js';

const iso = isolation();
const names = indexNames(iso.indexPrefix);
const log = createLogger('silent');
const LOCAL = `# 本地词库
id: local
name: 本地词库
version: 1
level: 3
category: 敏感词
terms:
  - 强拆
`;
const OTHER = 'id: other\nname: 其他\nversion: 4\nlevel: 4\nterms: [噪音扰民]\n';

let es: Client;
let redis: Redis;
let audit: EsAuditLog;
let store: EsRulePackStore;
let dir: string;
let apiSync: RulesSync;
let server: Server;
let base: string;
const tokens: Record<string, string> = {};
const closers: (() => Promise<void>)[] = [];

/** One process's view of the versions, as `qianshao api` or `qianshao worker` wires it. */
function versionsOf(conn: Redis): RulePackVersions {
  return new RulePackVersions({ store, audit, announce: publishRuleChanges(conn, iso.redisPrefix), now: () => new Date(), log });
}

async function startSync(): Promise<RulesSync> {
  const conn = createRedis(iso.redisUrl);
  const sync = await startRulesSync({ versions: versionsOf(conn), subscriber: conn.duplicate(), prefix: iso.redisPrefix, dir, log, watchDebounceMs: 50 });
  closers.push(async () => {
    await sync.close();
    conn.disconnect();
  });
  return sync;
}

/** A worker process: its own rules, kept in step over Redis, classifying what the ingest queue brings. */
async function startWorker() {
  const sync = await startSync();
  const conn = createRedis(iso.redisUrl);
  const queues = createQueues(conn, iso.redisPrefix);
  const bulk = new BulkIndexer(es, { flushMs: 10 });
  const posts = new EsPostStore(es, names.posts, bulk);
  sync.registry.onSwap((c) => void createSegmenter(c.ruleSet.words));
  const ingest = wireIngest({
    redis: conn,
    prefix: iso.redisPrefix,
    segment: createSegmenter(sync.registry.current().ruleSet.words),
    classify: createClassifier(() => sync.registry.current()),
    posts,
    events: new EsEventStore(es, names.events, bulk),
    signals: new EsSignalStore(es, names.signals, bulk),
    queues,
    eventWindowHours: 72,
    signalThresholds: DEFAULT_SIGNAL_THRESHOLDS,
    now: () => new Date(),
  });
  const { desk } = await createTestDesk({ es, redis: conn, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix });
  const role = startPipelineRole({ ingest, posts, desk, events: new EsEventStore(es, names.events, bulk), queues, deadLetters: new RedisDeadLetters(conn, iso.redisPrefix), connection: conn, prefix: iso.redisPrefix, ingestConcurrency: 4, log });
  closers.push(async () => {
    await role.close();
    await queues.close();
    conn.disconnect();
  });
  return { queues, sync };
}

async function call(method: string, route: string, body?: unknown, who = 'chief', headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/api${route}`, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens[who]}`, ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const versionNumbers = async (packId: string) => ((await call('GET', `/rules/${packId}/versions`)).json.versions as { version: number }[]).map((v) => v.version);

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  redis = new Redis(iso.redisUrl);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  store = new EsRulePackStore(es, `${iso.indexPrefix}-rule-packs`);
  await store.ensure();
  dir = mkdtempSync(path.join(tmpdir(), 'qs-rules-'));
  writeFileSync(path.join(dir, 'local.yaml'), LOCAL);
  writeFileSync(path.join(dir, 'other.yaml'), OTHER);
  apiSync = await startSync();
  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  tokens.chief = await sessions.create({ username: 'u-chief', displayName: '科长', roles: ['section_chief'] });
  tokens.duty = await sessions.create({ username: 'u-duty', displayName: '值班员', roles: ['duty'] });
  const posts = new EsPostStore(es, names.posts, new BulkIndexer(es, { flushMs: 5 }));
  const app = createApp({
    log,
    sessions,
    apiRouters: [ruleRoutes({ rules: () => apiSync.registry.current(), refreshRules: () => apiSync.refresh(), versions: versionsOf(redis), posts, sentiment: apiSync.registry.sentiment, now: () => new Date() })],
  });
  ({ server, base } = await listenOnLoopback(app));
}, 60_000);

afterAll(async () => {
  server?.close();
  for (const close of closers.reverse()) await close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('rule packs: versions saved through the API', () => {
  it('a fresh start seeds every pack from its file, with the file\'s version', async () => {
    const { json } = await call('GET', '/rules');
    expect(json.packs).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'local', version: 1, origin: 'seed', savedBy: 'config' }), expect.objectContaining({ id: 'other', version: 4, origin: 'seed' })]));
    expect((await call('GET', '/rules/local')).json).toMatchObject({ packId: 'local', version: 1, yaml: LOCAL });
  });

  it('validates YAML without saving: ok, or each problem with its line, column and field', async () => {
    expect((await call('POST', '/rules/validate', { yaml: LOCAL })).json).toMatchObject({ ok: true, pack: { id: 'local', terms: 1 }, warnings: [] });
    // What validates but matches twice or never is told as a warning, with its line and field.
    const twice = await call('POST', '/rules/validate', { yaml: `${LOCAL}  - 强 拆\n  - '***'\n` });
    expect(twice.json).toMatchObject({ ok: true, pack: { terms: 3 }, warnings: [{ line: 9, field: 'terms.1.term' }, { line: 10, field: 'terms.2.term' }] });
    const bad = await call('POST', '/rules/validate', { yaml: `${LOCAL}  - { term: 上访, level: 8 }\n` });
    expect(bad.status).toBe(200);
    expect(bad.json).toMatchObject({ ok: false, problems: [{ line: 9, column: 24, field: 'terms.1.level' }] });
    // Duty officers may validate and try (reading rules), not save.
    expect((await call('POST', '/rules/validate', { yaml: LOCAL }, 'duty')).status).toBe(200);
    expect((await call('POST', '/rules/validate', {})).status).toBe(400);
  });

  it('refuses an invalid pack with 400 naming the line and field, and saves nothing', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['id: local\nname: [broken\n', { line: 3 }],
      [`${LOCAL}  - { term: 上访, level: 8 }\n`, { line: 9, field: 'terms.1.level' }],
      [`${LOCAL}  - { term: 上访, category: 其他 }\n`, { line: 9, field: 'terms.1.category' }],
      [`${LOCAL}schemes:\n  - { id: s, name: s, level: 2, region: 青山|(东关, event: 强拆 }\n`, { line: 10, field: 'schemes.0.region', scheme: { id: 's', field: 'region', position: 6 } }],
      [LOCAL.replace('id: local', 'id: renamed'), { line: 2, field: 'id' }],
    ];
    for (const [yaml, problem] of cases) {
      const res = await call('PUT', '/rules/local', { yaml, reason: '测试' }, 'chief', { 'If-Match': '"1"' });
      expect(res.status, yaml).toBe(400);
      expect((res.json.error as { problems: unknown[] }).problems[0]).toMatchObject(problem);
    }
    expect(await versionNumbers('local')).toEqual([1]);
  });

  it('answers 404 for an unknown pack, 403 without rules.write, 400 without a reason or a version to start from', async () => {
    expect((await call('PUT', '/rules/nope', { yaml: LOCAL.replace('id: local', 'id: nope'), reason: '新建', expectedVersion: 1 })).status).toBe(404);
    expect((await call('GET', '/rules/nope/versions')).status).toBe(404);
    expect((await call('GET', '/rules/local/versions/99')).status).toBe(404);
    expect((await call('PUT', '/rules/local', { yaml: `${LOCAL}  - 上访\n`, reason: '加词', expectedVersion: 1 }, 'duty')).status).toBe(403);
    expect((await call('PUT', '/rules/local', { yaml: `${LOCAL}  - 上访\n`, reason: ' ', expectedVersion: 1 })).status).toBe(400);
    expect((await call('PUT', '/rules/local', { yaml: `${LOCAL}  - 上访\n`, reason: '加词' })).status).toBe(400);
    expect(await versionNumbers('local')).toEqual([1]);
  });

  it('a saved version reaches a worker started before the save: its next item is classified with the new rule', async () => {
    const worker = await startWorker();
    const item = (n: number): CollectedItem => ({ sourceId: 'demo-board', kind: 'message', url: `http://127.0.0.1:8601/m/${n}`, platformId: `m${n}`, title: '', text: `村民第${n}次集体上放，要求见县长`, collectedAt: new Date().toISOString() });
    const hitsOf = async (i: CollectedItem) => {
      await es.indices.refresh({ index: names.posts });
      const res = await es.search<{ terms?: string[] }>({ index: names.posts, query: { ids: { values: [postIdOf(i)] } } });
      return res.hits.hits[0]?._source;
    };
    const before = item(1);
    await worker.queues.ingest.add('item', { item: before }, { jobId: `${postIdOf(before)}-1` });
    expect((await eventually(() => hitsOf(before), 20_000, 'the first item indexed')).terms ?? []).not.toContain('集体上访');

    const yaml = `${LOCAL}  - { term: 集体上访, level: 2, variants: { homophones: [集体上放] } }\n`;
    const saved = await call('PUT', '/rules/local', { yaml, reason: '增加集体上访' }, 'chief', { 'If-Match': '"1"' });
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({ packId: 'local', version: 2, origin: 'edit', savedBy: 'u-chief', reason: '增加集体上访' });
    expect(saved.json.yaml).toContain('version: 2');
    await eventually(async () => (worker.sync.registry.current().ruleSet.packs.find((p) => p.id === 'local')?.version === 2 ? true : undefined), 10_000, 'the worker swapping in version 2');

    const after = item(2);
    await worker.queues.ingest.add('item', { item: after }, { jobId: `${postIdOf(after)}-1` });
    expect((await eventually(() => hitsOf(after), 20_000, 'the second item indexed')).terms).toContain('集体上访');
    // The API process swapped too.
    expect(((await call('GET', '/rules')).json.packs as { id: string; version: number }[]).find((p) => p.id === 'local')?.version).toBe(2);
  }, 60_000);

  it('a save that started from an older version is refused with 409', async () => {
    const res = await call('PUT', '/rules/local', { yaml: `${LOCAL}  - 围堵\n`, reason: '过时的编辑' }, 'chief', { 'If-Match': '"1"' });
    expect(res.status).toBe(409);
    expect((res.json.error as { code: string }).code).toBe('rule_pack_version');
    expect(await versionNumbers('local')).toEqual([2, 1]);
  });

  it('lists versions, shows one, diffs two, and reverts as a new version', async () => {
    expect((await call('GET', '/rules/local/versions/1')).json).toMatchObject({ version: 1, yaml: LOCAL });
    const diff = await call('GET', '/rules/local/diff?from=1&to=2');
    expect(diff.status).toBe(200);
    expect(diff.json.patch).toContain('-version: 1');
    expect(diff.json.patch).toContain('+  - { term: 集体上访');
    expect((diff.json.hunks as unknown[]).length).toBeGreaterThan(0);
    expect((await call('GET', '/rules/local/diff?from=1&to=9')).status).toBe(404);
    expect((await call('GET', '/rules/local/diff?from=x')).status).toBe(400);

    expect((await call('POST', '/rules/local/revert', { version: 1, reason: '误报太多', expectedVersion: 1 })).status).toBe(409);
    const reverted = await call('POST', '/rules/local/revert', { version: 1, reason: '误报太多' }, 'chief', { 'If-Match': '2' });
    expect(reverted.status).toBe(200);
    expect(reverted.json).toMatchObject({ version: 3, origin: 'revert', revertOf: 1, yaml: LOCAL.replace('version: 1', 'version: 3') });
    expect(await versionNumbers('local')).toEqual([3, 2, 1]);
    await eventually(async () => (apiSync.registry.current().ruleSet.packs.find((p) => p.id === 'local')?.version === 3 ? true : undefined), 10_000, 'version 3 in force');
  });

  it('audits each save and revert with the versions before and after and the reason', async () => {
    const records = await audit.list({ entityType: 'rule_pack', entityId: 'local' });
    const byAction = (a: string) => records.filter((r) => r.action === a);
    expect(byAction('rule_pack.seed')).toHaveLength(1);
    expect(byAction('rule_pack.save')).toEqual([expect.objectContaining({ actor: expect.objectContaining({ id: 'u-chief' }), before: expect.objectContaining({ version: 1 }), after: expect.objectContaining({ version: 2 }), reason: '增加集体上访' })]);
    expect(byAction('rule_pack.revert')).toEqual([expect.objectContaining({ before: expect.objectContaining({ version: 2 }), after: expect.objectContaining({ version: 3, revertOf: 1 }), reason: '误报太多' })]);
  });

  it('creates a new pack over the API: version 1, in force at once, audited; a second pack with that id is refused', async () => {
    const yaml = 'id: hotline\nname: 热线新词\nversion: 7\nlevel: 2\ncategory: 负面\nterms: [拖欠工资]\n';
    expect((await call('POST', '/rules', { yaml, reason: '热线反映集中' }, 'duty')).status).toBe(403);
    expect((await call('POST', '/rules', { yaml })).status).toBe(400);
    const bad = await call('POST', '/rules', { yaml: yaml.replace('level: 2', 'level: 9'), reason: '热线反映集中' });
    expect(bad.status).toBe(400);
    expect((bad.json.error as { problems: unknown[] }).problems).toEqual([expect.objectContaining({ line: 4, field: 'level' })]);

    const created = await call('POST', '/rules', { yaml, reason: '热线反映集中' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ packId: 'hotline', version: 1, origin: 'create', savedBy: 'u-chief', reason: '热线反映集中' });
    expect(created.json.yaml).toContain('version: 1');
    // The creator's next read (the Rules page reloads its list) already lists it: no waiting for the announcement.
    expect(((await call('GET', '/rules')).json.packs as { id: string }[]).map((p) => p.id)).toContain('hotline');
    await eventually(async () => (apiSync.registry.current().classify({ text: '公司拖欠工资三个月' }).terms.includes('拖欠工资') ? true : undefined), 10_000, 'the new pack in force');

    const again = await call('POST', '/rules', { yaml, reason: '重复新建' });
    expect(again.status).toBe(409);
    expect((again.json.error as { code: string }).code).toBe('rule_pack_exists');
    expect(await versionNumbers('hotline')).toEqual([1]);
    const records = await audit.list({ entityType: 'rule_pack', entityId: 'hotline' });
    expect(records).toEqual([expect.objectContaining({ action: 'rule_pack.create', after: expect.objectContaining({ version: 1 }), reason: '热线反映集中' })]);
    // It is edited like any other pack.
    expect((await call('PUT', '/rules/hotline', { yaml: `${yaml.replace('version: 7', 'version: 1')}`.replace('[拖欠工资]', '[拖欠工资, 讨薪]'), reason: '加词' }, 'chief', { 'If-Match': '1' })).status).toBe(200);
  });

  it('after a restart the saved version stays in force; a changed file of a pack nobody edited adds a version', async () => {
    writeFileSync(path.join(dir, 'local.yaml'), LOCAL.replace('强拆', '强征'));
    writeFileSync(path.join(dir, 'other.yaml'), OTHER.replace('噪音扰民', '夜间施工'));
    const restarted = await startSync();
    const packs = restarted.registry.current().ruleSet.packs;
    expect(packs.find((p) => p.id === 'local')?.version).toBe(3);
    expect(packs.find((p) => p.id === 'other')?.version).toBe(5);
    expect(restarted.registry.current().classify({ text: '夜间施工 强拆' }).terms.sort()).toEqual(['夜间施工', '强拆']);
    expect((await store.get('other', 5))?.origin).toBe('seed');
  });
});
