import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { Client } from '@elastic/elasticsearch';
import { createLogger } from '../../core/logger.js';
import type { Channel } from '../../core/notify/channel.js';
import type { NotifyJob } from '../../core/notify/notification.js';
import { createQueues, createRedis, type NotifyQueueJob, type Queues } from '../../pipeline/queues.js';
import { EsChannelStore } from '../../pipeline/notify/es-channel-store.js';
import { EsDeliveryLog, type DeliveryRecord } from '../../pipeline/notify/es-delivery-log.js';
import { startNotifyWorker } from '../../pipeline/notify/notify-worker.js';
import { auditedOutcomes } from '../../pipeline/notify/audited-outcomes.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { AUDIT_CHECKPOINTS_MAPPING, AUDIT_MAPPING, ensureIndex } from '../../pipeline/elasticsearch/indices.js';
import { enqueueNotification } from '../../pipeline/notify/enqueue-notification.js';
import { createSender, inboxKey } from '../../pipeline/notify/senders.js';
import { eventually, isolation } from '../support/isolation.js';
import { startDingTalkRobot, startWeComRobot, startWebhookReceiver, type Receiver } from '../fixtures/receivers/robots.js';
import { startSmtpReceiver } from '../fixtures/receivers/smtp-receiver.js';

const iso = isolation();
const redis = createRedis(iso.redisUrl);
const es = new Client({ node: iso.esUrl });
let queues: Queues;
let worker: Worker<NotifyQueueJob>;
let store: EsChannelStore;
let log: EsDeliveryLog;
let audit: EsAuditLog;
const receivers: { close(): Promise<void> }[] = [];
const env: NodeJS.ProcessEnv = { DT_SECRET: 'SEC-test-secret-1234567890', HOOK_SECRET: 'hook-secret' };

let n = 0;
function job(channelId: string, over: Partial<NotifyJob> = {}): NotifyJob {
  n++;
  return {
    id: `alert-${n}-step-1-${channelId}`,
    channelId,
    recipients: [{ username: 'duty', displayName: '张值班', mobile: '13800001234', email: 'duty@unit.example' }],
    message: { title: `【三级黄色预警】县医院收费问题 ${n}`, text: '网民留言：县医院*乱收费*，[点此](http://evil.example) @所有人', level: 3, link: `http://127.0.0.1:8600/alerts/a${n}` },
    reason: 'first',
    subject: { type: 'alert', id: `a${n}` },
    ...over,
  };
}

async function outcomes(subjectId: string): Promise<DeliveryRecord[]> {
  return log.list({ type: 'alert', id: subjectId });
}

async function finalOutcome(subjectId: string, timeoutMs = 20_000): Promise<DeliveryRecord> {
  return eventually(async () => (await outcomes(subjectId)).find((o) => o.status === 'sent' || o.status === 'failed'), timeoutMs, `a final outcome for ${subjectId}`);
}

let dingtalk: Receiver;
let dingtalkTight: Receiver;
let wecom: Awaited<ReturnType<typeof startWeComRobot>>;
let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;

