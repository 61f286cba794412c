import nodemailer from 'nodemailer';
import type { Redis } from 'ioredis';
import { channelSentSecrets, secretFrom, type Channel } from '../../core/notify/channel.js';
import { assertSecretHosts, type SecretHosts } from '../../core/config/secret-hosts.js';
import { dingTalkPayload, emailContent, webhookBody, weComPayloads } from '../../core/notify/format.js';
import type { NotifyJob } from '../../core/notify/notification.js';
import { signDingTalkUrl, webhookSignature } from '../../core/notify/signing.js';
import { InvalidInputError, UnavailableError } from '../../core/errors.js';

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

/** WeCom group robot: errcode 45009 is the frequency limit (20 a minute). */
function weComSender(channel: Extract<Channel, { type: 'wecom' }>, env: NodeJS.ProcessEnv, secretHosts: SecretHosts): ChannelSender {
  return {
    async send(job) {
      assertChannelSecretHosts(channel, env, secretHosts);
      const url = robotUrl(channel, env);
      for (const payload of weComPayloads(job.message, job.recipients)) {
        const { status, json, text } = await postJson(channel, url, JSON.stringify(payload));
        if (status !== 200) throw httpFailure(channel, status, text);
        const { errcode, errmsg } = (json ?? {}) as { errcode?: number; errmsg?: string };
        if (errcode === 0) continue;
        if (errcode === 45009) throw new ChannelRateLimitedError(`${channel.name}（${channel.id}）发送过快被企业微信限流：${errmsg}`, channel.rateLimit.blockSeconds * 1000 || 60_000);
        if (errcode === -1) throw new UnavailableError(`${channel.name}（${channel.id}）企业微信系统繁忙`, 'channel_unavailable');
        throw rejected(channel, `errcode ${errcode ?? '?'} ${errmsg ?? text.slice(0, 200)}`);
      }
    },
  };
}

/** Generic webhook: JSON body, `X-Qianshao-Timestamp` and an HMAC `X-Qianshao-Signature` when a secret is set. */
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
        await transport.sendMail({ from: channel.smtp.from, to, subject, text, headers: { 'X-Qianshao-Delivery': job.id } });
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        const message = withoutSecret((err as Error).message, password);
        if (code && code >= 500) throw rejected(channel, `SMTP ${code} ${message}`);
        throw new UnavailableError(`${channel.name}（${channel.id}）邮件发送失败：${message}`, 'channel_unavailable');
      }
    },
  };
}

/** In-app: each recipient's inbox (capped) in Redis, announced on a channel the dashboard's SSE stream relays. */
function inAppSender(channel: Extract<Channel, { type: 'inapp' }>, redis: Redis, prefix: string): ChannelSender {
  return {
    async send(job, now) {
      const entry = JSON.stringify({ id: job.id, subject: job.subject, message: job.message, reason: job.reason, at: now.toISOString() });
      const multi = redis.multi();
      for (const r of job.recipients) {
        multi.lpush(inboxKey(prefix, r.username), entry).ltrim(inboxKey(prefix, r.username), 0, 199);
        multi.publish(`${prefix}:live:notifications`, JSON.stringify({ username: r.username, id: job.id }));
      }
      if (job.recipients.length === 0) throw rejected(channel, '站内通知没有接收人');
      // A transaction fails command by command: an inbox not written is no notification sent.
      const failed = (await multi.exec())?.find(([err]) => err);
      if (failed) throw new UnavailableError(`${channel.name}（${channel.id}）站内通知写入失败：${failed[0]!.message}`, 'channel_unavailable', { cause: failed[0] });
    },
  };
}

export function inboxKey(prefix: string, username: string): string {
  return `${prefix}:inbox:${username}`;
}

/** `secretHosts`: where each bound secret may be sent (`secrets.hosts`); none bound when absent. */
export function createSender(channel: Channel, deps: { env: NodeJS.ProcessEnv; redis: Redis; prefix: string; secretHosts?: SecretHosts }): ChannelSender {
  const secretHosts = deps.secretHosts ?? {};
  switch (channel.type) {
    case 'dingtalk':
      return dingTalkSender(channel, deps.env, secretHosts);
    case 'wecom':
      return weComSender(channel, deps.env, secretHosts);
    case 'webhook':
      return webhookSender(channel, deps.env, secretHosts);
    case 'email':
      return emailSender(channel, deps.env, secretHosts);
    case 'inapp':
      return inAppSender(channel, deps.redis, deps.prefix);
  }
}
