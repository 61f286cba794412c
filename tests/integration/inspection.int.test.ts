import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { inspectionRoutes } from '../../api/routes/inspection-routes.js';
import type { Role } from '../../core/auth/user.js';
import { InspectionPolicySchema } from '../../core/inspection/inspection-policy.js';
import { createLogger } from '../../core/logger.js';
import { SourceSchema } from '../../core/sources/source.js';
import { startProber } from '../../crawlers/probe/prober.js';
import { RedisProbeLog } from '../../crawlers/probe/probe-log.js';
import { RedisSourceHealthStore, emptyHealth } from '../../crawlers/shared/source-health.js';
import { RedisSourceRegistry } from '../../crawlers/shared/source-registry.js';
import { EsInspectionFigures } from '../../pipeline/elasticsearch/es-inspection-figures.js';
import { ensureIndices, indexNames, monthlyPostsIndex } from '../../pipeline/elasticsearch/indices.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { InspectionService } from '../../reports/inspection-service.js';
import { ReportService } from '../../reports/report-service.js';
import type { User } from '../../core/auth/user.js';
import { checkInspections } from '../../pipeline/inspection/inspection-watch.js';
import { enqueueNotification } from '../../pipeline/notify/enqueue-notification.js';
import { eventually, isolation } from '../support/isolation.js';
import { listenOnLoopback } from '../support/loopback-server.js';

const iso = isolation();
const owner = { section: '县政府办公室', person: '李明' };
const H = 3_600_000;
const D = 24 * H;
/** The probes' clock: one hour per probe, so ~170 real probes make a week of hourly probing. */
const T0 = Date.parse('2026-11-01T00:00:00.000Z');
let probeCount = 0;
const probeClock = () => new Date(T0 + probeCount++ * H);

const redis = createRedis(iso.redisUrl);
let es: Client;
let queues: Queues;
let fixture: Server;
let siteUrl: string;
let api: Server;
let inspections: InspectionService;
let base: string;
/** The inspection's "now": half an hour after the last probe. */
let now: Date;
const tokens: Partial<Record<Role, string>> = {};
/** Requests the fixture site answered, counted from 1; 50–56 get a 503, 57–58 hang past the probe timeout. */
let requests = 0;

const policy = InspectionPolicySchema.parse({ availability: { timeoutSeconds: 0.5 } });

async function call(who: Role | undefined, path: string) {
  const res = await fetch(`${base}/api${path}`, { headers: who ? { Authorization: `Bearer ${tokens[who]}` } : {} });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, any> };
}

