/** The api role: the HTTP API, the dashboard, SSE, and the periodic signing of the audit chain. */
import path from 'node:path';
import type { Server } from 'node:http';
import { repoRoot } from '../../core/paths.js';
import { createLedgerItem } from '../../core/ledger/ledger-actions.js';
import { secretEnvPrefixes } from '../../core/config/secret-env-names.js';
import { QUEUE_NAMES } from '../../pipeline/queues.js';
import { startHeartbeat } from '../../pipeline/redis/heartbeat.js';
import { RedisLoginAttempts } from '../../pipeline/redis/redis-login-attempts.js';
import { RedisLoginRate } from '../../pipeline/redis/redis-login-rate.js';
import { unknownUsernameKey } from '../../core/auth/user.js';
import { EsAlertBoard } from '../../pipeline/elasticsearch/es-alert-board.js';
import { EsPostTrends } from '../../pipeline/elasticsearch/es-post-trends.js';
import { BriefService } from '../../reports/brief-service.js';
import { MeetingService } from '../../reports/meeting-service.js';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { principalResolver } from '../../api/authenticate.js';
import { queueBoard } from '../../api/queue-board.js';
import { healthRouteDocs, healthRoutes } from '../../api/routes/health-routes.js';
import { authRouteDocs, authRoutes } from '../../api/routes/auth-routes.js';
import { alertRouteDocs, alertRoutes } from '../../api/routes/alert-routes.js';
import { liveRouteDocs, liveRoutes } from '../../api/routes/live-routes.js';
import { auditRouteDocs, auditRoutes } from '../../api/routes/audit-routes.js';
import { ingestRouteDocs, ingestRoutes } from '../../api/routes/ingest-routes.js';
import { notificationRouteDocs, notificationRoutes } from '../../api/routes/notification-routes.js';
import { wallRouteDocs, wallRoutes } from '../../api/routes/wall-routes.js';
import { trendsRouteDocs, trendsRoutes } from '../../api/routes/trends-routes.js';
import { userRouteDocs, userRoutes } from '../../api/routes/user-routes.js';
import { tokenRouteDocs, tokenRoutes } from '../../api/routes/token-routes.js';
import { searchRouteDocs, searchRoutes } from '../../api/routes/search-routes.js';
import { pipelineRouteDocs, pipelineRoutes } from '../../api/routes/pipeline-routes.js';
import { briefRoutes, reportRouteDocs, reportRoutes } from '../../api/routes/report-routes.js';
import { meetingRouteDocs, meetingRoutes } from '../../api/routes/meeting-routes.js';
import { ledgerRouteDocs, ledgerRoutes } from '../../api/routes/ledger-routes.js';
import { escalationRouteDocs, escalationRoutes } from '../../api/routes/escalation-routes.js';
import { rosterRouteDocs, rosterRoutes } from '../../api/routes/roster-routes.js';
import { ruleRouteDocs, ruleRoutes } from '../../api/routes/rule-routes.js';
import { sourceRouteDocs, sourceRoutes } from '../../api/routes/source-routes.js';
import { inspectionRouteDocs, inspectionRoutes } from '../../api/routes/inspection-routes.js';
import { createInspectionService, createReportService, serverKeyOf } from '../services.js';
import { crawlStalledSince } from '../../crawlers/shared/source-health.js';
import { readEventState } from '../../pipeline/events/redis-event-clusterer.js';
import type { RoleContext } from './context.js';

