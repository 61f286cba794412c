import { Router } from 'express';
import { z } from 'zod';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { ChannelSchema, channelSecretEnvNames, channelSentSecrets, redactChannel, redactUrl, type Channel } from '../../core/notify/channel.js';
import { assertSecretEnvNames } from '../../core/config/secret-env-names.js';
import { assertSecretBindings, type SecretHosts } from '../../core/config/secret-hosts.js';
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import type { NotifyJob } from '../../core/notify/notification.js';
import type { EsChannelStore } from '../../pipeline/notify/es-channel-store.js';
import type { EsDeliveryLog } from '../../pipeline/notify/es-delivery-log.js';
import { createSender, inboxKey } from '../../pipeline/notify/senders.js';
import { actorOf, requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { parseBody } from '../parse-body.js';

const OutcomeQuerySchema = z.object({
  subjectType: z.enum(['alert', 'ledger', 'plan', 'source', 'report', 'test']),
  subjectId: z.string().min(1).max(200),
});
const InboxQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/** A channel as the API shows it: env var names, and whether each is set — never a value; a plain `url` redacted. */
function describe(channel: Channel, env: NodeJS.ProcessEnv): Channel & { secretsSet: Record<string, boolean> } {
  const names = channelSecretEnvNames(channel).map((n) => n.name);
  return { ...redactChannel(channel), secretsSet: Object.fromEntries(names.map((n) => [n, !!env[n]])) };
}

/** A plain `url` sent back as the API showed it (redacted) means "unchanged": the stored one is kept. */
function keepStoredUrl(channel: Channel, before: Channel | undefined): Channel {
  if (!('url' in channel) || !channel.url || !before || !('url' in before) || !before.url) return channel;
  return channel.url === redactUrl(before.url) ? { ...channel, url: before.url } : channel;
}

/**
 * Notification channels (list, edit, test send), delivery outcomes by subject, and the signed-in
 * user's in-app inbox. A test send goes out at once, past the queue, and answers with the outcome.
 * A channel's secrets are env vars whose names must start with one of `secretEnvPrefixes`, each
 * bound (`secretHosts`) to the host the channel sends to (its URL's, the SMTP server's).
 */
export function notificationRoutes(deps: {
  channels: EsChannelStore;
  deliveries: EsDeliveryLog;
  audit: AuditLog;
  redis: Redis;
  prefix: string;
  env: NodeJS.ProcessEnv;
  dashboardUrl: string;
  secretEnvPrefixes: readonly string[];
  secretHosts: SecretHosts;
}): Router {
  const router = Router();

  router.get('/channels', requirePermission('roster.read'), async (_req, res) => {
    res.json({ channels: (await deps.channels.list()).map((c) => describe(c, deps.env)) });
  });

  router.put('/channels/:id', requirePermission('channels.write'), async (req, res) => {
    const id = String(req.params.id);
    const parsed = parseBody(ChannelSchema, { ...(req.body as object), id });
    assertSecretEnvNames(channelSecretEnvNames(parsed), deps.secretEnvPrefixes);
    const before = await deps.channels.get(id);
    const channel = keepStoredUrl(parsed, before);
    assertSecretBindings(`通知渠道 ${id}`, channelSentSecrets(channel, deps.env), deps.secretHosts);
    await deps.channels.put(channel);
    await deps.audit.record({ actor: actorOf(req), entity: { type: 'channel', id }, action: before ? 'channel.update' : 'channel.create', before: before && redactChannel(before), after: redactChannel(channel), requestId: req.requestId });
    res.status(before ? 200 : 201).json({ channel: describe(channel, deps.env) });
  });

  router.post('/channels/:id/test', requirePermission('channels.write'), async (req, res) => {
    const id = String(req.params.id);
    const channel = await deps.channels.get(id);
    if (!channel) throw new NotFoundError(`channel ${id} does not exist`);
    const actor = actorOf(req);
    const job: NotifyJob = {
      id: `test-${id}-${Date.now()}`,
      channelId: id,
      recipients: [{ username: actor.id, displayName: actor.displayName ?? actor.id }],
      message: { title: '【测试】前哨预警通知渠道测试', text: `${actor.displayName ?? actor.id} 发送的测试消息，收到即表示渠道「${channel.name}」可用。`, link: deps.dashboardUrl },
      reason: 'test',
      subject: { type: 'test', id },
    };
    const at = new Date();
    let error: string | undefined;
    try {
      await createSender(channel, { env: deps.env, redis: deps.redis, prefix: deps.prefix, secretHosts: deps.secretHosts }).send(job, at);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const outcome = { jobId: job.id, channelId: id, channelType: channel.type, status: error ? ('failed' as const) : ('sent' as const), at: at.toISOString(), attempts: 1, ...(error ? { error } : {}) };
    await deps.deliveries.record(job.subject, outcome);
    await deps.audit.record({ actor, entity: { type: 'channel', id }, action: 'channel.test_send', after: outcome, requestId: req.requestId });
    res.json({ outcome });
  });

  router.get('/notifications', requirePermission('alert.read'), async (req, res) => {
    const q = parseBody(OutcomeQuerySchema, req.query);
    res.json({ outcomes: await deps.deliveries.list({ type: q.subjectType, id: q.subjectId }) });
  });

  router.get('/inbox', requirePermission('alert.read'), async (req, res) => {
    const { limit } = parseBody(InboxQuerySchema, req.query);
    if (!req.user) throw new InvalidInputError('no session');
    const raw = await deps.redis.lrange(inboxKey(deps.prefix, req.user.username), 0, limit - 1);
    res.json({ notifications: raw.map((r) => JSON.parse(r) as unknown) });
  });

  return router;
}

const ChannelIdParamsSchema = z.object({ id: z.string().min(1).max(200) });
export const notificationRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/channels', tag: 'notifications', summary: '通知渠道（密钥只列环境变量名及是否已设置）' },
  { method: 'put', path: '/channels/:id', tag: 'notifications', summary: '新建或修改通知渠道（留痕）', params: ChannelIdParamsSchema, body: ChannelSchema, responses: { '200': '已修改', '201': '已创建' } },
  { method: 'post', path: '/channels/:id/test', tag: 'notifications', summary: '测试发送（立即发给本人，返回结果；留痕）', params: ChannelIdParamsSchema },
  { method: 'get', path: '/notifications', tag: 'notifications', summary: '某对象的通知投递结果', query: OutcomeQuerySchema },
  { method: 'get', path: '/inbox', tag: 'notifications', summary: '本人的站内通知', query: InboxQuerySchema },
];
