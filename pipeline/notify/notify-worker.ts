import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Channel } from '../../core/notify/channel.js';
import { digestMessage } from '../../core/notify/format.js';
import type { DeliveryOutcome, DeliveryOutcomeSink, NotifyJob } from '../../core/notify/notification.js';
import { BusyError, QianshaoError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SecretHosts } from '../../core/config/secret-hosts.js';
import { startWorker, type NotifyQueueJob, type Queues } from '../queues.js';
import { ChannelRateLimitedError, createSender, type ChannelSender } from './senders.js';
import { ChannelRateLimiter } from './rate-limiter.js';
import { DigestBuffer } from './digest-buffer.js';
import { DeliveredNotifications, type DeliveryClaim } from './delivered-notifications.js';

export interface NotifyWorkerDeps {
  connection: Redis;
  prefix: string;
  queues: Pick<Queues, 'notify'>;
  channels: { get(id: string): Promise<Channel | undefined> };
  outcomes: DeliveryOutcomeSink;
  /** Where the dashboard is, for a digest's link. */
  dashboardUrl: string;
  env: NodeJS.ProcessEnv;
  /** Where each bound secret may be sent (`secrets.hosts`). */
  secretHosts?: SecretHosts;
  log: Logger;
  now: () => Date;
  concurrency?: number;
  /** Where notification ids are claimed and marked sent; by default in `connection` under `prefix`. */
  delivered?: DeliveredNotifications;
}

/** What became of one delivery job (its BullMQ return value); the last two send nothing. */
export type DeliveryResult = 'sent' | 'merged-into-digest' | 'already-sent' | 'already-in-digest';

const DIGEST_BATCH = 50;
const DIGEST_WINDOW_MS = 5_000;
/** How many claims of failed or gone jobs one delivery takes over, each lost to another job, before it tries later. */
const TAKE_OVERS = 3;
/** The pauses before a failed mark of a send is tried again: a sent delivery is marked sent, or completes unmarked. */
const MARK_SENT_RETRY_MS = [100, 500, 2_500];
/**
 * Longer than any delivery run (a send times out after 10 s, its mark is retried for 3 s, a digest's
 * outcomes go to Elasticsearch): a job active longer with a bare claim hangs, and its claim is taken over.
 */
const HOLDER_STUCK_MS = 10 * 60_000;
/** How many runs (about 30 s) a delivery waits for another job's claim before each further wait is logged. */
const QUIET_WAITS = 5;

/**
 * A digest's delivery id names the deliveries it carries: the same batch sent again (a flush whose
 * answer was lost, or that died before dropping the batch) is the same delivery, which a receiver
 * keying on `X-Qianshao-Delivery` or an inbox already holding it may drop; a batch that grew meanwhile
 * is another delivery, carrying what the first did not.
 */
const digestId = (channelId: string, held: NotifyJob[]) =>
  `digest-${channelId}-${held[0]!.id}-${createHash('sha256').update(held.map((j) => j.id).join('\n')).digest('hex').slice(0, 16)}`;

/** A delivery job across its retries and reruns; the same id queued again after BullMQ dropped the job is another. */
const holderOf = (bull: Job<NotifyQueueJob>) => `${bull.id}@${bull.timestamp}`;

/**
 * Delivers `notify` jobs: one channel each, retried with backoff, paced by the channel's token
 * bucket. What the bucket (or the receiver's own "too fast") holds back is merged into one digest,
 * sent when the bucket refills, so a burst of 40 alerts becomes 18 messages and a digest instead of
 * a robot blocked for 10 minutes. Every attempt's outcome is recorded on its subject.
 *
 * A notification id is sent once however often it is queued (`DeliveredNotifications`): a job whose
 * notification another job sent, or a digest holds, does nothing (`already-sent`, `already-in-digest`),
 * so producers may queue owed deliveries again freely; one whose id a job claimed without proving its
 * send waits while that job runs, and takes the claim over once it failed, is gone or hangs. A digest carries
 * only deliveries this worker claimed and held, so one sent alone is never in a digest too, and one in a
 * digest is not sent again.
 */