async function indexPost(doc: Record<string, unknown> & { id: string; at: string }): Promise<void> {
  await es.index({ index: monthlyPostsIndex(indexNames(iso.indexPrefix).posts, doc.at), id: doc.id, document: { collectedAt: doc.at, ...doc } });
}

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  queues = createQueues(redis, iso.redisPrefix);

  fixture = createServer((req, res) => {
    const n = ++requests;
    if (n >= 57 && n <= 58) return; // never answers: the probe's timeout ends it
    if (n >= 50 && n <= 56) return void res.writeHead(503).end('维护中');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body><h1>青山县人民政府</h1></body></html>');
  });
  fixture.listen(0, '127.0.0.1');
  await new Promise((r) => fixture.once('listening', r));
  siteUrl = `http://127.0.0.1:${(fixture.address() as AddressInfo).port}`;

  const registry = new RedisSourceRegistry(redis, iso.redisPrefix);
  await registry.seed([
    SourceSchema.parse({
      id: 'site',
      kind: 'website',
      name: '青山县人民政府门户网站',
      owner,
      entryPoints: [`${siteUrl}/index.html`, `${siteUrl}/xwzx/gzdt/index.html`],
      columns: [
        { name: '工作动态', url: `${siteUrl}/xwzx/gzdt/index.html`, type: 'news' },
        { name: '通知公告', url: `${siteUrl}/xwzx/tzgg/index.html`, type: 'notice' },
        { name: '人事信息', url: `${siteUrl}/xwzx/rsxx/index.html`, type: 'news' },
        { name: '公示公告', url: `${siteUrl}/xwzx/gsgg/index.html`, type: 'news' },
        { name: '政策文件', url: `${siteUrl}/xxgk/zcwj/index.html`, type: 'policy' },
        { name: '机构职能', url: `${siteUrl}/xxgk/jgzn/index.html`, type: 'other' },
        { name: '专题一', url: `${siteUrl}/ztzl/zt1/index.html`, type: 'news' },
        { name: '专题二', url: `${siteUrl}/ztzl/zt2/index.html`, type: 'news' },
      ],
    }),
    SourceSchema.parse({ id: 'board', kind: 'message-board', name: '领导信箱', owner, entryPoints: [`${siteUrl}/hdjl/lyb/index.html`] }),
    SourceSchema.parse({ id: 'weibo', kind: 'weibo', name: '青山发布（微博）', owner, uid: '7712345678' }),
    SourceSchema.parse({ id: 'other-site', kind: 'website', name: '停用网站', owner, enabled: false, entryPoints: ['http://127.0.0.1:9/'] }),
  ]);

  // A week of hourly probes, run for real against the fixture site on a 60 ms schedule.
  const probes = new RedisProbeLog(redis, iso.redisPrefix, 8);
  const prober = await startProber({ registry, log: probes, queue: queues.probe, connection: redis, prefix: iso.redisPrefix, everyMs: 60, timeoutMs: policy.availability.timeoutSeconds * 1000, logger: createLogger('silent'), now: probeClock });
  try {
    await eventually(async () => ((await probes.list('site', new Date(0), new Date(T0 + 400 * H))).length >= 172 ? true : undefined), 90_000, 'a week of probes');
  } finally {
    await queues.probe.removeJobScheduler('probe:site');
    await prober.close();
  }
  const all = await probes.list('site', new Date(0), new Date(T0 + 400 * H));
  now = new Date(Date.parse(all.at(-1)!.at) + 0.5 * H);

  const health = new RedisSourceHealthStore(redis, iso.redisPrefix);
  for (const id of ['site', 'board']) await health.save({ ...emptyHealth(id), lastAttemptAt: now.toISOString(), lastSuccessAt: now.toISOString() });
  await health.save({ ...emptyHealth('weibo'), lastAttemptAt: now.toISOString(), lastSuccessAt: now.toISOString(), newestPublishedAt: new Date(now.getTime() - 20 * D).toISOString() });

  const ago = (days: number) => new Date(now.getTime() - days * D).toISOString();
  const article = (id: string, dir: string, days: number | undefined, extra: Record<string, unknown> = {}) =>
    indexPost({ id, sourceId: 'site', kind: 'article', url: `${siteUrl}/${dir}/t${id}.html`, title: `文章 ${id}`, text: '正文', at: ago(days ?? 1), ...(days === undefined ? {} : { publishedAt: ago(days) }), ...extra });
  const message = (id: string, days: number, extra: Record<string, unknown> = {}) =>
    indexPost({ id, sourceId: 'board', kind: 'message', url: `${siteUrl}/hdjl/lyb/detail_${id}.html`, title: `留言 ${id}`, text: '群众留言', at: ago(days), publishedAt: ago(days), ...extra });
  const typo = (term: string, category = '错敏词') => ({ term, category, matched: term, packId: 'demo-misstatements', level: 2, field: 'text', start: 0, end: term.length, suggestion: '中华人民共和国' });
  await Promise.all([
    article('g1', 'xwzx/gzdt', 2),
    article('g2', 'xwzx/gzdt', undefined),
    article('t1', 'xwzx/tzgg', 100),
    article('r1', 'xwzx/rsxx', 20),
    article('s1', 'xwzx/gsgg', 11),
    article('p1', 'xxgk/zcwj', 200),
    article('j1', 'xxgk/jgzn', 400),
    // A deleted article is gone from the site: 专题二 stays blank.
    article('z2', 'ztzl/zt2', 1, { deleted: { at: ago(0.5) } }),
    // Two typos in one article, one sensitive word (not a misstatement).
    article('m1', 'xwzx/gzdt', 30, { hits: [typo('中华人民共合国'), typo('人民政腑'), typo('某敏感词', '敏感词')] }),
    // A citizen's typo in a 留言 is not the unit's misstatement.
    message('q0', 5, { hits: [typo('中华人民共合国')], reply: { text: '已转相关部门', at: ago(1) } }),
    message('q1', 100),
    message('q2', 10),
    message('q3', 200, { reply: { text: '已答复', at: ago(150) } }),
    message('q4', 120, { deleted: { at: ago(3) } }),
    // Older than the inspection's year.
    message('q5', 400),
  ]);
  await es.indices.refresh({ index: `${names.posts}-*` });

  const sessions = new RedisSessionStore(redis, iso.redisPrefix, 600);
  for (const r of ['viewer', 'duty'] as Role[]) tokens[r] = await sessions.create({ username: `u-${r}`, displayName: `测试${r}`, roles: [r] });
  inspections = new InspectionService({ registry, health, probes, figures: new EsInspectionFigures(es, names.posts), policy, zombieDays: 14, now: () => now });
  const app = createApp({ log: createLogger('silent'), sessions, apiRouters: [inspectionRoutes({ inspections, policy, now: () => now })] });
  ({ server: api, base } = await listenOnLoopback(app));
}, 180_000);

