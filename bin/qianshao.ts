#!/usr/bin/env node
/**
 * The one composition root: config → logger → clients → services → roles.
 * `qianshao [all|api|worker|crawler] [--demo]` runs roles; `qianshao hash-password` prints a hash;
 * `qianshao audit verify|checkpoint` checks or signs the audit chain.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Server } from 'node:http';
import { loadConfig, ConfigError } from '../core/config/load-config.js';
import type { Config } from '../core/config/config-schema.js';
import { createLogger, type Logger } from '../core/logger.js';
import { configDir, repoRoot } from '../core/paths.js';
import { loadSources, type Source } from '../core/sources/source.js';
import { RulesRegistry } from '../core/rules/rules-registry.js';
import { classifyCommand, rulesCheck } from './rules-commands.js';
import { ruleRoutes } from '../api/routes/rule-routes.js';
import { loadUsers, type User } from '../core/auth/user.js';
import { hashPassword } from '../core/auth/password.js';
import { createEsClient } from '../pipeline/elasticsearch/es-client.js';
import { ensureIndices, indexNames } from '../pipeline/elasticsearch/indices.js';
import { EsPostStore } from '../pipeline/elasticsearch/es-post-store.js';
import { BulkIndexer } from '../pipeline/elasticsearch/bulk-indexer.js';
import { EsEventStore, EsSignalStore } from '../pipeline/elasticsearch/es-event-store.js';
import { RedisDeadLetters } from '../pipeline/redis/dead-letters.js';
import { wireIngest } from '../pipeline/ingest/wire-ingest.js';
import { EsAlertStore } from '../pipeline/elasticsearch/es-alert-store.js';
import { EsAuditLog } from '../pipeline/elasticsearch/es-audit-log.js';
import { EsTokenStore, EsUserStore } from '../pipeline/elasticsearch/es-user-store.js';
import { RedisLoginAttempts } from '../pipeline/redis/redis-login-attempts.js';
import { systemActor } from '../core/audit/audit-log.js';
import { toPublicUser } from '../core/auth/user.js';
import { loadCheckpointKey } from '../core/audit/checkpoint-key.js';
import { ledgerRouteDocs, ledgerRoutes } from '../api/routes/ledger-routes.js';
import { EsLedgerStore } from '../pipeline/elasticsearch/es-ledger-store.js';
import { startLedgerDeadlineChecks } from '../pipeline/ledger/ledger-deadlines.js';
import { enqueueNotification } from '../pipeline/notify/enqueue-notification.js';
import { QUEUE_NAMES, createQueues, createRedis } from '../pipeline/queues.js';
import { startHeartbeat, type Role } from '../pipeline/redis/heartbeat.js';
import { createSegmenter } from '../pipeline/ingest/segment.js';
import { createClassifier } from '../pipeline/ingest/classify.js';
import { startPipelineRole } from '../pipeline/pipeline-role.js';
import { startCrawlerRole } from '../crawlers/crawler-role.js';
import { createApiCollectors } from '../crawlers/api-collectors.js';
import { RedisSourceRegistry } from '../crawlers/shared/source-registry.js';
import { RedisSourceHealthStore } from '../crawlers/shared/source-health.js';
import { DiskEvidenceStore } from '../crawlers/shared/evidence-store.js';
import { sourceRoutes } from '../api/routes/source-routes.js';
import { crawlCommand, CRAWL_USAGE } from './crawl-command.js';
import { createApp } from '../api/app.js';
import { RedisSessionStore } from '../api/sessions.js';
import { healthRoutes } from '../api/routes/health-routes.js';
import { authRouteDocs, authRoutes } from '../api/routes/auth-routes.js';
import { alertRoutes } from '../api/routes/alert-routes.js';
import { liveRoutes } from '../api/routes/live-routes.js';
import { auditRouteDocs, auditRoutes } from '../api/routes/audit-routes.js';
import { ingestRoutes } from '../api/routes/ingest-routes.js';
import { notificationRoutes } from '../api/routes/notification-routes.js';
import { loadChannels, type Channel } from '../core/notify/channel.js';
import { EsChannelStore } from '../pipeline/notify/es-channel-store.js';
import { EsDeliveryLog } from '../pipeline/notify/es-delivery-log.js';
import { startNotifyWorker } from '../pipeline/notify/notify-worker.js';
import { wallRoutes } from '../api/routes/wall-routes.js';
import { trendsRoutes } from '../api/routes/trends-routes.js';
import { EsPostTrends } from '../pipeline/elasticsearch/es-post-trends.js';
import { queueBoard } from '../api/queue-board.js';
import { EsAlertBoard } from '../pipeline/elasticsearch/es-alert-board.js';
import { userRouteDocs, userRoutes } from '../api/routes/user-routes.js';
import { tokenRouteDocs, tokenRoutes } from '../api/routes/token-routes.js';
import { searchRoutes } from '../api/routes/search-routes.js';
import { pipelineRoutes } from '../api/routes/pipeline-routes.js';
import { briefRoutes, reportRoutes } from '../api/routes/report-routes.js';
import { BriefService } from '../reports/brief-service.js';
import { MeetingService } from '../reports/meeting-service.js';
import { startReportSchedules } from '../reports/report-schedules.js';
import { can } from '../core/auth/permissions.js';
import { meetingRoutes } from '../api/routes/meeting-routes.js';
import { createLedgerItem } from '../core/ledger/ledger-actions.js';
import { ReportService } from '../reports/report-service.js';
import { renderDocx } from '../reports/render/docx.js';
import { renderMarkdown } from '../reports/render/markdown.js';
import { renderXlsx } from '../reports/render/xlsx.js';
import { parseScope } from '../core/reports/report.js';
import { DEMO_CREDENTIALS, startDemoSite } from '../tests/fixtures/demo-site/server.js';
import { loadAlertingFiles } from '../core/escalation/alerting-files.js';
import { EsRosterStore } from '../pipeline/elasticsearch/es-roster-store.js';
import { AlertDesk } from '../pipeline/alert/alert-desk.js';
import { BullClockScheduler } from '../pipeline/escalate/clock-scheduler.js';
import { startEscalateRole } from '../pipeline/escalate/escalate-role.js';
import { escalationRoutes } from '../api/routes/escalation-routes.js';
import { rosterRoutes } from '../api/routes/roster-routes.js';
import { startDingTalkRobot, startWeComRobot } from '../tests/fixtures/receivers/robots.js';
import { StartupError, checkElasticsearch, checkPortFree, checkRedis, redact } from './preflight.js';

type Closer = () => Promise<void>;

const USAGE = `usage: qianshao [all|api|worker|crawler] [--demo]
       qianshao hash-password <password>
       qianshao audit verify|checkpoint
       qianshao classify [--rules <dir>] < posts.jsonl > results.jsonl
       qianshao rules check [<dir>]
       ${CRAWL_USAGE.replace('usage: ', '')}
       qianshao report --period 2026-Q3 [--scope unit] [--format docx|xlsx|md] --out <file>`;

function rolesOf(arg: string | undefined): Role[] {
  switch (arg ?? 'all') {
    case 'all':
      return ['api', 'worker', 'crawler'];
    case 'api':
    case 'worker':
    case 'crawler':
      return [arg as Role];
    default:
      throw new StartupError(`unknown role "${arg}".\n${USAGE}`);
  }
}

function loadUnitFiles(config: Config, demoSiteUrl: string): { sources: Source[]; users: User[]; channels: Channel[] } {
  const dir = config.demo.enabled ? path.join(configDir, 'demo') : configDir;
  const sourcesFile = path.join(dir, 'sources.yaml');
  const usersFile = path.join(dir, 'users.yaml');
  for (const file of [sourcesFile, usersFile]) {
    if (!existsSync(file)) throw new StartupError(`${file} is missing. Copy it from config/demo/ and adapt it, or start with --demo.`);
  }
  const channelsFile = path.join(dir, 'channels.yaml');
  // Without a channels file, staff still get in-app notifications.
  const channels: Channel[] = existsSync(channelsFile) ? loadChannels(channelsFile) : [{ id: 'inapp', name: '站内通知', type: 'inapp', enabled: true }];
  return { sources: loadSources(sourcesFile, { DEMO_SITE_URL: demoSiteUrl }), users: loadUsers(usersFile), channels };
}

function publicUrl(config: Config): string {
  return config.api.publicUrl ?? `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}/`;
}

function createAuditLog(config: Config, es: ReturnType<typeof createEsClient>, redis: ReturnType<typeof createRedis>): EsAuditLog {
  const names = indexNames(config.elasticsearch.indexPrefix);
  const keyFile = path.resolve(repoRoot, config.audit.checkpointKeyFile);
  return new EsAuditLog({
    es,
    redis,
    prefix: config.redis.prefix,
    index: names.audit,
    checkpointIndex: names.auditCheckpoints,
    checkpointKey: loadCheckpointKey({ secret: config.audit.checkpointKey, file: keyFile }),
  });
}

/** `qianshao audit verify` (exit 0 when the chain holds, 2 when broken) and `qianshao audit checkpoint`. */
async function auditCommand(sub: string | undefined, config: Config): Promise<number> {
  if (sub !== 'verify' && sub !== 'checkpoint') throw new StartupError(`usage: qianshao audit verify|checkpoint`);
  const redis = createRedis(config.redis.url);
  redis.on('error', () => undefined);
  const es = createEsClient(config.elasticsearch);
  try {
    await checkElasticsearch(es, config.elasticsearch.url);
    await ensureIndices(es, indexNames(config.elasticsearch.indexPrefix));
    const audit = createAuditLog(config, es, redis);
    const result = sub === 'verify' ? await audit.verify() : (await audit.checkpoint()).verify;
    if (result.ok) {
      console.log(`审计链完整 (audit chain intact): ${result.records} records${result.head ? `, head #${result.head.seq} ${result.head.hash}` : ''}`);
      if (sub === 'checkpoint' && result.head) console.log(`signed checkpoint at #${result.head.seq}`);
      return 0;
    }
    console.log(`审计链已损坏 (audit chain broken) at record #${result.firstBroken.seq} (${result.firstBroken.reason}): ${result.message}`);
    return 2;
  } finally {
    await es.close();
    redis.disconnect();
  }
}

function createReportService(config: Config, es: ReturnType<typeof createEsClient>, sources: readonly Source[], health: RedisSourceHealthStore, audit?: EsAuditLog): ReportService {
  const names = indexNames(config.elasticsearch.indexPrefix);
  return new ReportService({
    es,
    indices: { posts: names.posts, alerts: names.alerts, events: names.events, signals: names.signals, ledger: names.ledger, reports: `${config.elasticsearch.indexPrefix}-reports` },
    unit: config.unit.name,
    sources: () => sources.map((s) => ({ id: s.id, name: s.name })),
    gaps: async () => {
      const now = new Date().toISOString();
      return (await health.all()).flatMap((h) => h.gaps.map((g) => ({ sourceId: h.sourceId, from: g.from, to: g.to ?? now, cause: g.errorClass })));
    },
    zombieDays: config.crawl.zombieDays,
    ...(audit ? { audit } : {}),
    now: () => new Date(),
  });
}

/** `qianshao report --period 2026-Q3 --scope unit --format docx|xlsx|md --out <file>`: needs Elasticsearch only. */
async function reportCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { period: { type: 'string' }, scope: { type: 'string', default: 'unit' }, format: { type: 'string', default: 'docx' }, out: { type: 'string' }, demo: { type: 'boolean' } }, allowPositionals: true });
  const format = values.format;
  if (!values.period || !values.out || (format !== 'docx' && format !== 'xlsx' && format !== 'md')) {
    throw new StartupError('usage: qianshao report --period 2026-Q3 [--scope unit|source:<id>|domain:<name>] [--format docx|xlsx|md] --out <file>');
  }
  let scope;
  try {
    scope = parseScope(values.scope);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const dir = config.demo.enabled ? path.join(configDir, 'demo') : configDir;
  const sourcesFile = path.join(dir, 'sources.yaml');
  const sources = existsSync(sourcesFile) ? loadSources(sourcesFile, { DEMO_SITE_URL: `http://127.0.0.1:${config.demo.sitePort}` }) : [];
  const es = createEsClient(config.elasticsearch);
  // Coverage gaps live with the positions' health in Redis: a report without them could hide silent holes.
  const redis = createRedis(config.redis.url);
  redis.on('error', () => undefined);
  try {
    await checkElasticsearch(es, config.elasticsearch.url);
    await checkRedis(redis, config.redis.url);
    const service = createReportService(config, es, sources, new RedisSourceHealthStore(redis, config.redis.prefix));
    await service.ensure();
    const report = await service.generate(values.period, scope);
    const body = format === 'docx' ? await renderDocx(report) : format === 'xlsx' ? await renderXlsx(report) : renderMarkdown(report);
    writeFileSync(values.out, body);
    console.log(`${report.scopeLabel}${report.period.label}：${report.empty ? '本期无数据（报告已注明）' : '报告已生成'} → ${values.out}`);
    return 0;
  } finally {
    await es.close();
    redis.disconnect();
  }
}

