import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Redis } from 'ioredis';
import { channelSentSecrets, secretFrom, type Channel } from '../../core/notify/channel.js';
import { assertSecretHosts, type SecretHosts } from '../../core/config/secret-hosts.js';
import { dingTalkPayload, emailContent, webhookBody, weComPayloads } from '../../core/notify/format.js';
import type { NotifyJob } from '../../core/notify/notification.js';
import { signDingTalkUrl, webhookSignature } from '../../core/notify/signing.js';
import { InvalidInputError, UnavailableError } from '../../core/errors.js';
import { DELIVERED_TTL_SECONDS } from './delivered-notifications.js';

/** Delivers one job to one channel; throws a typed error whose type says whether to retry. */
export interface ChannelSender {
  send(job: NotifyJob, now: Date): Promise<void>;
}

/** The receiver said "too fast": retry after the block, and hold further deliveries back meanwhile. */
export class ChannelRateLimitedError extends UnavailableError {
  constructor(message: string, readonly blockMs: number) {
    super(message, 'channel_rate_limited');
  }
}

/** A refusal that no retry will change (wrong token, signature, keyword, address): recorded with the receiver's words. */
function rejected(channel: Channel, message: string): InvalidInputError {
  return new InvalidInputError(`${channel.name}（${channel.id}）拒收：${message}`, 'channel_rejected');
}

const TIMEOUT_MS = 10_000;

async function postJson(channel: Channel, url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
  } catch (err) {
    // The URL may carry an access token: name the channel, never the URL.
    throw new UnavailableError(`${channel.name}（${channel.id}）无法连接：${(err as Error).name === 'TimeoutError' ? `超过 ${TIMEOUT_MS / 1000} 秒无响应` : withoutSecret((err as Error).message, url)}`, 'channel_unreachable');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** A foreign error's message with a secret it may quote (a URL, a password) masked. */
function withoutSecret(message: string, secret: string | undefined): string {
  return secret ? message.split(secret).join('***') : message;
}

/** The robot's URL; one from env that does not parse is refused naming the variable, never quoting its value. */
function robotUrl(channel: Extract<Channel, { type: 'dingtalk' | 'wecom' | 'webhook' }>, env: NodeJS.ProcessEnv): string {
  if (channel.url) return channel.url;
  const url = secretFrom(env, channel.urlEnv, channel.id)!;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new InvalidInputError(`${channel.name}（${channel.id}）环境变量 ${channel.urlEnv} 不是有效的 http(s) 地址`, 'channel_secret_invalid');
  }
  return url;
}

/**
 * Refuses (`secret_host_not_allowed`) before anything is sent when one of the channel's bound
 * secrets (`secrets.hosts`) would go to a host outside its binding: the robot's token in its URL,
 * the signing key, the SMTP password.
 */
function assertChannelSecretHosts(channel: Channel, env: NodeJS.ProcessEnv, secretHosts: SecretHosts): void {
  assertSecretHosts(`${channel.name}（${channel.id}）`, channelSentSecrets(channel, env), secretHosts);
}

function httpFailure(channel: Channel, status: number, text: string): Error {
  if (status === 429) return new ChannelRateLimitedError(`${channel.name}（${channel.id}）限流 (HTTP 429)`, 60_000);
  if (status >= 500 || status === 408) return new UnavailableError(`${channel.name}（${channel.id}）返回 HTTP ${status}`, 'channel_unavailable');
  return rejected(channel, `HTTP ${status} ${text.slice(0, 200)}`);
}

/** DingTalk group robot: errcode 0 is success, 130101 "send too fast" blocks the robot for 10 minutes. */
function dingTalkSender(channel: Extract<Channel, { type: 'dingtalk' }>, env: NodeJS.ProcessEnv, secretHosts: SecretHosts): ChannelSender {
  return {
    async send(job, now) {
      assertChannelSecretHosts(channel, env, secretHosts);
      const secret = secretFrom(env, channel.secretEnv, channel.id);
      const base = robotUrl(channel, env);
      const url = secret ? signDingTalkUrl(base, secret, now.getTime()) : base;
      const { status, json, text } = await postJson(channel, url, JSON.stringify(dingTalkPayload(job.message, job.recipients)));
      if (status !== 200) throw httpFailure(channel, status, text);
      const { errcode, errmsg } = (json ?? {}) as { errcode?: number; errmsg?: string };
      if (errcode === 0) return;
      if (errcode === 130101) throw new ChannelRateLimitedError(`${channel.name}（${channel.id}）发送过快被钉钉限流：${errmsg}`, channel.rateLimit.blockSeconds * 1000 || 600_000);
      if (errcode === -1) throw new UnavailableError(`${channel.name}（${channel.id}）钉钉系统繁忙`, 'channel_unavailable');
      throw rejected(channel, `errcode ${errcode ?? '?'} ${errmsg ?? text.slice(0, 200)}`);
    },
  };
}