beforeAll(async () => {
  dingtalk = await startDingTalkRobot({ accessToken: 'tok-duty', secret: env.DT_SECRET! });
  dingtalkTight = await startDingTalkRobot({ accessToken: 'tok-tight', perMinute: 3, blockMs: 2_000 });
  wecom = await startWeComRobot({ key: 'wecom-key' });
  hook = await startWebhookReceiver({ secret: env.HOOK_SECRET!, failFirst: 1 });
  smtp = await startSmtpReceiver({ reject: ['gone@unit.example'] });
  receivers.push(dingtalk, dingtalkTight, wecom, hook, smtp);
  const channels: Channel[] = [
    { id: 'dt-duty', name: '值班钉钉群', type: 'dingtalk', enabled: true, url: dingtalk.url, secretEnv: 'DT_SECRET', rateLimit: { perMinute: 18, blockSeconds: 600 } },
    { id: 'dt-wrong', name: '签名错误的钉钉群', type: 'dingtalk', enabled: true, url: dingtalk.url.replace('tok-duty', 'tok-other'), rateLimit: { perMinute: 18, blockSeconds: 600 } },
    // Our bucket is looser than the robot's own limit: the robot's "too fast" must be honoured too.
    { id: 'dt-tight', name: '限流钉钉群', type: 'dingtalk', enabled: true, url: dingtalkTight.url, rateLimit: { perMinute: 600, blockSeconds: 2 } },
    { id: 'dt-paced', name: '节流钉钉群', type: 'dingtalk', enabled: true, url: dingtalk.url, secretEnv: 'DT_SECRET', rateLimit: { perMinute: 12, blockSeconds: 600 } },
    { id: 'wecom-duty', name: '值班企业微信群', type: 'wecom', enabled: true, url: wecom.url, rateLimit: { perMinute: 18, blockSeconds: 60 } },
    { id: 'hook', name: '舆情平台对接', type: 'webhook', enabled: true, url: hook.url, secretEnv: 'HOOK_SECRET', rateLimit: { perMinute: 120, blockSeconds: 0 } },
    { id: 'mail', name: '值班邮箱', type: 'email', enabled: true, smtp: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'qianshao@unit.example' }, to: [], rateLimit: { perMinute: 30, blockSeconds: 0 } },
    { id: 'inapp', name: '站内通知', type: 'inapp', enabled: true },
  ];
  store = new EsChannelStore(es, `${iso.indexPrefix}-channels`, 0);
  await store.ensure(channels);
  log = new EsDeliveryLog(es, `${iso.indexPrefix}-notifications`);
  await log.ensure();
  await ensureIndex(es, `${iso.indexPrefix}-audit`, AUDIT_MAPPING);
  await ensureIndex(es, `${iso.indexPrefix}-audit-checkpoints`, AUDIT_CHECKPOINTS_MAPPING);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: `${iso.indexPrefix}-audit`, checkpointIndex: `${iso.indexPrefix}-audit-checkpoints`, checkpointKey: Buffer.from('n'.repeat(32)) });
  queues = createQueues(redis, iso.redisPrefix);
  worker = startNotifyWorker({
    connection: redis,
    prefix: iso.redisPrefix,
    queues,
    channels: store,
    outcomes: auditedOutcomes(log, audit, createLogger('silent')),
    dashboardUrl: 'http://127.0.0.1:8600/',
    env,
    log: createLogger('silent'),
    now: () => new Date(),
  });
});