async function start(roles: Role[], config: Config, log: Logger): Promise<Closer[]> {
  const closers: Closer[] = [];
  const prefix = config.redis.prefix;
  const demoSiteUrl = `http://127.0.0.1:${config.demo.sitePort}`;
  const { sources, users, channels: channelSeed } = loadUnitFiles(config, demoSiteUrl);
  const rules = RulesRegistry.load(path.join(configDir, 'rules'), { log });
  rules.watch();
  closers.push(async () => rules.close());

  const redis = createRedis(config.redis.url);
  closers.push(async () => redis.disconnect());
  redis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis connection error'));
  await checkRedis(redis, config.redis.url);
  const es = createEsClient(config.elasticsearch);
  closers.push(() => es.close());
  await checkElasticsearch(es, config.elasticsearch.url);
  const names = indexNames(config.elasticsearch.indexPrefix);
  await ensureIndices(es, names);
  if (roles.includes('api')) await checkPortFree(config.api.host, config.api.port, 'API_PORT');
  if (roles.includes('crawler') && config.demo.enabled) await checkPortFree('127.0.0.1', config.demo.sitePort, 'DEMO_SITE_PORT');

  const queues = createQueues(redis, prefix);
  closers.unshift(() => queues.close());
  // One bulk indexer per process: every Elasticsearch write of the pipeline shares its batches.
  const bulk = new BulkIndexer(es, { flushMs: config.pipeline.bulkFlushMs });
  const posts = new EsPostStore(es, names.posts, bulk);
  const events = new EsEventStore(es, names.events, bulk);
  const signals = new EsSignalStore(es, names.signals, bulk);
  const deadLetters = new RedisDeadLetters(redis, prefix);
  // Positions: YAML seeds the registry; edits through the API live in Redis and survive restarts.
  const registry = new RedisSourceRegistry(redis, prefix);
  await registry.seed(sources);
  const sourceHealth = new RedisSourceHealthStore(redis, prefix);
  const alerts = new EsAlertStore(es, names.alerts);
  const audit = createAuditLog(config, es, redis);
  const userStore = new EsUserStore(es, names.users);
  const tokens = new EsTokenStore(es, names.tokens);
  const ledger = new EsLedgerStore(es, names.ledger);
  // Accounts in the YAML that do not exist yet are created; accounts changed through the API keep their changes.
  for (const username of await userStore.seed(users)) {
    const seeded = users.find((u) => u.username === username)!;
    await audit.record({ actor: systemActor('seed'), entity: { type: 'user', id: username }, action: 'user.create', after: toPublicUser(seeded), reason: 'seeded from users.yaml' });
  }
  const liveChannel = `${prefix}:live:alerts`;
  const channels = new EsChannelStore(es, names.channels);
  await channels.ensure(channelSeed);
  const deliveries = new EsDeliveryLog(es, names.notifications);
  await deliveries.ensure();
  // Channel secrets come from env; the demo adds a local DingTalk robot that stands in for the duty group.
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (config.demo.enabled && roles.some((r) => r === 'worker' || r === 'api')) {
    const robot = await startDingTalkRobot({ accessToken: 'demo-duty-group', secret: 'SEC-demo-duty-group' });
    const wecom = await startWeComRobot({ key: 'demo-leaders-group' });
    closers.push(() => robot.close(), () => wecom.close());
    Object.assign(env, { DEMO_DINGTALK_URL: robot.url, DEMO_DINGTALK_SECRET: 'SEC-demo-duty-group', DEMO_WECOM_URL: wecom.url });
  }
  // The demo's WeChat account and push source take their credentials from env, like real ones.
  if (config.demo.enabled) Object.assign(env, DEMO_CREDENTIALS, { ...process.env });

  // Alerting: the policy, calendar and plans from YAML; the roster seeded once, then kept in Elasticsearch.
  const alerting = loadAlertingFiles(configDir, config.demo.enabled ? path.join(configDir, 'demo') : configDir);
  const roster = new EsRosterStore(es, names.roster);
  await roster.seed(alerting.roster);
  const now = () => new Date();
  const clocks = new BullClockScheduler(queues.escalate, now);
  const desk = new AlertDesk({
    alerts,
    audit,
    clocks,
    roster,
    enqueueNotifications: async (jobs) => void (await queues.notify.addBulk(jobs.map((j) => ({ name: 'deliver', data: { delivery: j }, opts: { jobId: j.id } })))),
    publish: async (change) => void (await redis.publish(liveChannel, JSON.stringify(change))),
    policy: alerting.policy,
    calendar: alerting.calendar,
    timeZone: config.unit.timezone,
    linkBase: publicUrl(config),
    now,
    log,
  });
  const alertingContext = { policy: alerting.policy, calendar: alerting.calendar, plans: alerting.plans, roster, alerts, timeZone: config.unit.timezone, now };

  if (roles.includes('api')) {
    const reports = createReportService(config, es, sources, sourceHealth, audit);
    await reports.ensure();
    const briefs = new BriefService({
      es,
      indices: { alerts: names.alerts, posts: names.posts, briefs: `${config.elasticsearch.indexPrefix}-briefs` },
      unit: config.unit.name,
      sourceName: (id) => sources.find((s) => s.id === id)?.name ?? id,
      audit,
      now: () => new Date(),
    });
    await briefs.ensure();
    const meetings = new MeetingService({
      es,
      index: `${config.elasticsearch.indexPrefix}-meetings`,
      createFollowUp: (input, actor, requestId) => createLedgerItem({ ledger, users: userStore, alerts, audit, now: () => new Date() }, input, { actor, ...(requestId ? { requestId } : {}) }),
      audit,
      now: () => new Date(),
    });
    await meetings.ensure();
    const sessions = new RedisSessionStore(redis, prefix, config.api.sessionTtlHours * 3600);
    const attempts = new RedisLoginAttempts(redis, prefix, config.auth);
    const live = liveRoutes({ subscriber: redis.duplicate(), channel: liveChannel });
    const app = createApp({
      log,
      sessions,
      users: userStore,
      tokens,
      routeDocs: [...authRouteDocs, ...userRouteDocs, ...tokenRouteDocs, ...auditRouteDocs, ...ledgerRouteDocs],
      apiRouters: [
        healthRoutes({ redis, es, queues, prefix }),
        authRoutes({
          users: userStore,
          sessions,
          attempts,
          audit,
          lockout: config.auth,
          timeZone: config.unit.timezone,
          secureCookie: false,
          ttlSeconds: config.api.sessionTtlHours * 3600,
        }),
        userRoutes({ users: userStore, sessions, attempts, audit }),
        tokenRoutes({ tokens, audit }),
        ledgerRoutes({ ledger, users: userStore, alerts, audit, now: () => new Date(), unitName: config.unit.name, timeZone: config.unit.timezone }),
        alertRoutes({ ...alertingContext, posts, desk }),
        escalationRoutes(alertingContext),
        rosterRoutes({ roster, audit, alerts, now }),
        searchRoutes({ posts }),
        pipelineRoutes({ deadLetters, queues, events, signals, posts, audit }),
        sourceRoutes({ registry, health: sourceHealth, crawlQueue: queues.crawl, audit, defaultEverySeconds: config.crawl.everySeconds, zombieDays: config.crawl.zombieDays }),
        live.router,
        auditRoutes({ audit }),
        ruleRoutes({ rules: () => rules.current(), posts, sentiment: rules.sentiment, now: () => new Date() }),
        notificationRoutes({ channels, deliveries, audit, redis, prefix, env, dashboardUrl: publicUrl(config) }),
        wallRoutes({ board: new EsAlertBoard(es, names.alerts) }),
        trendsRoutes({ trends: new EsPostTrends(es, names.posts), timeZone: 'Asia/Shanghai' }),
        ingestRoutes({ sources, env, ingest: queues.ingest, audit }),
        reportRoutes({ reports }),
        briefRoutes({ briefs }),
        meetingRoutes({ meetings }),
      ],
      pageMounts: [{ path: '/admin/queues', handlers: queueBoard(QUEUE_NAMES.map((name) => queues[name])) }],
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

  if (roles.includes('worker')) {
    const deadlines = await startLedgerDeadlineChecks({
      ledger,
      users: userStore,
      audit,
      enqueue: (job) => enqueueNotification(queues, job),
      channels: config.ledger.channels,
      policy: config.ledger,
      dashboardUrl: publicUrl(config),
      now: () => new Date(),
      connection: redis,
      prefix,
      everyMs: config.ledger.checkEverySeconds * 1000,
      log,
    });
    closers.unshift(() => deadlines.close());
    // New words of reloaded rules join jieba's (process-wide) user dictionary.
    rules.onSwap((c) => void createSegmenter(c.ruleSet.words));
    const ingest = wireIngest({
      redis,
      prefix,
      segment: createSegmenter(rules.current().ruleSet.words),
      classify: createClassifier(() => rules.current()),
      posts,
      events,
      signals,
      queues,
      eventWindowHours: config.pipeline.eventWindowHours,
      signalThresholds: config.pipeline.signals,
      now: () => new Date(),
    });
    const pipeline = startPipelineRole({
      ingest,
      posts,
      desk,
      events,
      queues,
      deadLetters,
      connection: redis,
      prefix,
      ingestConcurrency: config.pipeline.ingestConcurrency,
      log,
    });
    closers.unshift(() => pipeline.close());
    const notifier = startNotifyWorker({ connection: redis, prefix, queues, channels, outcomes: deliveries, dashboardUrl: publicUrl(config), env, log, now: () => new Date() });
    closers.unshift(() => notifier.close());
    const reportSchedules = await startReportSchedules({
      connection: redis,
      prefix,
      schedules: config.reports.schedules,
      timeZone: config.unit.timezone,
      reports: createReportService(config, es, sources, sourceHealth, audit),
      queues,
      recipients: async (usernames) =>
        (await userStore.list())
          .filter((u) => !u.disabled && (usernames.length > 0 ? usernames.includes(u.username) : can(u.roles, 'reports.write')))
          .map((u) => ({ username: u.username, displayName: u.displayName })),
      dashboardUrl: publicUrl(config),
      log,
      now: () => new Date(),
    });
    closers.unshift(() => reportSchedules.close());
    const escalation = startEscalateRole({
      desk,
      alerts,
      queue: queues.escalate,
      clocks,
      connection: redis,
      prefix,
      concurrency: config.alerting.escalateConcurrency,
      reconcileEverySeconds: config.alerting.reconcileEverySeconds,
      log,
      now,
    });
    closers.unshift(() => escalation.close());
    const heartbeat = startHeartbeat(redis, prefix, 'worker');
    closers.unshift(() => heartbeat.stop());
  }

  if (roles.includes('crawler')) {
    if (config.demo.enabled) {
      const site = await startDemoSite({ port: config.demo.sitePort, live: { intervalMs: config.demo.liveIntervalSeconds * 1000 } });
      closers.push(() => site.close());
      log.info({ url: site.url }, 'demo website running');
    }
    const crawler = await startCrawlerRole({
      registry,
      health: sourceHealth,
      healthPolicy: { alertAfterFailures: config.crawl.alertAfterFailures, remindEveryMinutes: config.crawl.remindEveryMinutes },
      evidence: new DiskEvidenceStore(path.resolve(repoRoot, config.crawl.evidenceDir)),
      queues,
      connection: redis,
      prefix,
      defaultEverySeconds: config.crawl.everySeconds,
      maxRequestsPerRun: config.crawl.maxRequestsPerRun,
      timeoutSeconds: config.crawl.requestTimeoutSeconds,
      log,
      collectors: createApiCollectors({ redis, prefix }),
      env,
      recordReport: async (report) => void (await redis.hset(`${prefix}:crawl:last`, report.sourceId, JSON.stringify(report))),
    });
    closers.unshift(() => crawler.close());
    const heartbeat = startHeartbeat(redis, prefix, 'crawler');
    closers.unshift(() => heartbeat.stop());
  }
  return closers;
}

async function shutdown(closers: Closer[], log: Logger): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'error while shutting down');
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => !a.startsWith('--'));
  if (args[0] === 'hash-password') {
    if (!args[1]) throw new StartupError('usage: qianshao hash-password <password>');
    console.log(await hashPassword(args[1]));
    return 0;
  }
  if (args[0] === 'audit') {
    return auditCommand(args[1], loadConfig(process.env));
  }
  // Pure sub-commands: rule packs from a folder, no service touched.
  if (args[0] === 'classify') return classifyCommand(argv, process);
  if (args[0] === 'rules') {
    if (args[1] !== 'check') throw new StartupError('usage: qianshao rules check [<dir>]');
    return rulesCheck(argv, process);
  }
  // One crawl of one position, no queue or service: items as JSON lines.
  if (args[0] === 'crawl') return crawlCommand(argv, process);
  if (args[0] === 'report') {
    return reportCommand(argv.slice(1), loadConfig(argv.includes('--demo') ? { ...process.env, DEMO: 'true' } : process.env));
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const roles = rolesOf(args[0]);
  const config = loadConfig(argv.includes('--demo') ? { ...process.env, DEMO: 'true' } : process.env);
  const log = createLogger(config.log.level, { roles: roles.join(',') });

  const closers: Closer[] = [];
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took over 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    void shutdown(closers, log).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    closers.push(...(await start(roles, config, log)));
  } catch (err) {
    await shutdown(closers, log);
    throw err;
  }
  if (roles.includes('api')) {
    const url = `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}/`;
    console.log(`\n前哨 Qianshao is running (${roles.join(', ')}).`);
    console.log(`  Dashboard: ${url}`);
    if (config.demo.enabled) {
      console.log(`  Demo login: admin / qianshao-demo   (also duty, chief, leader with the same password)`);
      console.log(`  Demo website (the unit's positions): http://127.0.0.1:${config.demo.sitePort}/`);
    }
    console.log(`  Redis: ${redact(config.redis.url)}   Elasticsearch: ${redact(config.elasticsearch.url)}\n`);
  }
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof StartupError || err instanceof ConfigError) console.error(`qianshao: ${err.message}`);
    else if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.includes('_')) console.error(`qianshao: ${err.message}`);
    else console.error('qianshao: failed to start:', err);
    process.exit(1);
  },
);
