/** The worker role: ingest, alert hand-over, escalation clocks, notifications, ledger deadlines, the self-inspection watch, scheduled reports. */
import { can } from '../../core/auth/permissions.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { startPipelineRole } from '../../pipeline/pipeline-role.js';
import { startLedgerDeadlineChecks } from '../../pipeline/ledger/ledger-deadlines.js';
import { enqueueNotification } from '../../pipeline/notify/enqueue-notification.js';
import { startNotifyWorker } from '../../pipeline/notify/notify-worker.js';
import { auditedOutcomes } from '../../pipeline/notify/audited-outcomes.js';
import { startEscalateRole } from '../../pipeline/escalate/escalate-role.js';
import { startHeartbeat } from '../../pipeline/redis/heartbeat.js';
import { adoptLegacyBandSets } from '../../pipeline/events/redis-event-clusterer.js';
import { adoptLegacySeenHash } from '../../pipeline/ingest/dedupe.js';
import { startReportSchedules } from '../../reports/report-schedules.js';
import { startInspectionWatch } from '../../pipeline/inspection/inspection-watch.js';
import { startCrawlStallWatch } from '../../pipeline/alert/crawl-stall-watch.js';
import { createInspectionService, createReportService } from '../services.js';
import type { RoleContext } from './context.js';

export async function startWorkerRole(ctx: RoleContext): Promise<void> {
  const { config, log, redis, prefix, queues, rules, users, audit, closers } = ctx;
  const deadlines = await startLedgerDeadlineChecks({
    ledger: ctx.ledger,
    users,
    audit,
    enqueue: (job) => enqueueNotification(queues, job),
    channels: config.ledger.channels,
    policy: config.ledger,
    dashboardUrl: ctx.dashboardUrl,
    now: ctx.now,
    connection: redis,
    prefix,
    everyMs: config.ledger.checkEverySeconds * 1000,
    log,
  });
  closers.unshift(() => deadlines.close());
  ctx.onRedisLost('ledger deadline scheduler', () => deadlines.reschedule());
  const inspections = createInspectionService(config, { es: ctx.es, redis, registry: ctx.registry, health: ctx.sourceHealth, now: ctx.now });
  if (config.inspection.watch.enabled) {
    const watch = await startInspectionWatch({
      inspections,
      redis,
      prefix,
      users: () => users.list(),
      enqueue: (job) => enqueueNotification(queues, job),
      channels: config.inspection.watch.channels,
      dashboardUrl: ctx.dashboardUrl,
      now: ctx.now,
      connection: redis,
      everyMs: config.inspection.watch.everyMinutes * 60_000,
      log,
    });
    closers.unshift(() => watch.close());
    ctx.onRedisLost('inspection watch scheduler', () => watch.reschedule());
  }
  // New words of reloaded rules join jieba's (process-wide) user dictionary.
  rules.onSwap((c) => void createSegmenter(c.ruleSet.words));
  // The context's auto-pipelined connection: the items of a batch job reach each stage together, so their commands go as one write.
  const ingest = wireIngest({
    redis: ctx.commands,
    prefix,
    segment: createSegmenter(rules.current().ruleSet.words),
    classify: createClassifier(() => rules.current()),
    posts: ctx.posts,
    events: ctx.events,
    signals: ctx.signals,
    queues,
    eventWindowHours: config.pipeline.eventWindowHours,
    signalThresholds: config.pipeline.signals,
    seenRetentionMs: config.pipeline.seenRetentionDays * 86_400_000,
    now: ctx.now,
  });
  // The one hash of seen records an upgrade may leave moves into per-post keys with their retention, in the background.
  adoptLegacySeenHash(ctx.commands, prefix, config.pipeline.seenRetentionDays * 86_400_000).then(
    (moved) => moved > 0 && log.info({ moved }, 'dedupe: seen records of the earlier layout moved into per-post keys'),
    (err: Error) => log.warn({ err: err.message }, 'dedupe: moving the earlier seen records failed; their posts are recovered from Elasticsearch when seen again'),
  );
  // The band index of the layout before time slices, if an upgrade left one, moves into the slices in the background.
  adoptLegacyBandSets(ctx.commands, prefix, config.pipeline.eventWindowHours * 3_600_000).then(
    (moved) => moved > 0 && log.info({ moved }, 'event band index: sets of the earlier layout moved into time slices'),
    (err: Error) => log.warn({ err: err.message }, 'event band index: moving the earlier layout failed; near-duplicates of older events may open new ones for one window'),
  );
  const pipeline = startPipelineRole({
    ingest,
    posts: ctx.posts,
    desk: ctx.desk,
    events: ctx.events,
    queues,
    deadLetters: ctx.deadLetters,
    connection: redis,
    prefix,
    ingestConcurrency: config.pipeline.ingestConcurrency,
    log,
  });
  closers.unshift(() => pipeline.close());
  const notifier = startNotifyWorker({ connection: redis, prefix, queues, channels: ctx.channels, outcomes: auditedOutcomes(ctx.deliveries, audit, log), dashboardUrl: ctx.dashboardUrl, env: ctx.env, secretHosts: ctx.secretHosts, log, now: ctx.now });
  closers.unshift(() => notifier.close());
  const reportSchedules = await startReportSchedules({
    connection: redis,
    prefix,
    schedules: config.reports.schedules,
    timeZone: config.unit.timezone,
    reports: createReportService(config, ctx.es, ctx.sources, ctx.sourceHealth, audit, inspections),
    queues,
    recipients: async (usernames) =>
      (await users.list())
        .filter((u) => !u.disabled && (usernames.length > 0 ? usernames.includes(u.username) : can(u.roles, 'reports.write')))
        .map((u) => ({ username: u.username, displayName: u.displayName })),
    dashboardUrl: ctx.dashboardUrl,
    log,
    now: ctx.now,
  });
  closers.unshift(() => reportSchedules.close());
  ctx.onRedisLost('report schedulers', () => reportSchedules.reschedule());
  // 采集停滞: a position whose runs stop coming (the crawler down, its schedule lost) raises a source-health alert.
  const stallWatch = startCrawlStallWatch({
    registry: ctx.registry,
    health: ctx.sourceHealth,
    queues,
    defaultEverySeconds: config.crawl.everySeconds,
    minGraceMs: config.crawl.stallAfterMinutes * 60_000,
    timeZone: config.unit.timezone,
    now: ctx.now,
    log,
  });
  closers.unshift(async () => stallWatch.close());
  const escalation = startEscalateRole({
    desk: ctx.desk,
    alerts: ctx.alerts,
    queue: queues.escalate,
    clocks: ctx.clocks,
    connection: redis,
    prefix,
    concurrency: config.alerting.escalateConcurrency,
    reconcileEverySeconds: config.alerting.reconcileEverySeconds,
    log,
    now: ctx.now,
  });
  closers.unshift(() => escalation.close());
  // Clock jobs lost with Redis are re-armed now rather than at the next periodic pass.
  ctx.onRedisLost('escalation clocks', () => escalation.reconcileAfresh());
  const heartbeat = startHeartbeat(redis, prefix, 'worker');
  closers.unshift(() => heartbeat.stop());
}
