/**
 * Factories shared by the roles and the one-off commands: the same audit log, report service and
 * unit files whichever process builds them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config/config-schema.js';
import { hostOf, type SecretHosts } from '../core/config/secret-hosts.js';
import type { Logger } from '../core/logger.js';
import { configDir, repoRoot } from '../core/paths.js';
import { loadSources, type Source } from '../core/sources/source.js';
import { loadUsers, type User } from '../core/auth/user.js';
import { loadChannels, type Channel } from '../core/notify/channel.js';
import { loadCheckpointKey } from '../core/audit/checkpoint-key.js';
import type { createEsClient } from '../pipeline/elasticsearch/es-client.js';
import { indexNames } from '../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../pipeline/elasticsearch/es-audit-log.js';
import type { createRedis } from '../pipeline/queues.js';
import type { RedisSourceHealthStore } from '../crawlers/shared/source-health.js';
import { ReportService } from '../reports/report-service.js';
import { InspectionService } from '../reports/inspection-service.js';
import { RedisProbeLog } from '../crawlers/probe/probe-log.js';
import type { SourceRegistry } from '../crawlers/shared/source-registry.js';
import { EsInspectionFigures } from '../pipeline/elasticsearch/es-inspection-figures.js';
import { StartupError } from './preflight.js';

export type EsClient = ReturnType<typeof createEsClient>;
export type RedisClient = ReturnType<typeof createRedis>;

/** Where the unit's own files live: `config/`, or `config/demo/` for the demo. */
export function unitDir(config: Config): string {
  return config.demo.enabled ? path.join(configDir, 'demo') : configDir;
}

export function demoSiteUrl(config: Config): string {
  return `http://127.0.0.1:${config.demo.sitePort}`;
}

/**
 * `secrets.hosts`, with the demo's own secrets bound while it runs: the WeChat appid and secret to
 * the demo site, the robots' URLs and signing key to the local robots `env` points at (each
 * process starts its own on a free port, so no file can name them). The config file's bindings win.
 */
export function secretHostsOf(config: Config, env: Readonly<Record<string, string | undefined>>): SecretHosts {
  if (!config.demo.enabled) return config.secrets.hosts;
  const site = new URL(demoSiteUrl(config)).host;
  const demo: Record<string, string[]> = { DEMO_WX_APPID: [site], DEMO_WX_SECRET: [site] };
  const robotHost = (name: string) => (env[name] ? hostOf(env[name]) : undefined);
  const dingtalk = robotHost('DEMO_DINGTALK_URL');
  if (dingtalk) Object.assign(demo, { DEMO_DINGTALK_URL: [dingtalk], DEMO_DINGTALK_SECRET: [dingtalk] });
  const wecom = robotHost('DEMO_WECOM_URL');
  if (wecom) demo.DEMO_WECOM_URL = [wecom];
  return { ...demo, ...config.secrets.hosts };
}

/** The address people open from a notification or a report: `API_PUBLIC_URL`, or where the api listens. */
export function publicUrl(config: Config): string {
  return config.api.publicUrl ?? `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}/`;
}

export function loadUnitFiles(config: Config): { sources: Source[]; users: User[]; channels: Channel[] } {
  const dir = unitDir(config);
  const sourcesFile = path.join(dir, 'sources.yaml');
  const usersFile = path.join(dir, 'users.yaml');
  for (const file of [sourcesFile, usersFile]) {
    if (!existsSync(file)) throw new StartupError(`${file} is missing. Copy it from config/demo/ and adapt it, or start with --demo.`);
  }
  const channelsFile = path.join(dir, 'channels.yaml');
  // Without a channels file, staff still get in-app notifications.
  const channels: Channel[] = existsSync(channelsFile) ? loadChannels(channelsFile) : [{ id: 'inapp', name: '站内通知', type: 'inapp', enabled: true }];
  return { sources: loadSources(sourcesFile, { DEMO_SITE_URL: demoSiteUrl(config) }), users: loadUsers(usersFile), channels };
}

/** The server's secret key (signs audit checkpoints; other keys derive from it), kept outside Elasticsearch. */
export function serverKeyOf(config: Config): Buffer {
  return loadCheckpointKey({ secret: config.audit.checkpointKey, file: path.resolve(repoRoot, config.audit.checkpointKeyFile) });
}

export function createAuditLog(config: Config, es: EsClient, redis: RedisClient, log?: Logger): EsAuditLog {
  const names = indexNames(config.elasticsearch.indexPrefix);
  return new EsAuditLog({
    es,
    redis,
    prefix: config.redis.prefix,
    index: names.audit,
    checkpointIndex: names.auditCheckpoints,
    checkpointKey: serverKeyOf(config),
    ...(log ? { log } : {}),
  });
}

/** Website self-inspection on live data (the API's 网站自查, the worker's watch, the reports' table). */
export function createInspectionService(config: Config, deps: { es: EsClient; redis: RedisClient; registry: SourceRegistry; health: RedisSourceHealthStore; now?: () => Date }): InspectionService {
  return new InspectionService({
    registry: deps.registry,
    health: deps.health,
    probes: new RedisProbeLog(deps.redis, config.redis.prefix, config.inspection.prober.keepDays),
    figures: new EsInspectionFigures(deps.es, indexNames(config.elasticsearch.indexPrefix).posts),
    policy: config.inspection,
    zombieDays: config.crawl.zombieDays,
    ...(deps.now ? { now: deps.now } : {}),
  });
}

export function createReportService(config: Config, es: EsClient, sources: readonly Source[], health: RedisSourceHealthStore, audit?: EsAuditLog, inspections?: InspectionService): ReportService {
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
    ...(inspections ? { inspections: () => inspections.forReport() } : {}),
    ...(audit ? { audit } : {}),
    now: () => new Date(),
  });
}