/**
 * WeCom group robot: errcode 45009 is the frequency limit (20 a minute). A delivery that @-mentions
 * people is two messages; each but the last is remembered once taken (the last is the delivery's own
 * mark of its send), so a retry after the mention failed sends the mention alone, not the alert twice.
 */
function weComSender(channel: Extract<Channel, { type: 'wecom' }>, env: NodeJS.ProcessEnv, redis: Redis, prefix: string, secretHosts: SecretHosts): ChannelSender {
  return {
    async send(job) {
      assertChannelSecretHosts(channel, env, secretHosts);
      const url = robotUrl(channel, env);
      const payloads = weComPayloads(job.message, job.recipients);
      const partsKey = `${prefix}:notify:parts:${job.id}`;
      // Not knowing which parts were taken is retried like a failed send.
      const partsRecord = <T>(op: Promise<T>) =>
        op.catch((err: Error) => {
          throw new UnavailableError(`${channel.name}（${channel.id}）无法读写已发送的部分：${err.message}`, 'channel_unavailable', { cause: err });
        });
      const taken = payloads.length > 1 ? Number(await partsRecord(redis.get(partsKey))) : 0;
      for (const [i, payload] of payloads.entries()) {
        if (i < taken) continue;
        const { status, json, text } = await postJson(channel, url, JSON.stringify(payload));
        if (status !== 200) throw httpFailure(channel, status, text);
        const { errcode, errmsg } = (json ?? {}) as { errcode?: number; errmsg?: string };
        if (errcode === 45009) throw new ChannelRateLimitedError(`${channel.name}（${channel.id}）发送过快被企业微信限流：${errmsg}`, channel.rateLimit.blockSeconds * 1000 || 60_000);
        if (errcode === -1) throw new UnavailableError(`${channel.name}（${channel.id}）企业微信系统繁忙`, 'channel_unavailable');
        if (errcode !== 0) throw rejected(channel, `errcode ${errcode ?? '?'} ${errmsg ?? text.slice(0, 200)}`);
        if (i < payloads.length - 1) await partsRecord(redis.set(partsKey, i + 1, 'EX', DELIVERED_TTL_SECONDS));
      }
    },
  };
}

/**
 * Generic webhook: JSON body, `X-Qianshao-Timestamp` and an HMAC `X-Qianshao-Signature` when a secret
 * is set. `X-Qianshao-Delivery` (the body's `id`) is the same on every send of a delivery, its retries
 * and reruns too, while the timestamp and `sentAt` are each send's own: the receiver's key for dropping
 * a repeat.
 */
function webhookSender(channel: Extract<Channel, { type: 'webhook' }>, env: NodeJS.ProcessEnv, secretHosts: SecretHosts): ChannelSender {
  return {
    async send(job, now) {
      assertChannelSecretHosts(channel, env, secretHosts);
      const body = webhookBody(job, now);
      const ts = Math.floor(now.getTime() / 1000);
      const secret = secretFrom(env, channel.secretEnv, channel.id);
      const headers: Record<string, string> = { 'X-Qianshao-Timestamp': String(ts), 'X-Qianshao-Delivery': job.id };
      if (secret) headers['X-Qianshao-Signature'] = webhookSignature(secret, ts, body);
      const { status, text } = await postJson(channel, robotUrl(channel, env), body, headers);
      if (status < 200 || status >= 300) throw httpFailure(channel, status, text);
    },
  };
}

/**
 * The `Message-ID` of a delivery's mail, the same on every send of it: a resend after the server took
 * the mail and its answer was lost (or the worker died before marking the send) is the same message,
 * which mail systems that drop duplicate message ids drop.
 */
function deliveryMessageId(deliveryId: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)/.exec(from)?.[1] ?? 'qianshao.invalid';
  return `<${createHash('sha256').update(deliveryId).digest('hex').slice(0, 32)}.delivery@${domain}>`;
}

