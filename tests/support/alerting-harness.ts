import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Alert } from '../../core/alerts/alert.js';
import type { AlertSignal } from '../../core/alerts/raise-alert.js';
import { EscalationPolicySchema, type EscalationPolicy } from '../../core/escalation/policy.js';
import type { Roster } from '../../core/duty/roster.js';
import { createLogger } from '../../core/logger.js';
import type { NotifyJob } from '../../core/notify/notification.js';
import { AlertDesk, type AlertChange, type AlertDeskDeps } from '../../pipeline/alert/alert-desk.js';
import { EsAlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { EsRosterStore } from '../../pipeline/elasticsearch/es-roster-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { BullClockScheduler, type ClockScheduler } from '../../pipeline/escalate/clock-scheduler.js';
import { RedisUnsettledWrites } from '../../pipeline/redis/redis-unsettled-writes.js';
import { startEscalateRole } from '../../pipeline/escalate/escalate-role.js';
import { createQueues, type EscalateJob, type NotifyQueueJob, type Queues } from '../../pipeline/queues.js';
import { ConfigSchema } from '../../core/config/config-schema.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { CuttingProxy } from './cutting-proxy.js';

/** The request lines of the stores' bulk writes (the alert store's, the audit log's), for a cutting proxy to pick. */
export const BULK = /^POST \S*\/_bulk\b/;
/** The request lines of the alert store's real-time reads. */
export const MGET = /^(GET|POST) \S*\/_mget\b/;

/** A cutting proxy to the test's Elasticsearch node, not yet started. */
export function esCuttingProxy(iso: { esUrl: string }): CuttingProxy {
  const target = new URL(iso.esUrl);
  return new CuttingProxy({ host: target.hostname, port: Number(target.port || 9200) });
}

/**
 * The production Elasticsearch client (`createEsClient`: client retries on, so a request fails after
 * three cuts) talking through a started proxy, e.g. for one store alone (`alertsEs`, `auditEs`).
 */
export function esClientThrough(proxy: CuttingProxy, iso: { indexPrefix: string }): Client {
  return createEsClient(ConfigSchema.parse({ elasticsearch: { url: proxy.url, indexPrefix: iso.indexPrefix } }).elasticsearch);
}

/**
 * A policy with clocks in seconds, so the escalation tests run in real time against real Redis
 * and Elasticsearch: steps at 2 s, 4 s and 6 s for every level.
 */
export function shortPolicy(over: Partial<EscalationPolicy> = {}): EscalationPolicy {
  const level = (ack: number) => ({
    acknowledgeSeconds: ack,
    respondSeconds: 600,
    closeSeconds: 3600,
    steps: [
      { afterSeconds: 2, role: 'section_chief' },
      { afterSeconds: 4, role: 'leader' },
      { afterSeconds: 6, role: 'first_responsible' },
    ],
  });
  return EscalationPolicySchema.parse({
    id: 'test',
    version: 1,
    levels: { red: level(2), orange: level(2), yellow: level(2), blue: level(2) },
    notifications: { groupWindowSeconds: 300, repeatIntervalSeconds: 3600 },
    ...over,
  });
}

export const TEST_ROSTER: Roster = {
  people: [
    { username: 'duty', displayName: '张值班', section: '网信办', chainRole: 'duty', channels: ['dingtalk-duty'] },
    { username: 'chief', displayName: '刘科长', section: '网信办', chainRole: 'section_chief', channels: ['dingtalk-duty'] },
    { username: 'leader', displayName: '陈副部长', chainRole: 'leader', channels: ['wecom-leaders'] },
    { username: 'secretary', displayName: '王书记', chainRole: 'first_responsible', mobile: '13800000005', channels: ['wecom-leaders'] },
  ],
  shifts: [{ id: 'all', name: '全天', from: '00:00', to: '24:00', days: [], people: ['duty'] }],
  delegations: [],
  leave: [],
  handovers: [],
};

export function signalFor(id: string, level: 1 | 2 | 3 | 4, postId = `${id}-p1`): AlertSignal {
  return {
    id,
    packId: 'test',
    category: '负面',
    ruleLevel: level,
    groupKey: `content:test:${id}`,
    sourceId: 'test',
    title: `测试预警 ${id}`,
    postId,
    postAt: new Date().toISOString(),
    hits: [],
    terms: ['暴力执法'],
    explanation: { terms: [{ term: '暴力执法', packId: 'test', category: '负面', level, count: 1 }], schemes: [], exclusionsChecked: [] },
  };
}

export interface Harness {
  es: Client;
  roster: EsRosterStore;
  redis: Redis;
  queues: Queues;
  alerts: EsAlertStore;
  audit: EsAuditLog;
  desk: AlertDesk;
  clocks: BullClockScheduler;
  changes: AlertChange[];
  startEscalation(reconcileEverySeconds?: number): ReturnType<typeof startEscalateRole>;
  notifyJobs(): Promise<NotifyJob[]>;
  waitFor(id: string, until: (a: Alert) => boolean, timeoutMs: number): Promise<Alert>;
  close(): Promise<void>;
}

/** A real alert desk (Elasticsearch stores, the hash-chained audit log, clocks on the `escalate` queue) for tests of any stage. */
export async function createTestDesk(opts: {
  es: Client;
  /** The client the alert store alone talks through (e.g. one behind a faulty proxy); `es` when absent. */
  alertsEs?: Client;
  /** The client the audit log alone talks through (e.g. one behind a faulty proxy); `es` when absent. */
  auditEs?: Client;
  /** What the desk arms clocks through, made from the real scheduler (e.g. one that fails on demand); the real one when absent. */
  deskClocks?: (real: ClockScheduler) => ClockScheduler;
  /** What the desk enqueues deliveries through, made from the real one (e.g. one that fails on demand); the real one when absent. */
  deskEnqueue?: (real: AlertDeskDeps['enqueueNotifications']) => AlertDeskDeps['enqueueNotifications'];
  redis: Redis;
  /** The auto-pipelined connection the product gives the audit log and live publishes; `redis` when absent. */
  commands?: Redis;
  queues: Queues;
  redisPrefix: string;
  indexPrefix: string;
  policy?: EscalationPolicy;
  now?: () => Date;
}) {
  const { es, queues } = opts;
  const redis = opts.commands ?? opts.redis;
  const names = indexNames(opts.indexPrefix);
  const alerts = new EsAlertStore(opts.alertsEs ?? es, names.alerts);
  const audit = new EsAuditLog({ es: opts.auditEs ?? es, redis, prefix: opts.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  const roster = new EsRosterStore(es, names.roster);
  await roster.seed(TEST_ROSTER);
  const now = opts.now ?? (() => new Date());
  // As the product composes it: removals on the auto-pipelined connection when there is one.
  const removals = opts.commands ? new Queue<EscalateJob>(queues.escalate.name, { connection: opts.commands, prefix: opts.redisPrefix }) : undefined;
  const clocks = new BullClockScheduler(queues.escalate, now, undefined, removals);
  const log = createLogger('warn');
  const changes: AlertChange[] = [];
  const enqueue: AlertDeskDeps['enqueueNotifications'] = async (jobs) => void (await queues.notify.addBulk(jobs.map((j) => ({ name: 'deliver', data: { delivery: j }, opts: { jobId: j.id } }))));
  const desk = new AlertDesk({
    alerts,
    audit,
    clocks: opts.deskClocks?.(clocks) ?? clocks,
    unsettled: new RedisUnsettledWrites(redis, opts.redisPrefix),
    roster,
    enqueueNotifications: opts.deskEnqueue?.(enqueue) ?? enqueue,
    publish: async (c) => {
      changes.push(c);
      await redis.publish(`${opts.redisPrefix}:live:alerts`, JSON.stringify(c));
    },
    policy: opts.policy ?? shortPolicy(),
    calendar: { periods: [] },
    timeZone: 'Asia/Shanghai',
    linkBase: 'http://127.0.0.1:8600/',
    now,
    log,
  });
  return { desk, alerts, audit, roster, clocks, changes, log, now };
}

/** Real stores, queues and audit chain under the test's prefixes; the escalate worker runs in-process when started. */
export async function createHarness(opts: {
  redisUrl: string;
  esUrl: string;
  /** The client the alert store alone talks through; the audit log, roster and indices use `esUrl` directly. */
  alertsEs?: Client;
  /** The client the audit log alone talks through. */
  auditEs?: Client;
  deskClocks?: (real: ClockScheduler) => ClockScheduler;
  deskEnqueue?: (real: AlertDeskDeps['enqueueNotifications']) => AlertDeskDeps['enqueueNotifications'];
  redisPrefix: string;
  indexPrefix: string;
  policy: EscalationPolicy;
  now?: () => Date;
}): Promise<Harness> {
  const es = new Client({ node: opts.esUrl });
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  await ensureIndices(es, indexNames(opts.indexPrefix));
  // BullMQ on its own connection, the audit log, publishes and clock removals auto-pipelined, as in bin/roles/context.ts.
  const commands = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  const queues = createQueues(redis, opts.redisPrefix);
  const { desk, alerts, audit, roster, clocks, changes, log, now } = await createTestDesk({ es, redis, commands, queues, ...opts });
  const roles: ReturnType<typeof startEscalateRole>[] = [];
  return {
    es,
    roster,
    redis,
    queues,
    alerts,
    audit,
    desk,
    clocks,
    changes,
    startEscalation(reconcileEverySeconds = 3600) {
      const role = startEscalateRole({ desk, alerts, queue: queues.escalate, clocks, connection: redis, prefix: opts.redisPrefix, concurrency: 8, reconcileEverySeconds, log, now });
      roles.push(role);
      return role;
    },
    async notifyJobs() {
      const q = queues.notify as Queue<NotifyQueueJob>;
      const jobs = await q.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'], 0, 10_000);
      return jobs.flatMap((j) => ('delivery' in j.data ? [j.data.delivery] : []));
    },
    async waitFor(id, until, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const a = await alerts.get(id);
        if (a && until(a)) return a;
        if (Date.now() > deadline) throw new Error(`alert ${id} did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(a && { status: a.status, step: a.escalationStep, fired: a.firedClocks.map((f) => f.clockId) })}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      for (const r of roles) await r.close();
      await queues.close();
      await es.close();
      await opts.alertsEs?.close();
      await opts.auditEs?.close();
      redis.disconnect();
      commands.disconnect();
    },
  };
}