afterAll(async () => {
  api?.close();
  fixture?.closeAllConnections();
  fixture?.close();
  await queues?.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const findingOf = (position: Json, item: string) => (position.findings as Json[]).find((f) => f.item === item)!;

describe('website self-inspection on real probes and indexed posts', () => {
  it('probes only enabled websites, once per scheduled run, recording every probe', async () => {
    expect((await queues.probe.getJobSchedulers()).map((s) => s.key)).toEqual([]);
    const probes = await new RedisProbeLog(redis, iso.redisPrefix, 8).list('site', new Date(0), new Date(T0 + 400 * H));
    expect(probes.length).toBeGreaterThanOrEqual(172);
    expect(await new RedisProbeLog(redis, iso.redisPrefix, 8).list('other-site', new Date(0), new Date(T0 + 400 * H))).toEqual([]);
    const failed = probes.filter((p) => !p.ok);
    expect(failed.map((p) => p.errorClass).sort()).toEqual(['server-error', 'server-error', 'server-error', 'server-error', 'server-error', 'server-error', 'server-error', 'timeout', 'timeout']);
    expect(failed.filter((p) => p.errorClass === 'server-error').every((p) => p.status === 503)).toBe(true);
  });

  it('fails availability when the site was down for 9 of the week’s 168 hourly probes (5.4 %)', async () => {
    const { status, json } = await call('viewer', '/inspection/site');
    expect(status).toBe(200);
    const f = findingOf(json.position, 'availability');
    expect(f).toMatchObject({ status: 'fail', reason: 'failure-share-over', figure: { value: 9 / 168, text: '5.4%（9/168 次失败）' }, threshold: { value: 0.05 } });
    expect((f.trace.rows as Json[]).filter((r) => r.kind === '每日探测').map((r) => r.probes)).toEqual([24, 24, 24, 24, 24, 24, 24]);
    expect(json.basis).toContain('国办秘函〔2019〕19号');
  });

  it('counts stale and blank columns from the indexed posts, by URL prefix and type', async () => {
    const { json } = await call('viewer', '/inspection/site');
    const p = json.position;
    expect(findingOf(p, 'home-page')).toMatchObject({ status: 'pass', reason: 'updated', figure: { value: 2 } });
    const stale = findingOf(p, 'columns-stale');
    // 人事信息 (news, 20 days) and 政策文件 (policy, 200 days) are stale, 公示公告 (11 days) soon: 3 → warn.
    expect(stale).toMatchObject({ status: 'warn', reason: 'stale-near-limit', figure: { value: 2 } });
    const byName = Object.fromEntries((stale.trace.rows as Json[]).map((r) => [r.name, [r.items, r.undated, r.ageDays, r.state]]));
    expect(byName).toEqual({
      工作动态: [3, 1, 2, '正常'],
      通知公告: [1, 0, 100, '正常'],
      人事信息: [1, 0, 20, '超期未更新'],
      公示公告: [1, 0, 11, '即将超期'],
      政策文件: [1, 0, 200, '超期未更新'],
      机构职能: [1, 0, 400, '不要求更新'],
      专题一: [0, 0, null, '空白'],
      专题二: [0, 0, null, '空白'],
    });
    expect(findingOf(p, 'columns-blank')).toMatchObject({ status: 'warn', reason: 'blank-present', figure: { value: 2 } });
    expect(findingOf(p, 'columns-long-stale')).toMatchObject({ status: 'pass', figure: { value: 0 } });
    expect(p.columnsDeclared).toBe(true);
  });

  it('fails interaction on a 留言 unanswered for 100 days, counting neither answered, deleted nor year-old ones', async () => {
    const { json } = await call('viewer', '/inspection/site');
    const f = findingOf(json.position, 'interaction');
    expect(json.position.messageBoards).toEqual(['board']);
    expect(f).toMatchObject({ status: 'fail', reason: 'unanswered-over-limit', figure: { value: 100 } });
    expect((f.trace.rows as Json[]).map((r) => [r.id, r.ageDays])).toEqual([
      ['q1', 100],
      ['q2', 10],
    ]);
  });

  it('counts the unit’s own typos, not citizens’ and not other categories', async () => {
    const { json } = await call('viewer', '/inspection/site');
    const f = findingOf(json.position, 'misstatements');
    expect(f).toMatchObject({ status: 'warn', reason: 'typos-present', figure: { value: 2 } });
    expect((f.trace.rows as Json[]).map((r) => r.term).sort()).toEqual(['中华人民共合国', '人民政腑']);
    expect(json.position.verdict).toBe('fail');
  });

  it('lists every enabled website and new-media position; the new-media item is the zombie flag', async () => {
    const { status, json } = await call('duty', '/inspection');
    expect(status).toBe(200);
    expect((json.positions as Json[]).map((p) => [p.sourceId, p.kind, p.verdict])).toEqual([
      ['site', 'website', 'fail'],
      ['weibo', 'weibo', 'fail'],
    ]);
    // The list judges each website exactly as the single view does, message boards included.
    expect(json.positions[0].messageBoards).toEqual(['board']);
    expect(findingOf(json.positions[0], 'interaction')).toMatchObject({ status: 'fail', figure: { value: 100 } });
    expect(findingOf(json.positions[1], 'new-media-update')).toMatchObject({ reason: 'zombie', figure: { value: 20 }, threshold: { value: 14 } });
    expect(json.policy.availability.failShare).toBe(0.05);
  });

  it('puts today\'s self-inspection into the analysis-and-judgment report of the current period, not of a long-past one', async () => {
    const names = indexNames(iso.indexPrefix);
    const reports = new ReportService({
      es,
      indices: { posts: names.posts, alerts: names.alerts, events: names.events, signals: names.signals, ledger: names.ledger, reports: `${iso.indexPrefix}-reports` },
      unit: '青山县人民政府',
      sources: () => [{ id: 'site', name: '县政府门户网站' }],
      gaps: async () => [],
      zombieDays: 14,
      inspections: () => inspections.forReport(),
      now: () => now,
    });
    await reports.ensure();
    const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const current = (await reports.generate(month, { kind: 'unit' })).sections.find((s) => s.id === 'positions')!;
    const table = current.tables.find((t) => t.title.startsWith('网站自查'))!;
    expect(table.rows).toContainEqual([expect.any(String), '互动回应差', '不合格', expect.stringContaining('100 天')]);
    expect(table.trace?.dashboard).toBe('/positions?tab=inspection');
    expect(current.paragraphs.join('')).toMatch(/不合格 \d+ 项（.*互动回应差/);
    const past = (await reports.generate('2025-Q1', { kind: 'unit' })).sections.find((s) => s.id === 'positions')!;
    expect(past.tables.some((t) => t.title.startsWith('网站自查'))).toBe(false);
  });

  it('answers 401 without a session and 404 for a position that is not inspected', async () => {
    expect((await call(undefined, '/inspection')).status).toBe(401);
    expect((await call('viewer', '/inspection/board')).status).toBe(404);
    expect((await call('viewer', '/inspection/Not_An_Id')).status).toBe(400);
  });

  it('keeps probe records for keepDays only', async () => {
    const log = new RedisProbeLog(redis, iso.redisPrefix, 1);
    await log.record('trim', { at: new Date(T0).toISOString(), ok: true, durationMs: 1 });
    await log.record('trim', { at: new Date(T0 + 2 * D).toISOString(), ok: true, durationMs: 1 });
    expect((await log.list('trim', new Date(0), new Date(T0 + 3 * D))).map((p) => p.at)).toEqual([new Date(T0 + 2 * D).toISOString()]);
  });

  it('tells the owning section’s chiefs once when an item starts to fail or warn, not again on the next pass', async () => {
    const person = (username: string, section: string, extra: Partial<User> = {}) => ({ username, displayName: username, section, roles: ['section_chief'], disabled: false, ...extra }) as unknown as User;
    const users = [person('chief-office', '县政府办公室'), person('chief-other', '县委宣传部'), person('chief-gone', '县政府办公室', { disabled: true })];
    const deps = { inspections, redis, prefix: iso.redisPrefix, users: async () => users, enqueue: (job: Parameters<typeof enqueueNotification>[1]) => enqueueNotification(queues, job), channels: ['inapp'], dashboardUrl: 'http://127.0.0.1:8600/', now: () => now };
    const first = await checkInspections(deps);
    const told = first.filter((o) => o.told > 0).map((o) => `${o.sourceId}:${o.item}:${o.notice}`);
    expect(told.sort()).toEqual(['site:availability:became-fail', 'site:columns-blank:became-warn', 'site:columns-stale:became-warn', 'site:interaction:became-fail', 'site:misstatements:became-warn', 'weibo:new-media-update:became-fail']);
    const jobs = await queues.notify.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs).toHaveLength(6);
    const delivery = jobs.map((j) => (j.data as { delivery: { recipients: { username: string }[]; message: { title: string; link: string }; subject: { type: string } } }).delivery).find((d) => d.message.title.includes('互动回应差'))!;
    expect(delivery).toMatchObject({ recipients: [{ username: 'chief-office' }], message: { title: '【网站自查·不合格】青山县人民政府门户网站：互动回应差', link: 'http://127.0.0.1:8600/positions?tab=inspection' }, subject: { type: 'source' } });
    expect(await redis.hget(`${iso.redisPrefix}:inspection:last`, 'site:interaction')).toBe('fail');

    const second = await checkInspections(deps);
    expect(second.filter((o) => o.told > 0)).toEqual([]);
    expect(await queues.notify.getJobs(['waiting', 'delayed', 'prioritized'])).toHaveLength(6);
  });
});