/** E-mail over SMTP: 5xx replies are refusals, 4xx and connection failures are retried. */
function emailSender(channel: Extract<Channel, { type: 'email' }>, env: NodeJS.ProcessEnv, secretHosts: SecretHosts): ChannelSender {
  const password = secretFrom(env, channel.smtp.passwordEnv, channel.id);
  const transport = nodemailer.createTransport({
    host: channel.smtp.host,
    port: channel.smtp.port,
    secure: channel.smtp.secure,
    ...(channel.smtp.user ? { auth: { user: channel.smtp.user, pass: password ?? '' } } : {}),
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  return {
    async send(job) {
      assertChannelSecretHosts(channel, env, secretHosts);
      const to = [...new Set([...channel.to, ...job.recipients.map((r) => r.email).filter((e): e is string => !!e)])];
      if (to.length === 0) throw rejected(channel, '没有收件地址（接收人未登记邮箱）');
      const { subject, text } = emailContent(job.message);
      try {
        await transport.sendMail({ from: channel.smtp.from, to, subject, text, messageId: deliveryMessageId(job.id, channel.smtp.from), headers: { 'X-Qianshao-Delivery': job.id } });
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        const message = withoutSecret((err as Error).message, password);
        if (code && code >= 500) throw rejected(channel, `SMTP ${code} ${message}`);
        throw new UnavailableError(`${channel.name}（${channel.id}）邮件发送失败：${message}`, 'channel_unavailable');
      }
    },
  };
}

/** How many entries an inbox keeps, newest first. */
const INBOX_SIZE = 200;

/**
 * Writes one delivery's entry into the inboxes that do not hold it yet, each with its announcement,
 * in one step: KEYS[1] the set of recipients whose inbox holds the delivery, KEYS[2..] their inboxes;
 * ARGV: the entry, the set's lifetime (s), the inbox size, the live channel, then per inbox its
 * username and announcement. An inbox that refuses the entry is skipped (a script does not roll back:
 * every inbox written is in the set with its entry); answers each refusal as username, error.
 */
const WRITE_INBOXES = `
local failed = {}
for i = 2, #KEYS do
  local username = ARGV[2 * i + 1]
  if redis.call('SISMEMBER', KEYS[1], username) == 0 then
    local pushed = redis.pcall('LPUSH', KEYS[i], ARGV[1])
    if type(pushed) == 'table' and pushed.err then
      failed[#failed + 1] = username
      failed[#failed + 1] = pushed.err
    else
      redis.call('LTRIM', KEYS[i], 0, tonumber(ARGV[3]) - 1)
      redis.call('SADD', KEYS[1], username)
      redis.call('PUBLISH', ARGV[4], ARGV[2 * i + 2])
    end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return failed
`;

/**
 * In-app: each recipient's inbox (capped) in Redis, each entry announced on `<prefix>:live:notifications`
 * (which the dashboard's `/api/live` stream does not relay). Once per delivery and recipient: a retry after some inboxes were written (another refused,
 * the answer was lost, the process died) writes and announces only the others, so nobody sees the same
 * notification twice nor counts it twice as unread. The inboxes written are remembered as long as a
 * notification id is (`DELIVERED_TTL_SECONDS`).
 */
function inAppSender(channel: Extract<Channel, { type: 'inapp' }>, redis: Redis, prefix: string): ChannelSender {
  return {
    async send(job, now) {
      if (job.recipients.length === 0) throw rejected(channel, '站内通知没有接收人');
      const entry = JSON.stringify({ id: job.id, subject: job.subject, message: job.message, reason: job.reason, at: now.toISOString() });
      const usernames = [...new Set(job.recipients.map((r) => r.username))];
      const failed = (await redis.eval(
        WRITE_INBOXES,
        1 + usernames.length,
        inboxDeliveryKey(prefix, job.id),
        ...usernames.map((u) => inboxKey(prefix, u)),
        entry,
        DELIVERED_TTL_SECONDS,
        INBOX_SIZE,
        `${prefix}:live:notifications`,
        ...usernames.flatMap((u) => [u, JSON.stringify({ username: u, id: job.id })]),
      )) as string[];
      // An inbox not written is no notification sent: the retry writes that one alone.
      if (failed.length > 0) {
        const refusals: string[] = [];
        for (let i = 0; i < failed.length; i += 2) refusals.push(`${failed[i]} ${failed[i + 1]}`);
        throw new UnavailableError(`${channel.name}（${channel.id}）站内通知写入失败：${refusals.join('；')}`, 'channel_unavailable');
      }
    },
  };
}

export function inboxKey(prefix: string, username: string): string {
  return `${prefix}:inbox:${username}`;
}

/** The recipients whose inbox holds the delivery `deliveryId`. */
function inboxDeliveryKey(prefix: string, deliveryId: string): string {
  return `${prefix}:inbox-delivery:${deliveryId}`;
}

/** `secretHosts`: where each bound secret may be sent (`secrets.hosts`); none bound when absent. */
export function createSender(channel: Channel, deps: { env: NodeJS.ProcessEnv; redis: Redis; prefix: string; secretHosts?: SecretHosts }): ChannelSender {
  const secretHosts = deps.secretHosts ?? {};
  switch (channel.type) {
    case 'dingtalk':
      return dingTalkSender(channel, deps.env, secretHosts);
    case 'wecom':
      return weComSender(channel, deps.env, deps.redis, deps.prefix, secretHosts);
    case 'webhook':
      return webhookSender(channel, deps.env, secretHosts);
    case 'email':
      return emailSender(channel, deps.env, secretHosts);
    case 'inapp':
      return inAppSender(channel, deps.redis, deps.prefix);
  }
}
