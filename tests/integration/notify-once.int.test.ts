import { Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditActor } from '../../core/audit/audit-log.js';
import type { Channel } from '../../core/notify/channel.js';
import { UnavailableError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import type { NotifyJob } from '../../core/notify/notification.js';
import { indexNames } from '../../pipeline/elasticsearch/indices.js';
import { enqueueNotification } from '../../pipeline/notify/enqueue-notification.js';
import { DeliveredNotifications } from '../../pipeline/notify/delivered-notifications.js';
import { EsChannelStore } from '../../pipeline/notify/es-channel-store.js';
import { EsDeliveryLog } from '../../pipeline/notify/es-delivery-log.js';
import { startNotifyWorker } from '../../pipeline/notify/notify-worker.js';
import { ChannelRateLimiter } from '../../pipeline/notify/rate-limiter.js';
import type { NotifyQueueJob } from '../../pipeline/queues.js';
import { RedisUnsettledWrites } from '../../pipeline/redis/redis-unsettled-writes.js';
import { startWebhookReceiver, type Received } from '../fixtures/receivers/robots.js';
import { inboxKey } from '../../pipeline/notify/senders.js';
import { BULK, createHarness, esClientThrough, esCuttingProxy, MGET, shortPolicy, signalFor, TEST_ROSTER, type Harness } from '../support/alerting-harness.js';
import { eventually, isolation } from '../support/isolation.js';

const chief: AuditActor = { kind: 'user', id: 'chief', displayName: '刘科长', roles: ['section_chief'] };

/**
 * The notify worker delivers to a loopback webhook receiver, on real Redis (queues, claims, digests)
 * and Elasticsearch (channels, delivery log); the alert desk's store talks to Elasticsearch through a
 * cutting proxy, and its enqueue of deliveries fails on demand (as when Redis refuses the jobs), as do
 * the worker's channel reads and its records of sent deliveries (as when Elasticsearch is down).
 */
describe('a notification is sent once however often it is queued (real Redis and Elasticsearch, a loopback receiver)', () => {
  const iso = isolation();
  const proxy = esCuttingProxy(iso);
  const env: NodeJS.ProcessEnv = { HOOK_SECRET: 'hook-secret' };
  let h: Harness;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let channels: EsChannelStore;
  let deliveryLog: EsDeliveryLog;
  let worker: Worker<NotifyQueueJob>;
  /** How many of the desk's next enqueues of deliveries fail. */
  let enqueuesToFail = 0;
  /** How many of the worker's next channel reads, and records of a sent delivery, fail. */
  let channelReadsToFail = 0;
  let sentRecordsToFail = 0;
  /** How many of the worker's next marks of a send fail (as on a Redis hiccup). */
  let sentMarksToFail = 0;
  /** While set, the worker's records of deliveries sent in a digest wait for it (a slow delivery log). */
  let digestRecordsWait: Promise<void> | undefined;

  beforeAll(async () => {
    await proxy.start();
    hook = await startWebhookReceiver({ secret: env.HOOK_SECRET! });
    h = await createHarness({
      ...iso,
      alertsEs: esClientThrough(proxy, iso),
      policy: shortPolicy(),
      deskEnqueue: (real) => async (jobs) => {
        if (enqueuesToFail > 0) {
          enqueuesToFail -= 1;
          throw new UnavailableError('Redis refused the notify jobs', 'redis_unavailable');
        }
        await real(jobs);
      },
    });
    const webhook = (id: string, over: Partial<Channel> = {}): Channel => ({ id, name: id, type: 'webhook', enabled: true, url: hook.url, secretEnv: 'HOOK_SECRET', rateLimit: { perMinute: 120, blockSeconds: 0 }, ...over }) as Channel;
    const names = indexNames(iso.indexPrefix);
    channels = new EsChannelStore(h.es, names.channels, 0);
    // The test roster's group channels, here signed webhooks to the loopback receiver; and everyone's in-app inbox.
    await channels.ensure([{ id: 'inapp', name: '站内通知', type: 'inapp', enabled: true }, webhook('dingtalk-duty'), webhook('wecom-leaders'), webhook('hook'), webhook('hook-paced'), webhook('hook-off', { enabled: false })]);
    deliveryLog = new EsDeliveryLog(h.es, names.notifications);
    await deliveryLog.ensure();
    const unavailable = () => new UnavailableError('Elasticsearch did not answer', 'es_unavailable');
    worker = startNotifyWorker({
      connection: h.redis,
      prefix: iso.redisPrefix,
      queues: h.queues,
      channels: {
        async get(id) {
          if (channelReadsToFail > 0) {
            channelReadsToFail -= 1;
            throw unavailable();
          }
          return channels.get(id);
        },
      },
      outcomes: {
        async record(subject, outcome) {
          if (outcome.status === 'sent' && sentRecordsToFail > 0) {
            sentRecordsToFail -= 1;
            throw unavailable();
          }
          if (outcome.digestOf) await digestRecordsWait;
          return deliveryLog.record(subject, outcome);
        },
      },
      dashboardUrl: 'http://127.0.0.1:8600/',
      env,
      log: createLogger('silent'),
      now: () => new Date(),
      delivered: new (class extends DeliveredNotifications {
        override async markSent(notificationId: string, holder: string): Promise<void> {
          if (sentMarksToFail > 0) {
            sentMarksToFail -= 1;
            throw new Error("READONLY You can't write against a read only replica.");
          }
          return super.markSent(notificationId, holder);
        }
      })(h.redis, iso.redisPrefix),
    });
  });
  afterEach(() => {
    proxy.disarm();
    enqueuesToFail = 0;
    channelReadsToFail = 0;
    sentRecordsToFail = 0;
    sentMarksToFail = 0;
    digestRecordsWait = undefined;
    hook.answersToLose = 0;
  });
  afterAll(async () => {
    await worker?.close();
    await h?.close();
    await hook?.close();
    await proxy.stop();
    await iso.cleanup();
  });

  let n = 0;
  function job(channelId: string): NotifyJob {
    n++;
    return {
      id: `once-${n}-${channelId}`,
      channelId,
      recipients: [{ username: 'duty', displayName: '张值班' }],
      message: { title: `【三级黄色预警】只发一次 ${n}`, text: '测试', level: 3, link: `http://127.0.0.1:8600/alerts/once-${n}` },
      reason: 'first',
      subject: { type: 'alert', id: `once-${n}` },
    };
  }
  const bodyOf = (r: Received) => r.json as { id: string; message: { title: string; text: string } };
  /** Messages the receiver took that were this delivery, alone or listed in a digest. */
  const messagesCarrying = (j: NotifyJob) => hook.received.filter((r) => bodyOf(r).id === j.id || bodyOf(r).message.text.includes(j.message.title));
  /** How often one notification id was sent alone: to the receiver, or to the in-app inboxes (each recipient gets one entry a send). */
  async function timesSent(notificationId: string): Promise<number> {
    const inboxes = await Promise.all(TEST_ROSTER.people.map((p) => h.redis.lrange(inboxKey(iso.redisPrefix, p.username), 0, -1)));
    const inInbox = inboxes.map((entries) => entries.filter((e) => (JSON.parse(e) as { id: string }).id === notificationId).length);
    return hook.received.filter((r) => bodyOf(r).id === notificationId).length + Math.max(...inInbox);
  }
  const timesEach = (owed: string[]) => Promise.all(owed.map(timesSent));

  /** Waits for a notify job to finish, and gives its result (`DeliveryResult`). */
  async function finished(jobId: string, state: 'completed' | 'failed' = 'completed'): Promise<unknown> {
    return eventually(
      async () => {
        // The state first: a job read before it finished would carry no result.
        if ((await h.queues.notify.getJobState(jobId)) !== state) return undefined;
        return (await h.queues.notify.getJob(jobId))?.returnvalue ?? null;
      },
      20_000,
      `notify job ${jobId} ${state}`,
    );
  }

  /** What BullMQ does to a completed job after 24 h or 10,000 newer ones (and a person, to a failed one). */
  const drop = async (jobId: string) => expect(await h.queues.notify.remove(jobId)).toBe(1);

  it('a delivery whose last attempt failed before its send (its channel could not be read) does not count as delivered: queued anew, it is sent', async () => {
    const j = job('hook');
    channelReadsToFail = 1;
    await h.queues.notify.add('deliver', { delivery: j }, { jobId: `n-${j.id}`, attempts: 1 });
    await finished(`n-${j.id}`, 'failed');
    await drop(`n-${j.id}`);

    await enqueueNotification(h.queues, j);
    expect(await finished(`n-${j.id}`)).toBe('sent');
    expect(messagesCarrying(j)).toHaveLength(1);
  });

  /**
   * A notify process that takes a delivery job, claims its notification and dies before sending: its
   * lock is never renewed, so BullMQ finds the job stalled and, past `maxStalledCount` stalls, fails it
   * (raising no `failed` event in the notify worker). Its runs never end: each takes one of its `slots`.
   */
  function crashingAfterClaim(maxStalledCount: number, slots: number): Worker<NotifyQueueJob> {
    const delivered = new DeliveredNotifications(h.redis, iso.redisPrefix);
    return new Worker<NotifyQueueJob>(
      'notify',
      async (bull) => {
        if ('delivery' in bull.data) await delivered.claim(bull.data.delivery.id, `${bull.id}@${bull.timestamp}`);
        await new Promise(() => undefined);
      },
      { connection: h.redis, prefix: iso.redisPrefix, concurrency: slots, lockDuration: 1_000, skipLockRenewal: true, stalledInterval: 500, maxStalledCount },
    );
  }
  const claimOf = (j: NotifyJob) => h.redis.get(`${iso.redisPrefix}:notify:delivered:${j.id}`);
  /**
   * Waits until BullMQ failed `jobId` for stalling. Each stall check keeps the others off for its
   * worker's interval (the notify worker's: 30 s); dropping that mark lets the crashing worker's
   * checks, every 500 ms, run.
   */
  const failedForStalling = (jobId: string) =>
    eventually(
      async () => {
        await h.redis.del(`${iso.redisPrefix}:notify:stalled-check`);
        return (await h.queues.notify.getJobState(jobId)) === 'failed' ? true : undefined;
      },
      20_000,
      `notify job ${jobId} failed for stalling`,
    );

  it('a delivery whose job crashed after its claim and before its send until BullMQ failed it for stalling: queued anew, it is sent', async () => {
    const j = job('hook');
    await worker.pause();
    // BullMQ's default stall limit; spare slots take the job again after each stall.
    const crashing = crashingAfterClaim(1, 4);
    try {
      await enqueueNotification(h.queues, j);
      await failedForStalling(`n-${j.id}`);
    } finally {
      await crashing.close(true);
      worker.resume();
    }
    expect(await claimOf(j)).toMatch(/^send:/);
    await drop(`n-${j.id}`);

    await enqueueNotification(h.queues, j);
    expect(await finished(`n-${j.id}`)).toBe('sent');
    expect(messagesCarrying(j)).toHaveLength(1);
    expect(await claimOf(j)).toMatch(/^sent:/);
  });

  it('a job finding its notification claimed by a job still running waits for it, and sends it once that job failed for stalling', async () => {
    const j = job('hook');
    await worker.pause();
    // One slot: the other job goes to the notify worker.
    const crashing = crashingAfterClaim(0, 1);
    try {
      await enqueueNotification(h.queues, j);
      await eventually(async () => ((await claimOf(j)) ? true : undefined), 10_000, 'the crashing job claiming its notification');
      worker.resume();
      // The same notification queued as another job (as a producer with another job id would).
      await h.queues.notify.add('deliver', { delivery: j }, { jobId: `n-${j.id}-other` });
      await failedForStalling(`n-${j.id}`);
    } finally {
      await crashing.close(true);
    }
    expect(await finished(`n-${j.id}-other`)).toBe('sent');
    expect(messagesCarrying(j)).toHaveLength(1);
  });

  it('a job finding its notification claimed by a job active past any delivery\'s time (a hung send) takes the claim over and sends it', async () => {
    const j = job('hook');
    await worker.pause();
    // Claims, then hangs while alive: BullMQ keeps renewing its lock, the job stays active.
    const delivered = new DeliveredNotifications(h.redis, iso.redisPrefix);
    const hanging = new Worker<NotifyQueueJob>(
      'notify',
      async (bull) => {
        if ('delivery' in bull.data) await delivered.claim(bull.data.delivery.id, `${bull.id}@${bull.timestamp}`);
        await new Promise(() => undefined);
      },
      { connection: h.redis, prefix: iso.redisPrefix, concurrency: 1 },
    );
    try {
      await enqueueNotification(h.queues, j);
      await eventually(async () => ((await claimOf(j)) ? true : undefined), 10_000, 'the hanging job claiming its notification');
      // Its run started 11 minutes ago.
      await h.redis.hset(`${iso.redisPrefix}:notify:n-${j.id}`, 'processedOn', Date.now() - 11 * 60_000);
      worker.resume();
      await h.queues.notify.add('deliver', { delivery: j }, { jobId: `n-${j.id}-other` });
      expect(await finished(`n-${j.id}-other`)).toBe('sent');
    } finally {
      await hanging.close(true);
    }
    expect(messagesCarrying(j)).toHaveLength(1);
    expect(await claimOf(j)).toBe(`sent:n-${j.id}-other@${(await h.queues.notify.getJob(`n-${j.id}-other`))!.timestamp}`);
  });

  it('a sent delivery whose outcome could not be recorded (Elasticsearch down) is not sent again by its retry: the retry records it', async () => {
    const j = job('hook');
    sentRecordsToFail = 1;
    await enqueueNotification(h.queues, j);
    expect(await finished(`n-${j.id}`)).toBe('sent');
    expect(messagesCarrying(j)).toHaveLength(1);
    const recorded = await deliveryLog.list({ type: 'alert', id: j.subject.id });
    expect(recorded.filter((o) => o.status === 'sent')).toEqual([expect.objectContaining({ jobId: j.id, attempts: 2 })]);
  });

  it('a delivery sent on its last attempt whose mark of the send failed once (a Redis hiccup) stays delivered: queued anew after BullMQ dropped its job, it is not sent again', async () => {
    const j = job('hook');
    sentMarksToFail = 1;
    await h.queues.notify.add('deliver', { delivery: j }, { jobId: `n-${j.id}`, attempts: 1 });
    // Completed or failed: a job failed for good gives its claim back.
    const ended = await eventually(async () => {
      const bull = await h.queues.notify.getJob(`n-${j.id}`);
      return bull?.finishedOn ? bull : undefined;
    }, 20_000, 'the first job ending');
    const first: unknown = ended.returnvalue;
    await drop(`n-${j.id}`);

    await enqueueNotification(h.queues, j);
    const again = await finished(`n-${j.id}`);
    expect(messagesCarrying(j)).toHaveLength(1);
    expect([first, again]).toEqual(['sent', 'already-sent']);
  });

  it('a delivery sent on its last attempt whose send could never be marked completes all the same: queued as another job meanwhile, or anew after BullMQ dropped both jobs, it is not sent again', async () => {
    const j = job('hook');
    sentMarksToFail = Infinity;
    await h.queues.notify.add('deliver', { delivery: j }, { jobId: `n-${j.id}`, attempts: 1 });
    expect(await finished(`n-${j.id}`)).toBe('sent');
    expect(await claimOf(j)).toMatch(/^send:/);
    sentMarksToFail = 0;

    await h.queues.notify.add('deliver', { delivery: j }, { jobId: `n-${j.id}-other` });
    expect(await finished(`n-${j.id}-other`)).toBe('already-sent');
    expect(await claimOf(j)).toMatch(/^sent:/);
    await drop(`n-${j.id}`);
    await drop(`n-${j.id}-other`);

    await enqueueNotification(h.queues, j);
    expect(await finished(`n-${j.id}`)).toBe('already-sent');
    expect(messagesCarrying(j)).toHaveLength(1);
  });

  it('a digest flush that outlives its lock, while another flusher runs and more deliveries are held, drops none of those deliveries unsent', async () => {
    const limiter = new ChannelRateLimiter(h.redis, iso.redisPrefix);
    const digestsCarrying = (j: NotifyJob) => messagesCarrying(j).filter((r) => bodyOf(r).message.title.startsWith('【预警汇总】'));
    let recordDigests: () => void = () => undefined;
    digestRecordsWait = new Promise((r) => (recordDigests = r));
    try {
      const first = [job('hook-paced'), job('hook-paced'), job('hook-paced')];
      await limiter.block('hook-paced', 1_000, new Date());
      for (const j of first) await enqueueNotification(h.queues, j);
      for (const j of first) expect(await finished(`n-${j.id}`)).toBe('merged-into-digest');
      // The first flusher sent its digest and is slow to record it, past its lock (dropped here, as by its expiry).
      await eventually(async () => (digestsCarrying(first[0]!).length > 0 ? true : undefined), 15_000, 'the first digest');
      await h.redis.del(`${iso.redisPrefix}:notify:digest:hook-paced:lock`);
      // A second flusher runs meanwhile: it finds the batch gone, or sends it again and is as slow to record it.
      await h.queues.notify.add('digest', { digest: 'hook-paced' }, { jobId: 'digest-hook-paced-second', removeOnComplete: false });
      await eventually(
        async () => ((await h.queues.notify.getJobState('digest-hook-paced-second')) === 'completed' || digestsCarrying(first[0]!).length > 1 ? true : undefined),
        15_000,
        'the second flusher past its send',
      );
      // More deliveries held back (for long enough that their flush is another job).
      const later = [job('hook-paced'), job('hook-paced')];
      await limiter.block('hook-paced', 5_500, new Date());
      for (const j of later) await enqueueNotification(h.queues, j);
      for (const j of later) expect(await finished(`n-${j.id}`)).toBe('merged-into-digest');
      recordDigests();

      await eventually(async () => (later.every((j) => digestsCarrying(j).length > 0) ? true : undefined), 15_000, 'the digest of the deliveries held later');
      for (const j of later) expect(digestsCarrying(j)).toHaveLength(1);
    } finally {
      recordDigests();
    }
  });

  it('a delivery held back while the flush of the same 5-second window is past its read (still recording its digest) is flushed all the same', async () => {
    const limiter = new ChannelRateLimiter(h.redis, iso.redisPrefix);
    const digestsCarrying = (j: NotifyJob) => messagesCarrying(j).filter((r) => bodyOf(r).message.title.startsWith('【预警汇总】'));
    let recordDigests: () => void = () => undefined;
    digestRecordsWait = new Promise((r) => (recordDigests = r));
    try {
      // Just past the start of a window: the first flush and the next hold's flush fall in one window.
      await new Promise((r) => setTimeout(r, 5_000 - (Date.now() % 5_000) + 100));
      const first = job('hook-paced');
      await limiter.block('hook-paced', 1_000, new Date());
      await enqueueNotification(h.queues, first);
      await eventually(async () => (digestsCarrying(first).length > 0 ? true : undefined), 15_000, 'the first digest');
      // Its flush job is still active, recording the digest; one more delivery is held back.
      const later = job('hook-paced');
      await limiter.block('hook-paced', 1_000, new Date());
      await enqueueNotification(h.queues, later);
      expect(await finished(`n-${later.id}`)).toBe('merged-into-digest');
      recordDigests();

      await eventually(async () => (digestsCarrying(later).length > 0 ? true : undefined), 15_000, 'the digest carrying the delivery held later');
      expect(digestsCarrying(first)).toHaveLength(1);
    } finally {
      recordDigests();
    }
  });

  it('the same notification queued again after its first job completed and BullMQ dropped it: sent once', async () => {
    const j = job('hook');
    await enqueueNotification(h.queues, j);
    const first = await finished(`n-${j.id}`);
    await drop(`n-${j.id}`);

    await enqueueNotification(h.queues, j);
    const again = await finished(`n-${j.id}`);
    expect(messagesCarrying(j)).toHaveLength(1);
    expect([first, again]).toEqual(['sent', 'already-sent']);
  });

  it('an in-app delivery one of whose inboxes refused it is retried into that inbox alone: every recipient holds it once', async () => {
    const j: NotifyJob = { ...job('inapp'), recipients: ['duty', 'clerk', 'chief'].map((username) => ({ username, displayName: username })) };
    const refusing = inboxKey(iso.redisPrefix, 'clerk');
    await h.redis.set(refusing, 'not a list');
    try {
      await enqueueNotification(h.queues, j);
      await eventually(async () => ((await deliveryLog.list({ type: 'alert', id: j.subject.id })).some((o) => o.status === 'retrying') ? true : undefined), 15_000, 'the first attempt failing');
    } finally {
      await h.redis.del(refusing);
    }
    expect(await finished(`n-${j.id}`)).toBe('sent');
    const held = await Promise.all(['duty', 'clerk', 'chief'].map(async (u) => (await h.redis.lrange(inboxKey(iso.redisPrefix, u), 0, -1)).filter((e) => (JSON.parse(e) as { id: string }).id === j.id).length));
    expect(held).toEqual([1, 1, 1]);
  });

  const deliveryIdOf = (r: Received) => r.headers['x-qianshao-delivery'];
  const digestsCarrying = (j: NotifyJob) => messagesCarrying(j).filter((r) => bodyOf(r).message.title.startsWith('【预警汇总】'));

  it('a digest sent again after its answer was lost carries the same delivery id, which a receiver may key on', async () => {
    const held = [job('hook-paced'), job('hook-paced')];
    hook.answersToLose = 1;
    await new ChannelRateLimiter(h.redis, iso.redisPrefix).block('hook-paced', 1_000, new Date());
    for (const j of held) await enqueueNotification(h.queues, j);
    const sent = await eventually(async () => (digestsCarrying(held[0]!).length >= 2 ? digestsCarrying(held[0]!) : undefined), 15_000, 'the digest sent again');
    expect(sent.map((r) => bodyOf(r).id)).toEqual([bodyOf(sent[0]!).id, bodyOf(sent[0]!).id]);
    expect(sent.map(deliveryIdOf)).toEqual([bodyOf(sent[0]!).id, bodyOf(sent[0]!).id]);
  });

  it('a digest sent again after its answer was lost, carrying a delivery held meanwhile, is another delivery id: a receiver keying on the id drops none', async () => {
    const limiter = new ChannelRateLimiter(h.redis, iso.redisPrefix);
    const first = [job('hook-paced'), job('hook-paced')];
    hook.answersToLose = 1;
    await limiter.block('hook-paced', 1_000, new Date());
    for (const j of first) await enqueueNotification(h.queues, j);
    await eventually(async () => (digestsCarrying(first[0]!).length > 0 ? true : undefined), 15_000, 'the first digest');
    // Its answer lost, the digest is sent again; meanwhile one more delivery is held back.
    const later = job('hook-paced');
    await limiter.block('hook-paced', 1_000, new Date());
    await enqueueNotification(h.queues, later);
    expect(await finished(`n-${later.id}`)).toBe('merged-into-digest');
    await eventually(async () => (digestsCarrying(later).length > 0 ? true : undefined), 15_000, 'the digest carrying the delivery held later');

    const [lost, grown] = [digestsCarrying(first[0]!)[0]!, digestsCarrying(later)[0]!];
    expect(bodyOf(grown).message.text).toContain(first[0]!.message.title);
    expect(deliveryIdOf(grown)).not.toBe(deliveryIdOf(lost));
  });

  it('a notification merged into a digest that was sent is not sent again when queued anew', async () => {
    const j = job('hook-paced');
    await new ChannelRateLimiter(h.redis, iso.redisPrefix).block('hook-paced', 1_000, new Date());
    await enqueueNotification(h.queues, j);
    const first = await finished(`n-${j.id}`);
    await eventually(async () => (messagesCarrying(j).length > 0 ? true : undefined), 15_000, 'the digest carrying the delivery');
    await drop(`n-${j.id}`);

    await enqueueNotification(h.queues, j);
    const again = await finished(`n-${j.id}`);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(messagesCarrying(j)).toHaveLength(1);
    expect(bodyOf(messagesCarrying(j)[0]!).message.title).toMatch(/^【预警汇总】/);
    expect([first, again]).toEqual(['merged-into-digest', 'already-in-digest']);
  });

  it('a notification sent alone and queued anew while its channel holds deliveries back does not go into a digest too', async () => {
    const j = job('hook-paced');
    await enqueueNotification(h.queues, j);
    const first = await finished(`n-${j.id}`);
    await drop(`n-${j.id}`);

    await new ChannelRateLimiter(h.redis, iso.redisPrefix).block('hook-paced', 1_000, new Date());
    await enqueueNotification(h.queues, j);
    const again = await finished(`n-${j.id}`);
    // Past the block, when a digest holding it would have gone out.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(messagesCarrying(j)).toHaveLength(1);
    expect([first, again]).toEqual(['sent', 'already-sent']);
  });

  it('a delivery that failed for good does not count as delivered: queued anew once its channel works, it is sent', async () => {
    const j = job('hook-off');
    await enqueueNotification(h.queues, j);
    await finished(`n-${j.id}`, 'failed');
    await channels.put({ ...(await channels.get('hook-off'))!, enabled: true });
    await drop(`n-${j.id}`);

    await enqueueNotification(h.queues, j);
    await finished(`n-${j.id}`);
    expect(messagesCarrying(j)).toHaveLength(1);
  });

  /** A manual escalation whose write lands but whose answer and read-backs are all lost: write_outcome_unknown. */
  async function escalateUnconfirmed(id: string, reason: string, key: string) {
    await h.desk.raise(signalFor(id, 3));
    proxy.cutNext(BULK, 'before-response');
    proxy.cutNext(MGET, 'before-request', 6, { after: BULK });
    await expect(h.desk.act(id, { type: 'escalate', reason }, chief, `${id}-req`, undefined, key)).rejects.toMatchObject({ code: 'write_outcome_unknown' });
    const stored = (await h.alerts.get(id))!;
    expect(stored.escalationStep).toBe(1);
    const owed = stored.notifications.filter((r) => r.at === stored.updatedAt && r.decision === 'send').flatMap((r) => r.jobIds);
    expect(owed.length).toBeGreaterThan(0);
    return owed;
  }

  const escalations = async (id: string) => (await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.escalate');
  const settle = async (id: string) => (await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id).map((s) => s.outcome);
  const eachSentOnce = (owed: string[]) => eventually(async () => ((await timesEach(owed)).every((t) => t === 1) ? true : undefined), 15_000, 'each owed delivery sent');

  it('a settler run that wrote the record of a lost escalation but could not queue its deliveries: the next run queues them, sent once; a resend after BullMQ dropped the jobs sends none', async () => {
    const id = 'esc-settler';
    const key = `${id}-key`;
    const owed = await escalateUnconfirmed(id, '涉及多个部门，需上报', key);

    enqueuesToFail = 1;
    expect(await settle(id)).toEqual([]);
    expect(await escalations(id)).toHaveLength(1);
    expect(await new RedisUnsettledWrites(h.redis, iso.redisPrefix).list(1000)).toEqual([expect.objectContaining({ alertId: id, attempts: 1 })]);
    expect(await timesEach(owed)).toEqual(owed.map(() => 0));

    expect(await settle(id)).toEqual(['already-recorded']);
    await eachSentOnce(owed);
    for (const jobId of owed) expect(await finished(jobId)).toBe('sent');

    for (const jobId of owed) await drop(jobId);
    await h.desk.act(id, { type: 'escalate', reason: '涉及多个部门，需上报' }, chief, `${id}-again`, undefined, key);
    for (const jobId of owed) expect(await finished(jobId)).toBe('already-sent');
    expect(await timesEach(owed)).toEqual(owed.map(() => 1));
    expect(await escalations(id)).toHaveLength(1);
  });

  it('a resend that wrote the record of a lost escalation but could not queue its deliveries: the next resend queues them, sent once; the settler afterwards sends none', async () => {
    const id = 'esc-resend';
    const key = `${id}-key`;
    const owed = await escalateUnconfirmed(id, '需上报分管领导', key);

    enqueuesToFail = 1;
    await expect(h.desk.act(id, { type: 'escalate', reason: '需上报分管领导' }, chief, `${id}-resend-1`, undefined, key)).rejects.toBeInstanceOf(UnavailableError);
    expect((await escalations(id)).map((r) => r.requestId)).toEqual([`${id}-resend-1`]);

    expect((await h.desk.act(id, { type: 'escalate', reason: '需上报分管领导' }, chief, `${id}-resend-2`, undefined, key)).alert.escalationStep).toBe(1);
    await eachSentOnce(owed);
    for (const jobId of owed) expect(await finished(jobId)).toBe('sent');

    for (const jobId of owed) await drop(jobId);
    expect(await settle(id)).toEqual(['already-recorded']);
    for (const jobId of owed) expect(await finished(jobId)).toBe('already-sent');
    expect(await timesEach(owed)).toEqual(owed.map(() => 1));
    expect(await escalations(id)).toHaveLength(1);
  });
});