export function startNotifyWorker(deps: NotifyWorkerDeps): Worker<NotifyQueueJob> {
  const limiter = new ChannelRateLimiter(deps.connection, deps.prefix);
  const buffer = new DigestBuffer(deps.connection, deps.prefix);
  const delivered = deps.delivered ?? new DeliveredNotifications(deps.connection, deps.prefix);
  const senders = new Map<string, { channel: Channel; sender: ChannelSender }>();

  const senderFor = (channel: Channel): ChannelSender => {
    const cached = senders.get(channel.id);
    if (cached && cached.channel === channel) return cached.sender;
    const sender = createSender(channel, { env: deps.env, redis: deps.connection, prefix: deps.prefix, ...(deps.secretHosts ? { secretHosts: deps.secretHosts } : {}) });
    senders.set(channel.id, { channel, sender });
    return sender;
  };

  const outcome = (job: NotifyJob, channel: Channel | undefined, status: DeliveryOutcome['status'], attempts: number, extra: Partial<DeliveryOutcome> = {}) =>
    deps.outcomes.record(job.subject, {
      jobId: job.id,
      channelId: job.channelId,
      channelType: channel?.type ?? 'inapp',
      status,
      at: deps.now().toISOString(),
      attempts,
      ...extra,
    });

  /**
   * One flush job per channel, flush round and 5-second window: holding many deliveries schedules one
   * flush. BullMQ adds nothing under the id of a job still active, and a flush job reads the buffer
   * only after starting a new round: a delivery held (or left over past a batch) after a flush read
   * the buffer gets a job of its own, not the id of that flush, which would never read it.
   */
  const scheduleDigest = async (channelId: string, waitMs: number) => {
    const at = deps.now().getTime() + waitMs;
    const round = await buffer.flushRound(channelId);
    const jobId = `digest-${channelId}-${round}-${Math.ceil(at / DIGEST_WINDOW_MS)}`;
    await deps.queues.notify.add('digest', { digest: channelId }, { jobId, delay: Math.max(0, waitMs), removeOnComplete: true, removeOnFail: true });
  };

  const holdBack = async (job: NotifyJob, holder: string, channel: Channel, waitMs: number, attempts: number, why: string): Promise<DeliveryResult> => {
    await buffer.hold(job, (tx) => delivered.markHeldForDigest(tx, job.id, holder));
    await scheduleDigest(channel.id, waitMs);
    const when = new Date(deps.now().getTime() + waitMs).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
    await outcome(job, channel, 'merged_into_digest', attempts, { error: `${why}，已并入汇总消息，约 ${when} 发送` });
    return 'merged-into-digest';
  };

  /**
   * What BullMQ says of the job `holder` (`holderOf`): it may still send, it completed, it hangs (active
   * past any delivery's time), or it will never send.
   */
  const holderState = async (holder: string): Promise<'running' | 'completed' | 'stuck' | 'gone'> => {
    const at = holder.lastIndexOf('@');
    const other = await deps.queues.notify.getJob(holder.slice(0, at));
    // The same job id with another creation time is a later job: the holder was dropped.
    if (!other || String(other.timestamp) !== holder.slice(at + 1)) return 'gone';
    const state = await other.getState();
    if (state === 'completed') return 'completed';
    if (state === 'failed' || state === 'unknown') return 'gone';
    const activeFor = state === 'active' && other.processedOn ? deps.now().getTime() - other.processedOn : 0;
    return activeFor > HOLDER_STUCK_MS ? 'stuck' : 'running';
  };

  const claimFor = async (bull: Job<NotifyQueueJob>, notificationId: string, holder: string): Promise<Exclude<DeliveryClaim, 'held-by-another'>> => {
    let claimed = await delivered.claim(notificationId, holder);
    for (let i = 0; claimed.claim === 'held-by-another' && i < TAKE_OVERS; i++) {
      const heldBy = claimed.heldBy!;
      const state = await holderState(heldBy);
      if (state === 'completed') {
        // A completed job with a bare claim sent it (its mark failed, or it completed before claims were
        // marked sent): marked now, the claim stays sent once BullMQ drops that job.
        await delivered.markSent(notificationId, heldBy).catch((err: Error) => deps.log.warn({ notificationId, holder: heldBy, err: err.message }, 'claim of a completed delivery not marked sent'));
        return 'sent-by-another';
      }
      if (state === 'running') break;
      // A hung send may yet return and go out: sent twice rather than never.
      if (state === 'stuck') deps.log.warn({ notificationId, holder: heldBy, stuckAfterMs: HOLDER_STUCK_MS }, 'delivery claim held by a job active too long: taken over');
      claimed = await delivered.claim(notificationId, holder, heldBy);
    }
    if (claimed.claim === 'held-by-another') {
      const waits = bull.attemptsStarted - bull.attemptsMade;
      if (waits > QUIET_WAITS) deps.log.warn({ jobId: bull.id, notificationId, holder: claimed.heldBy, waits }, 'delivery still waiting for the job that claimed its notification');
      // Waiting, rather than completing, keeps the notification owed should that job fail after all.
      throw new BusyError(`notification ${notificationId} is being sent by job ${claimed.heldBy}`, 'notification_in_flight');
    }
    return claimed.claim;
  };

  /** Marks the send of `holder`, tried again after short pauses; throws once the last try failed. */
  const markSent = async (notificationId: string, holder: string): Promise<void> => {
    for (let i = 0; ; i++) {
      try {
        return await delivered.markSent(notificationId, holder);
      } catch (err) {
        if (i >= MARK_SENT_RETRY_MS.length) throw err;
        await sleep(MARK_SENT_RETRY_MS[i]);
      }
    }
  };

  const deliver = async (bull: Job<NotifyQueueJob>, job: NotifyJob): Promise<DeliveryResult> => {
    const attempts = bull.attemptsMade + 1;
    const holder = holderOf(bull);
    const claim = await claimFor(bull, job.id, holder);
    if (claim === 'own-sent') {
      // An earlier run sent it and could not record that: record it, send nothing.
      await outcome(job, await deps.channels.get(job.channelId), 'sent', attempts);
      return 'sent';
    }
    if (claim === 'sent-by-another' || claim === 'in-digest') {
      // A holder that stopped between holding it and scheduling the flush leaves the digest unscheduled.
      if (claim === 'in-digest') await scheduleDigest(job.channelId, 0);
      const result = claim === 'in-digest' ? 'already-in-digest' : 'already-sent';
      deps.log.info({ jobId: bull.id, notificationId: job.id, result }, 'notification already delivered: not sent again');
      return result;
    }
    const channel = await deps.channels.get(job.channelId);
    if (!channel || !channel.enabled) {
      await outcome(job, channel, 'failed', attempts, { error: channel ? `渠道 ${channel.name} 已停用` : `渠道 ${job.channelId} 不存在` });
      throw new UnrecoverableError(`channel ${job.channelId} is missing or disabled`);
    }
    if (channel.rateLimit) {
      const take = await limiter.take(channel.id, channel.rateLimit.perMinute, deps.now());
      if (!take.allowed) return holdBack(job, holder, channel, take.waitMs, attempts, `超过每分钟 ${channel.rateLimit.perMinute} 条的发送频率`);
    }
    try {
      await senderFor(channel).send(job, deps.now());
    } catch (err) {
      if (err instanceof ChannelRateLimitedError) {
        await limiter.block(channel.id, err.blockMs, deps.now());
        return holdBack(job, holder, channel, err.blockMs, attempts, '接收方限流');
      }
      const message = err instanceof Error ? err.message : String(err);
      const final = (err instanceof QianshaoError && !err.retryable) || attempts >= (bull.opts.attempts ?? 1);
      await outcome(job, channel, final ? 'failed' : 'retrying', attempts, { error: message });
      if (err instanceof QianshaoError && !err.retryable) throw new UnrecoverableError(`${err.code}: ${message}`);
      throw err;
    }
    // Outside the send's failure handling: what fails after the send is no failed send.
    const [marked, recorded] = await Promise.allSettled([markSent(job.id, holder), outcome(job, channel, 'sent', attempts)]);
    if (marked.status === 'rejected') {
      // Completed all the same: a job failed for good gives its claim back, and the notification would
      // be sent again; a completed job's bare claim counts as sent (`claimFor`).
      const err = marked.reason instanceof Error ? marked.reason.message : String(marked.reason);
      deps.log.warn({ jobId: bull.id, notificationId: job.id, err, outcomeRecorded: recorded.status === 'fulfilled' }, 'delivery sent but not marked sent: completed unmarked');
      return 'sent';
    }
    // The rerun of an outcome not recorded finds the claim marked sent, records the outcome and sends nothing.
    if (recorded.status === 'rejected') throw recorded.reason;
    return 'sent';
  };

  const flushDigest = async (channelId: string) => {
    const channel = await deps.channels.get(channelId);
    if (!channel || !channel.enabled) return;
    const unlock = await buffer.lock(channelId, 60_000);
    if (!unlock) return scheduleDigest(channelId, DIGEST_WINDOW_MS);
    try {
      await buffer.startFlushRound(channelId);
      const batch = await buffer.peek(channelId, DIGEST_BATCH);
      const held = batch.jobs;
      if (held.length === 0) return;
      if (channel.rateLimit) {
        const take = await limiter.take(channel.id, channel.rateLimit.perMinute, deps.now());
        if (!take.allowed) return scheduleDigest(channelId, take.waitMs);
      }
      const recipients = [...new Map(held.flatMap((j) => j.recipients).map((r) => [r.username, r])).values()];
      const digest: NotifyJob = {
        id: digestId(channelId, held),
        channelId,
        recipients,
        message: digestMessage(held, deps.dashboardUrl),
        reason: 'digest',
        subject: held[0]!.subject,
      };
      try {
        await senderFor(channel).send(digest, deps.now());
      } catch (err) {
        if (err instanceof ChannelRateLimitedError) {
          await limiter.block(channel.id, err.blockMs, deps.now());
          return scheduleDigest(channelId, err.blockMs);
        }
        throw err;
      }
      // Dropped at once, the outcomes recorded after: a lock run out while recording could let another
      // flusher send the same batch again.
      const { released, left } = await buffer.release(channelId, batch);
      if (left > 0) await scheduleDigest(channelId, 0);
      if (!released) {
        deps.log.warn({ channelId, digestId: digest.id }, 'digest sent twice: another flusher delivered and dropped its entries first');
        return;
      }
      const digestOf = held.map((j) => j.id);
      await Promise.all(held.map((job) => outcome(job, channel, 'sent', 1, { digestOf })));
    } finally {
      await unlock();
    }
  };

  const worker = startWorker<NotifyQueueJob>(
    'notify',
    async (job) => {
      if ('digest' in job.data) return flushDigest(job.data.digest);
      return deliver(job, job.data.delivery);
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: deps.concurrency ?? 4, log: deps.log },
  );
  // A delivery failed for good (BullMQ set its finish time; a retry does not) did not send: its claim goes
  // back. (A job whose send succeeded fails only once it marked the send, which no release touches.) Jobs
  // failed for stalling raise no such event: their claims are taken over (`claimFor`).
  worker.on('failed', (bull) => {
    if (!bull?.finishedOn || !('delivery' in bull.data)) return;
    delivered.release(bull.data.delivery.id, holderOf(bull)).catch((err: Error) => deps.log.warn({ jobId: bull.id, err: err.message }, 'delivery claim not given back'));
  });
  return worker;
}