afterAll(async () => {
  await worker?.close();
  await queues?.close();
  for (const r of receivers) await r.close();
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('notification delivery to real local receivers', () => {
  it('signs a DingTalk robot message, @-mentions the duty officer, escapes crawled markdown and links the alert', async () => {
    const j = job('dt-duty');
    await enqueueNotification(queues, j);
    expect((await finalOutcome(j.subject.id)).status).toBe('sent');
    const got = dingtalk.received.find((r) => (r.json as { markdown: { title: string } }).markdown.title === j.message.title);
    expect(got).toBeDefined();
    const body = got!.json as { markdown: { text: string }; at: { atMobiles: string[] } };
    expect(body.at.atMobiles).toEqual(['13800001234']);
    expect(body.markdown.text).toContain('@13800001234');
    expect(body.markdown.text).toContain(`[打开预警并签收](${j.message.link})`);
    // The crawled text's link and @all cannot become markup.
    expect(body.markdown.text).toContain('\\[点此\\]\\(http：//evil.example\\)');
    expect(body.markdown.text).toContain('＠所有人');
    // The delivery left a system audit record on its alert.
    const records = await eventually(async () => {
      const found = await audit.list({ entityType: 'alert', entityId: j.subject.id });
      return found.length > 0 ? found : undefined;
    }, 5_000, 'the audit record of the delivery');
    expect(records.map((r) => [r.action, r.actor.kind, r.actor.id])).toEqual([['notification.sent', 'system', 'notify']]);
    expect(records[0]!.after).toMatchObject({ jobId: j.id, channelId: 'dt-duty', status: 'sent', attempts: 1 });
  });

  it('records a refusal (wrong token) as failed at once, naming the channel but never its URL', async () => {
    const j = job('dt-wrong');
    await enqueueNotification(queues, j);
    const out = await finalOutcome(j.subject.id);
    expect(out.status).toBe('failed');
    expect(out.attempts).toBe(1);
    expect(out.error).toContain('签名错误的钉钉群');
    expect(out.error).toContain('300001');
    expect(out.error).not.toContain('tok-other');
    const audited = await eventually(async () => (await audit.list({ entityId: j.subject.id })).find((r) => r.action === 'notification.failed'), 5_000, 'the audit record of the failure');
    expect(audited).toMatchObject({ actor: { kind: 'system', id: 'notify' }, entity: { type: 'alert', id: j.subject.id } });
    expect(audited.reason).toContain('签名错误的钉钉群');
    expect(JSON.stringify(audited)).not.toContain('tok-other');
  });

  it('sends the same decided notification once, however often it is enqueued', async () => {
    const j = job('dt-duty');
    await enqueueNotification(queues, j);
    await enqueueNotification(queues, j);
    await finalOutcome(j.subject.id);
    await new Promise((r) => setTimeout(r, 500));
    expect(dingtalk.received.filter((r) => (r.json as { markdown: { title: string } }).markdown.title === j.message.title)).toHaveLength(1);
  });

  it('paces a burst by the channel bucket and merges what is held back into one digest, losing nothing', async () => {
    const burst = Array.from({ length: 16 }, () => job('dt-paced'));
    const before = dingtalk.received.length;
    for (const j of burst) await enqueueNotification(queues, j);
    const all = await eventually(
      async () => {
        const outs = await Promise.all(burst.map(async (j) => (await outcomes(j.subject.id)).find((o) => o.status === 'sent')));
        return outs.every(Boolean) ? outs : undefined;
      },
      30_000,
      'every delivery of the burst sent alone or in a digest',
    );
    const alone = all.filter((o) => !o!.digestOf);
    const inDigest = all.filter((o) => o!.digestOf);
    expect(alone.length).toBeLessThanOrEqual(12);
    expect(inDigest.length).toBeGreaterThan(0);
    const messages = dingtalk.received.slice(before);
    // Far fewer messages than deliveries, and the digest lists every held-back title.
    expect(messages.length).toBeLessThan(burst.length);
    const digest = messages.find((m) => (m.json as { markdown: { title: string } }).markdown.title.startsWith('【预警汇总】'));
    expect(digest).toBeDefined();
    for (const o of inDigest) {
      const title = burst.find((j) => j.id === o!.jobId)!.message.title;
      expect((digest!.json as { markdown: { text: string } }).markdown.text).toContain(title.replace(/【|】/g, (c) => c));
    }
  });

  it('honours a robot that says "send too fast": holds deliveries until its block ends, then sends a digest', async () => {
    const burst = Array.from({ length: 6 }, () => job('dt-tight'));
    for (const j of burst) await enqueueNotification(queues, j);
    await eventually(
      async () => {
        const outs = await Promise.all(burst.map(async (j) => (await outcomes(j.subject.id)).find((o) => o.status === 'sent')));
        return outs.every(Boolean) ? true : undefined;
      },
      30_000,
      'every delivery sent after the block',
    );
    const held = await Promise.all(burst.map(async (j) => (await outcomes(j.subject.id)).find((o) => o.status === 'merged_into_digest')));
    expect(held.filter(Boolean).length).toBeGreaterThan(0);
    expect(held.find(Boolean)!.error).toContain('接收方限流');
  });

  it('sends WeCom markdown and a text message that mentions the recipient by mobile', async () => {
    const j = job('wecom-duty');
    await enqueueNotification(queues, j);
    expect((await finalOutcome(j.subject.id)).status).toBe('sent');
    const bodies = wecom.received.map((r) => r.json as { msgtype: string; markdown?: { content: string }; text?: { mentioned_mobile_list: string[] } });
    expect(bodies.some((b) => b.msgtype === 'markdown' && b.markdown!.content.includes(j.message.link))).toBe(true);
    expect(bodies.some((b) => b.msgtype === 'text' && b.text!.mentioned_mobile_list.includes('13800001234'))).toBe(true);
  });

  it('retries a WeCom delivery whose mention failed (robot busy) with the mention alone: the group sees the alert once', async () => {
    const j = job('wecom-duty');
    wecom.busyTexts = 1;
    await enqueueNotification(queues, j);
    expect((await finalOutcome(j.subject.id)).status).toBe('sent');
    expect((await outcomes(j.subject.id)).some((o) => o.status === 'retrying' && o.error?.includes('繁忙'))).toBe(true);
    const bodies = wecom.received.map((r) => r.json as { msgtype: string; markdown?: { content: string }; text?: { content: string } });
    expect(bodies.filter((b) => b.msgtype === 'markdown' && b.markdown!.content.includes(j.message.link))).toHaveLength(1);
    expect(bodies.filter((b) => b.msgtype === 'text' && b.text!.content.includes(j.message.title))).toHaveLength(1);
  });

  it('signs webhook deliveries and retries a busy receiver until it accepts', async () => {
    const j = job('hook');
    await enqueueNotification(queues, j);
    expect((await finalOutcome(j.subject.id)).status).toBe('sent');
    expect((await outcomes(j.subject.id)).some((o) => o.status === 'retrying' && o.error?.includes('503'))).toBe(true);
    expect(hook.refused).toBe(0);
    expect((hook.received[0]!.json as { id: string }).id).toBe(j.id);
  });

  it('mails the recipients over SMTP as plain text, and records a mailbox that refuses as failed', async () => {
    const ok = job('mail');
    await enqueueNotification(queues, ok);
    expect((await finalOutcome(ok.subject.id)).status).toBe('sent');
    const mail = smtp.mails.find((m) => m.subject?.includes(ok.message.title));
    expect(mail?.text).toContain(ok.message.link);
    expect(mail?.html).toBe(false);

    const gone = job('mail', { recipients: [{ username: 'x', displayName: '离职人员', email: 'gone@unit.example' }] });
    await enqueueNotification(queues, gone);
    const out = await finalOutcome(gone.subject.id);
    expect(out.status).toBe('failed');
    expect(out.error).toContain('550');
  });

  it('mails a delivery sent again (its answer lost, or a rerun after a crash past the send) with the same Message-ID, which mail systems may drop as a duplicate', async () => {
    const sender = createSender((await store.get('mail'))!, { env, redis, prefix: iso.redisPrefix });
    const [once, other] = [job('mail'), job('mail')];
    await sender.send(once, new Date());
    await sender.send(once, new Date(Date.now() + 2_000));
    await sender.send(other, new Date());
    const idsOf = (j: NotifyJob) => smtp.mails.filter((m) => m.subject?.includes(j.message.title)).map((m) => m.messageId);
    const [first, again] = idsOf(once);
    expect(again).toBe(first);
    expect(first).toMatch(/^<[0-9a-f]{32}\.delivery@unit\.example>$/);
    expect(idsOf(other)).toHaveLength(1);
    expect(idsOf(other)[0]).not.toBe(first);
  });

  it('puts in-app notifications in each recipient inbox', async () => {
    const j = job('inapp');
    await enqueueNotification(queues, j);
    expect((await finalOutcome(j.subject.id)).status).toBe('sent');
    const inbox = await redis.lrange(inboxKey(iso.redisPrefix, 'duty'), 0, -1);
    expect(inbox.map((e) => (JSON.parse(e) as { id: string }).id)).toContain(j.id);
  });

  it('fails a delivery to an unknown channel without retrying', async () => {
    const j = job('no-such-channel');
    await enqueueNotification(queues, j);
    const out = await finalOutcome(j.subject.id);
    expect(out.status).toBe('failed');
    expect(out.error).toContain('no-such-channel');
  });

  it('leaves one system audit record per delivery outcome, in a chain that verifies', async () => {
    const subjects = [...new Set(Array.from({ length: n }, (_, i) => `a${i + 1}`))];
    const outcomesSeen = (await Promise.all(subjects.map((id) => outcomes(id)))).flat();
    const records = await eventually(async () => {
      const found = (await audit.list({ entityType: 'alert', limit: 1000 })).filter((r) => r.action.startsWith('notification.'));
      return found.length >= outcomesSeen.length ? found : undefined;
    }, 10_000, 'an audit record for every delivery outcome');
    expect(records.every((r) => r.actor.kind === 'system' && r.actor.id === 'notify')).toBe(true);
    expect(new Set(records.map((r) => r.action))).toEqual(new Set(outcomesSeen.map((o) => `notification.${o.status}`)));
    expect(await audit.verify()).toMatchObject({ ok: true });
  });
});