export async function startApiRole(ctx: RoleContext): Promise<void> {
  const { config, log, es, redis, prefix, names, audit, users, alerts, ledger, sources, closers } = ctx;
  const inspections = createInspectionService(config, { es, redis, registry: ctx.registry, health: ctx.sourceHealth, now: ctx.now });
  const reports = createReportService(config, es, sources, ctx.sourceHealth, audit, inspections);
  const watchingSince = ctx.now();
  const stalledPositions = async () => {
    const [stored, healths] = await Promise.all([ctx.registry.list(), ctx.sourceHealth.all()]);
    const now = ctx.now();
    const policy = { defaultEverySeconds: config.crawl.everySeconds, minGraceMs: config.crawl.stallAfterMinutes * 60_000, watchingSince };
    return stored.filter(({ source }) => crawlStalledSince(source, healths.find((h) => h.sourceId === source.id), now, policy)).map(({ source }) => source.id);
  };
  await reports.ensure();
  const briefs = new BriefService({
    es,
    indices: { alerts: names.alerts, posts: names.posts, briefs: `${config.elasticsearch.indexPrefix}-briefs` },
    unit: config.unit.name,
    sourceName: (id) => sources.find((s) => s.id === id)?.name ?? id,
    audit,
    now: ctx.now,
  });
  await briefs.ensure();
  const meetings = new MeetingService({
    es,
    index: `${config.elasticsearch.indexPrefix}-meetings`,
    createFollowUp: (input, actor, requestId) => createLedgerItem({ ledger, users, alerts, audit, now: ctx.now }, input, { actor, ...(requestId ? { requestId } : {}) }),
    audit,
    now: ctx.now,
  });
  await meetings.ensure();
  const sessions = new RedisSessionStore(ctx.commands, prefix, config.api.sessionTtlHours * 3600);
  const attempts = new RedisLoginAttempts(redis, prefix, config.auth);
  const loginRate = new RedisLoginRate(redis, prefix, config.auth.loginsPerAddressPerMinute);
  const live = liveRoutes({ subscriber: redis.duplicate(), channel: ctx.liveChannel, resolvePrincipal: principalResolver({ sessions, users, tokens: ctx.tokens }) });
  const app = createApp({
    log,
    sessions,
    users,
    tokens: ctx.tokens,
    routeDocs: [
      ...alertRouteDocs,
      ...authRouteDocs,
      ...userRouteDocs,
      ...tokenRouteDocs,
      ...auditRouteDocs,
      ...ledgerRouteDocs,
      ...ruleRouteDocs,
      ...inspectionRouteDocs,
      ...escalationRouteDocs,
      ...rosterRouteDocs,
      ...searchRouteDocs,
      ...pipelineRouteDocs,
      ...sourceRouteDocs,
      ...notificationRouteDocs,
      ...wallRouteDocs,
      ...trendsRouteDocs,
      ...ingestRouteDocs,
      ...reportRouteDocs,
      ...meetingRouteDocs,
      ...healthRouteDocs,
      ...liveRouteDocs,
    ],
    apiRouters: [
      healthRoutes({ redis, es, queues: ctx.queues, prefix, stalledPositions }),
      authRoutes({
        users,
        sessions,
        attempts,
        loginRate,
        unknownUsernameKey: unknownUsernameKey(serverKeyOf(config)),
        audit,
        lockout: config.auth,
        timeZone: config.unit.timezone,
        secureCookie: false,
        ttlSeconds: config.api.sessionTtlHours * 3600,
      }),
      userRoutes({ users, sessions, attempts, audit }),
      tokenRoutes({ tokens: ctx.tokens, audit }),
      ledgerRoutes({ ledger, users, alerts, audit, now: ctx.now, unitName: config.unit.name, timeZone: config.unit.timezone }),
      alertRoutes({ ...ctx.alerting, unitName: config.unit.name, posts: ctx.posts, desk: ctx.desk }),
      escalationRoutes(ctx.alerting),
      rosterRoutes({ roster: ctx.roster, audit, alerts, now: ctx.now }),
      searchRoutes({ posts: ctx.posts }),
      pipelineRoutes({ deadLetters: ctx.deadLetters, queues: ctx.queues, events: ctx.events, signals: ctx.signals, posts: ctx.posts, liveEvent: (id) => readEventState(redis, prefix, id), audit }),
      sourceRoutes({ registry: ctx.registry, health: ctx.sourceHealth, crawlQueue: ctx.queues.crawl, ...(config.inspection.prober.enabled ? { probes: { queue: ctx.queues.probe, everyMs: config.inspection.prober.everyMinutes * 60_000 } } : {}), audit, defaultEverySeconds: config.crawl.everySeconds, zombieDays: config.crawl.zombieDays, posts: ctx.posts, secretEnvPrefixes: secretEnvPrefixes(config), secretHosts: ctx.secretHosts }),
      inspectionRoutes({ inspections, policy: config.inspection, now: ctx.now }),
      live.router,
      auditRoutes({ audit }),
      ruleRoutes({ rules: () => ctx.rules.current(), refreshRules: ctx.refreshRules, versions: ctx.ruleVersions, posts: ctx.posts, sentiment: ctx.rules.sentiment, now: ctx.now }),
      notificationRoutes({ channels: ctx.channels, deliveries: ctx.deliveries, audit, redis, prefix, env: ctx.env, dashboardUrl: ctx.dashboardUrl, secretEnvPrefixes: secretEnvPrefixes(config), secretHosts: ctx.secretHosts }),
      wallRoutes({ board: new EsAlertBoard(es, names.alerts) }),
      trendsRoutes({ trends: new EsPostTrends(es, names.posts), timeZone: 'Asia/Shanghai' }),
      ingestRoutes({ sources, env: ctx.env, ingest: ctx.queues.ingest, audit }),
      reportRoutes({ reports }),
      briefRoutes({ briefs }),
      meetingRoutes({ meetings }),
    ],
    pageMounts: [{ path: '/admin/queues', handlers: queueBoard(QUEUE_NAMES.map((name) => ctx.queues[name])) }],
    dashboardDir: path.join(repoRoot, 'dist', 'dashboards'),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.api.port, config.api.host, () => resolve(s));
    s.once('error', reject);
  });
  closers.unshift(async () => {
    await live.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  // Every api process signs the chain head periodically; a head already signed is a no-op.
  const checkpoints = setInterval(() => {
    audit.checkpoint().then(
      ({ verify }) => {
        if (!verify.ok) log.error({ firstBroken: verify.firstBroken }, `audit chain broken: ${verify.message}`);
      },
      (err: Error) => log.warn({ err: err.message }, 'audit checkpoint failed'),
    );
  }, config.audit.checkpointEveryMinutes * 60_000);
  checkpoints.unref();
  closers.unshift(async () => clearInterval(checkpoints));
  const heartbeat = startHeartbeat(redis, prefix, 'api');
  closers.unshift(() => heartbeat.stop());
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  log.info({ url: `http://${config.api.host}:${port}/` }, 'api listening');
}
