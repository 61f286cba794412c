import { Router } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { NotFoundError } from '../../core/errors.js';
import type { CrawlJob, ProbeJob } from '../../pipeline/queues.js';
import { scheduleProbe } from '../../crawlers/probe/prober.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { requestCrawl, scheduleSource } from '../../crawlers/crawler-role.js';
import { describeHealth, emptyHealth, type SourceHealthStore } from '../../crawlers/shared/source-health.js';
import { parseSource, type SourceRegistry } from '../../crawlers/shared/source-registry.js';
import { actorOf, requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';
import { SourceSchema, sourceSecretEnvNames, sourceSentSecrets, type Source } from '../../core/sources/source.js';
import { assertSecretEnvNames } from '../../core/config/secret-env-names.js';
import { assertSecretBindings, type SecretHosts } from '../../core/config/secret-hosts.js';

export interface SourceRoutesDeps {
  registry: SourceRegistry;
  health: SourceHealthStore;
  crawlQueue: Queue<CrawlJob>;
  /** The availability prober's queue and interval: a created or edited website is probed without a restart. */
  probes?: { queue: Queue<ProbeJob>; everyMs: number };
  audit: Pick<AuditLog, 'record'>;
  defaultEverySeconds: number;
  zombieDays: number;
  /** Deleted posts per position (删除数), counted from the posts' deletion marks. */
  posts: Pick<PostStore, 'deletionsBySource'>;
  /** A credential's env var named through the API must start with one of these (`secrets.envPrefixes`). */
  secretEnvPrefixes: readonly string[];
  /** Where each secret may be sent (`secrets.hosts`): one named through the API needs a binding covering the source's hosts. */
  secretHosts: SecretHosts;
  now?: () => Date;
}

/** The window the positions' health counts deletions over. */
const DELETIONS_WINDOW_DAYS = 7;

const CrawlNowSchema = z.object({ screenshot: z.boolean().default(false) }).strict();
const VersionSchema = z.object({ version: z.coerce.number().int().positive().optional() });

/**
 * Positions (阵地) through the API: read with `sources.read`; created and changed with
 * `sources.write` (section chief, admin), each change audited and its schedule applied at once (no
 * restart); "crawl now" with `crawl.run`. `/sources/health` is every position's collection health.
 * Credentials appear only as the names of env vars; their values never leave the crawler. Those
 * names must start with one of `secretEnvPrefixes`, and each must be bound (`secretHosts`) to every
 * host the source sends it to: the crawler sends a credential to the source's hosts, which the
 * editor chooses. Both are checked on the source as it stands after the change.
 */
export function sourceRoutes(deps: SourceRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const assertSecretsAllowed = (source: Source) => {
    assertSecretEnvNames(sourceSecretEnvNames(source), deps.secretEnvPrefixes);
    assertSecretBindings(`阵地 ${source.id}`, sourceSentSecrets(source), deps.secretHosts);
  };

  router.get('/sources', requirePermission('sources.read'), async (_req, res) => {
    res.json({ sources: await deps.registry.list() });
  });

  router.get('/sources/health', requirePermission('sources.read'), async (_req, res) => {
    const at = now();
    const [sources, records, deletions] = await Promise.all([
      deps.registry.list(),
      deps.health.all(),
      deps.posts.deletionsBySource(new Date(at.getTime() - DELETIONS_WINDOW_DAYS * 86_400_000), at),
    ]);
    const byId = new Map(records.map((h) => [h.sourceId, h]));
    res.json({
      sources: sources.map(({ source }) => ({
        name: source.name,
        kind: source.kind,
        owner: source.owner,
        enabled: source.enabled,
        ...describeHealth(byId.get(source.id) ?? emptyHealth(source.id), at, source.zombieDays ?? deps.zombieDays),
        deletions: { days: DELETIONS_WINDOW_DAYS, count: deletions[source.id] ?? 0 },
      })),
    });
  });

  router.get('/sources/:id', requirePermission('sources.read'), async (req, res) => {
    const stored = await deps.registry.get(String(req.params.id));
    if (!stored) throw new NotFoundError(`no source ${req.params.id}`);
    res.json(stored);
  });

  router.post('/sources', requirePermission('sources.write'), async (req, res) => {
    assertSecretsAllowed(parseSource(req.body));
    const stored = await deps.registry.create(req.body, req.user!.username);
    // Recorded as soon as it is stored: a scheduling that fails after must not leave the change unrecorded.
    await deps.audit.record({ actor: actorOf(req), entity: { type: 'source', id: stored.source.id }, action: 'source.create', after: stored.source, ...(req.requestId ? { requestId: req.requestId } : {}) });
    await scheduleSource(deps.crawlQueue, stored.source, deps.defaultEverySeconds);
    if (deps.probes) await scheduleProbe(deps.probes.queue, stored.source, deps.probes.everyMs);
    res.status(201).json(stored);
  });

  router.put('/sources/:id', requirePermission('sources.write'), async (req, res) => {
    const id = String(req.params.id);
    const body = { ...((req.body ?? {}) as Record<string, unknown>) };
    const ifMatch = req.headers['if-match']?.replace(/"/g, '');
    const { version } = parseBody(VersionSchema, { version: ifMatch ?? body.version });
    delete body.version;
    assertSecretsAllowed(parseSource(body));
    const { before, after } = await deps.registry.update(id, body, req.user!.username, version);
    await deps.audit.record({ actor: actorOf(req), entity: { type: 'source', id }, action: 'source.update', before: before.source, after: after.source, ...(req.requestId ? { requestId: req.requestId } : {}) });
    await scheduleSource(deps.crawlQueue, after.source, deps.defaultEverySeconds);
    if (deps.probes) await scheduleProbe(deps.probes.queue, after.source, deps.probes.everyMs);
    res.json(after);
  });

  router.post('/sources/:id/crawl', requirePermission('crawl.run'), async (req, res) => {
    const id = String(req.params.id);
    const { screenshot } = parseBody(CrawlNowSchema, req.body);
    if (!(await deps.registry.get(id))) throw new NotFoundError(`no source ${id}`);
    const jobId = await requestCrawl(deps.crawlQueue, id, { screenshot, by: req.user!.username });
    await deps.audit.record({ actor: actorOf(req), entity: { type: 'source', id }, action: 'source.crawl_now', after: { jobId, screenshot }, ...(req.requestId ? { requestId: req.requestId } : {}) });
    res.status(202).json({ jobId });
  });

  return router;
}

const SourceIdParamsSchema = z.object({ id: z.string().min(1).max(200) });
export const sourceRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/sources', tag: 'sources', summary: '阵地列表（凭据只列环境变量名）' },
  { method: 'get', path: '/sources/health', tag: 'sources', summary: '各阵地采集健康度与近 7 天删除数' },
  { method: 'get', path: '/sources/:id', tag: 'sources', summary: '阵地详情及版本', params: SourceIdParamsSchema },
  { method: 'post', path: '/sources', tag: 'sources', summary: '新建阵地（即时排程；留痕）', body: SourceSchema, responses: { '201': '已创建', '409': '已有同编号的阵地' } },
  {
    method: 'put',
    path: '/sources/:id',
    tag: 'sources',
    summary: '修改阵地（If-Match 或 version 为编辑起点；即时排程；留痕）',
    params: SourceIdParamsSchema,
    body: SourceSchema,
    responses: { '200': '已修改', '409': '阵地已被他人修改' },
  },
  { method: 'post', path: '/sources/:id/crawl', tag: 'sources', summary: '立即采集（可附截图）', params: SourceIdParamsSchema, body: CrawlNowSchema, responses: { '202': '已排队' } },
];
