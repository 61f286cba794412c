/**
 * What every role shares in one process: config files, clients, stores, the audit log and the
 * alert desk. Built once; each role takes what it needs.
 */
import path from 'node:path';
import type { Config } from '../../core/config/config-schema.js';
import type { Logger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import { RulePackVersions } from '../../core/rules/rule-pack-versions.js';
import { systemActor } from '../../core/audit/audit-log.js';
import { toPublicUser } from '../../core/auth/user.js';
import { loadAlertingFiles } from '../../core/escalation/alerting-files.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { EsAlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import { EsTokenStore, EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { EsLedgerStore } from '../../pipeline/elasticsearch/es-ledger-store.js';
import { EsRosterStore } from '../../pipeline/elasticsearch/es-roster-store.js';
import { EsRulePackStore } from '../../pipeline/elasticsearch/es-rule-pack-store.js';
import { publishRuleChanges, startRulesSync } from '../../pipeline/rules/rules-sync.js';
import { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { RedisUnsettledWrites } from '../../pipeline/redis/redis-unsettled-writes.js';
import { startRedisEpoch } from '../../pipeline/redis/redis-epoch.js';
import { Queue } from 'bullmq';
import { createQueues, createRedis, type EscalateJob } from '../../pipeline/queues.js';
import type { Role } from '../../pipeline/redis/heartbeat.js';
import { EsChannelStore } from '../../pipeline/notify/es-channel-store.js';
import { EsDeliveryLog } from '../../pipeline/notify/es-delivery-log.js';
import { AlertDesk } from '../../pipeline/alert/alert-desk.js';
import { BullClockScheduler } from '../../pipeline/escalate/clock-scheduler.js';
import { RedisSourceRegistry } from '../../crawlers/shared/source-registry.js';
import { RedisSourceHealthStore } from '../../crawlers/shared/source-health.js';
import { DEMO_CREDENTIALS } from '../../tests/fixtures/demo-site/server.js';
import { startDingTalkRobot, startWeComRobot } from '../../tests/fixtures/receivers/robots.js';
import { checkElasticsearch, checkPortFree, checkRedis } from '../preflight.js';
import { createAuditLog, loadUnitFiles, publicUrl, secretHostsOf, unitDir } from '../services.js';

export type Closer = () => Promise<void>;

export type RoleContext = Awaited<ReturnType<typeof createContext>>;

/**
 * Connects, checks and seeds. `closers` run in order at shutdown: roles put theirs in front
 * (`unshift`), so workers stop before the clients they use.
 */
export async function createContext(roles: readonly Role[], config: Config, log: Logger, closers: Closer[]) {
  const prefix = config.redis.prefix;
  const { sources, users, channels: channelSeed } = loadUnitFiles(config);
  const redis = createRedis(config.redis.url);
  closers.push(async () => redis.disconnect());
  // Commands of concurrent requests leave in one write per event-loop turn (sessions, the audit
  // log's lock, live publishes): on the acknowledge path each write cost ~40 µs of CPU. BullMQ keeps
  // its own connection (`redis`), which is never auto-pipelined.
  const commands = createRedis(config.redis.url, { autoPipelining: true });
  closers.push(async () => commands.disconnect());
  commands.on('error', (err: Error) => log.debug({ err: err.message }, 'redis connection error'));
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
  // Positions: YAML seeds the registry; edits through the API live in Redis and survive restarts.
  const registry = new RedisSourceRegistry(redis, prefix);
  const audit = createAuditLog(config, es, commands, log);
  // Before anything else is written: a loss from here on is noticed, and the roles' hooks re-create what start-up wrote.
  const redisEpoch = await startRedisEpoch({ redis, prefix, everyMs: config.redis.epochCheckSeconds * 1000, log, audit });
  closers.unshift(() => redisEpoch.stop());
  // Whichever process wrote a seed records it (the others find it written).
  const seedSources = async (why: string) => {
    const seeded = await registry.seed(sources);
    for (const source of seeded.added) await audit.record({ actor: systemActor('seed'), entity: { type: 'source', id: source.id }, action: 'source.create', after: source, reason: `seeded from sources.yaml${why}` });
    for (const { before, after } of seeded.updated) await audit.record({ actor: systemActor('seed'), entity: { type: 'source', id: after.id }, action: 'source.update', before, after, reason: 'changed in sources.yaml' });
    return seeded.added.length;
  };
  await seedSources('');
  // Every process seeds (each source written once: the seed only adds what is missing), so none goes on
  // to schedule crawls from a registry another process is still filling.
  redisEpoch.onLost('positions', async () => {
    const added = await seedSources(' after Redis lost its data');
    if (added > 0) log.error({ seeded: added }, 'positions re-seeded from sources.yaml after Redis lost its data; positions created or edited through the API were lost with it and must be entered again');
  });
  const alerts = new EsAlertStore(es, names.alerts);
  // Rule packs: config/rules/ seeds the saved versions; saved versions win across restarts and reach every process over Redis.
  const rulePacks = new EsRulePackStore(es, `${config.elasticsearch.indexPrefix}-rule-packs`);
  await rulePacks.ensure();
  const ruleVersions = new RulePackVersions({ store: rulePacks, audit, announce: publishRuleChanges(redis, prefix), now: () => new Date(), log });
  const rulesSync = await startRulesSync({ versions: ruleVersions, subscriber: redis.duplicate(), prefix, dir: path.join(configDir, 'rules'), log });
  closers.unshift(() => rulesSync.close());
  const rules = rulesSync.registry;
  const userStore = new EsUserStore(es, names.users);
  // Accounts in the YAML that do not exist yet are created; accounts changed through the API keep their changes.
  for (const username of await userStore.seed(users)) {
    const seeded = users.find((u) => u.username === username)!;
    await audit.record({ actor: systemActor('seed'), entity: { type: 'user', id: username }, action: 'user.create', after: toPublicUser(seeded), reason: 'seeded from users.yaml' });
  }
  const channels = new EsChannelStore(es, names.channels);
  await channels.ensure(channelSeed);
  const deliveries = new EsDeliveryLog(es, names.notifications);
  await deliveries.ensure();
  const env = await channelEnv(roles, config, closers);

  // Alerting: the policy, calendar and plans from YAML; the roster seeded once, then kept in Elasticsearch.
  const alerting = loadAlertingFiles(configDir, unitDir(config));
  const roster = new EsRosterStore(es, names.roster);
  await roster.seed(alerting.roster);
  const now = () => new Date();
  const clockRemovals = new Queue<EscalateJob>('escalate', { connection: commands, prefix });
  closers.unshift(() => clockRemovals.close());
  const clocks = new BullClockScheduler(queues.escalate, now, config.alerting.reconcileEverySeconds * 1000, clockRemovals);
  const liveChannel = `${prefix}:live:alerts`;
  const desk = new AlertDesk({
    alerts,
    audit,
    clocks,
    unsettled: new RedisUnsettledWrites(commands, prefix),
    roster,
    enqueueNotifications: async (jobs) => void (await queues.notify.addBulk(jobs.map((j) => ({ name: 'deliver', data: { delivery: j }, opts: { jobId: j.id } })))),
    publish: async (change) => void (await commands.publish(liveChannel, JSON.stringify(change))),
    policy: alerting.policy,
    calendar: alerting.calendar,
    timeZone: config.unit.timezone,
    linkBase: publicUrl(config),
    now,
    log,
  });

  return {
    config,
    log,
    closers,
    prefix,
    sources,
    rules,
    /** Re-reads the saved versions into this process's rules (the saver's own next read shows its save); a failed read is logged and the rules in force are kept. */
    refreshRules: () => rulesSync.refresh(),
    ruleVersions,
    redis,
    /** Auto-pipelined: for everything but BullMQ. */
    commands,
    es,
    names,
    queues,
    posts: new EsPostStore(es, names.posts, bulk),
    events: new EsEventStore(es, names.events, bulk),
    signals: new EsSignalStore(es, names.signals, bulk),
    deadLetters: new RedisDeadLetters(redis, prefix),
    registry,
    /** Adds what this process re-creates once Redis lost its data (`pipeline/redis/redis-epoch.ts`); hooks run in the order added. */
    onRedisLost: (name: string, hook: () => Promise<unknown>) => redisEpoch.onLost(name, hook),
    sourceHealth: new RedisSourceHealthStore(redis, prefix),
    alerts,
    audit,
    users: userStore,
    tokens: new EsTokenStore(es, names.tokens),
    ledger: new EsLedgerStore(es, names.ledger),
    channels,
    deliveries,
    env,
    /** Where each bound secret may be sent (`secrets.hosts`, with the demo's). */
    secretHosts: secretHostsOf(config, env),
    roster,
    clocks,
    desk,
    liveChannel,
    alerting: { policy: alerting.policy, calendar: alerting.calendar, plans: alerting.plans, roster, alerts, timeZone: config.unit.timezone, now },
    dashboardUrl: publicUrl(config),
    now,
  };
}

/**
 * Channel secrets and source credentials come from env. The demo adds local DingTalk and WeCom
 * robots that stand in for the duty and leaders' groups, and its WeChat and push credentials.
 */
async function channelEnv(roles: readonly Role[], config: Config, closers: Closer[]): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!config.demo.enabled) return env;
  if (roles.some((r) => r === 'worker' || r === 'api')) {
    const robot = await startDingTalkRobot({ accessToken: 'demo-duty-group', secret: 'SEC-demo-duty-group' });
    const wecom = await startWeComRobot({ key: 'demo-leaders-group' });
    closers.push(() => robot.close(), () => wecom.close());
    Object.assign(env, { DEMO_DINGTALK_URL: robot.url, DEMO_DINGTALK_SECRET: 'SEC-demo-duty-group', DEMO_WECOM_URL: wecom.url });
  }
  return Object.assign(env, DEMO_CREDENTIALS, { ...process.env });
}
