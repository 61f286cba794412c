import { loadYamlFile } from '../config/load-yaml.js';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import type { SecretEnvName } from '../config/secret-env-names.js';
import { hostOf, type SentSecret } from '../config/secret-hosts.js';

/** Env var names only: a channel's secrets (robot tokens, signing keys, SMTP passwords) never live in YAML or Elasticsearch. */
const EnvName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name (A–Z, 0–9, _)');

const RateLimitSchema = z.object({
  /** Deliveries a minute before the rest are merged into a digest. */
  perMinute: z.number().int().positive(),
  /** How long the receiver blocks a sender that exceeded its limit (DingTalk: 10 minutes). */
  blockSeconds: z.number().int().min(0).default(0),
});

const base = {
  id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  name: z.string().min(1),
  enabled: z.boolean().default(true),
};

/** Robots take a webhook URL whose query holds their access token: give it by env (`urlEnv`), or as `url` for a local test receiver. */
const robotUrl = { url: z.string().url().optional(), urlEnv: EnvName.optional() };

export const ChannelSchema = z
  .discriminatedUnion('type', [
    z.object({
      ...base,
      type: z.literal('dingtalk'),
      ...robotUrl,
      /** 加签 secret of the robot's security setting; the URL is then signed with timestamp + HMAC-SHA256. */
      secretEnv: EnvName.optional(),
      rateLimit: RateLimitSchema.default({ perMinute: 18, blockSeconds: 600 }),
    }),
    z.object({ ...base, type: z.literal('wecom'), ...robotUrl, rateLimit: RateLimitSchema.default({ perMinute: 18, blockSeconds: 60 }) }),
    z.object({
      ...base,
      type: z.literal('webhook'),
      ...robotUrl,
      /** Key for the `X-Qianshao-Signature` HMAC the receiver checks. */
      secretEnv: EnvName.optional(),
      rateLimit: RateLimitSchema.default({ perMinute: 120, blockSeconds: 0 }),
    }),
    z.object({
      ...base,
      type: z.literal('email'),
      smtp: z.object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535),
        /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
        secure: z.boolean().default(false),
        user: z.string().optional(),
        passwordEnv: EnvName.optional(),
        from: z.string().min(3),
      }),
      /** Addresses that always receive this channel's mail, besides the recipients' own. */
      to: z.array(z.string().email()).default([]),
      rateLimit: RateLimitSchema.default({ perMinute: 30, blockSeconds: 0 }),
    }),
    z.object({ ...base, type: z.literal('inapp'), rateLimit: RateLimitSchema.optional() }),
  ])
  .superRefine((c, ctx) => {
    if ((c.type === 'dingtalk' || c.type === 'wecom' || c.type === 'webhook') && !c.url === !c.urlEnv) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give exactly one of url and urlEnv' });
    }
  });
export type Channel = z.infer<typeof ChannelSchema>;

/** Reads `channels.yaml`; errors name the file, the channel and the field. */
export function loadChannels(file: string): Channel[] {
  const { channels } = loadYamlFile(z.object({ channels: z.array(ChannelSchema) }), file, 'channels_invalid', 'channels_yaml');
  const ids = new Set<string>();
  for (const c of channels) {
    if (ids.has(c.id)) throw new InvalidInputError(`${file}: channel id "${c.id}" is used twice`, 'channels_invalid');
    ids.add(c.id);
  }
  return channels;
}

/** Resolves an env-referenced secret, failing with the variable's name (never its value). */
export function secretFrom(env: NodeJS.ProcessEnv, name: string | undefined, channelId: string): string | undefined {
  if (!name) return undefined;
  const value = env[name];
  if (!value) throw new InvalidInputError(`channel ${channelId}: environment variable ${name} is not set`, 'channel_secret_missing');
  return value;
}

/** Every env var a channel names for a secret, with its field: what `secrets.envPrefixes` is checked against. */
export function channelSecretEnvNames(channel: Channel): SecretEnvName[] {
  switch (channel.type) {
    case 'dingtalk':
    case 'webhook':
      return [...(channel.urlEnv ? [{ field: 'urlEnv', name: channel.urlEnv }] : []), ...(channel.secretEnv ? [{ field: 'secretEnv', name: channel.secretEnv }] : [])];
    case 'wecom':
      return channel.urlEnv ? [{ field: 'urlEnv', name: channel.urlEnv }] : [];
    case 'email':
      return channel.smtp.passwordEnv ? [{ field: 'smtp.passwordEnv', name: channel.smtp.passwordEnv }] : [];
    case 'inapp':
      return [];
  }
}

/**
 * The host a channel sends to, as secret bindings name it: its robot or webhook URL's (the one in
 * `urlEnv` read from `env`), or the SMTP server's `host:port`. `undefined` when not known (an
 * unset or broken `urlEnv`, the in-app channel).
 */
export function channelHost(channel: Channel, env: Readonly<Record<string, string | undefined>>): string | undefined {
  switch (channel.type) {
    case 'dingtalk':
    case 'wecom':
    case 'webhook': {
      const url = channel.url ?? (channel.urlEnv ? env[channel.urlEnv] : undefined);
      return url ? hostOf(url) : undefined;
    }
    case 'email': {
      const host = channel.smtp.host.toLowerCase();
      return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${channel.smtp.port}`;
    }
    case 'inapp':
      return undefined;
  }
}

/** The secrets a channel sends (its URL's token, signing key, SMTP password), each with the host it goes to. */
export function channelSentSecrets(channel: Channel, env: Readonly<Record<string, string | undefined>>): SentSecret[] {
  const host = channelHost(channel, env);
  return channelSecretEnvNames(channel).map((n) => ({ ...n, hosts: host ? [host] : [] }));
}

/**
 * A robot's or webhook's URL as shown in API answers and audit records: its query (the access
 * token) and userinfo masked, e.g. `https://oapi.example/robot/send?access_token=***`. Storage keeps
 * the URL whole for sending.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '***';
  }
  if (u.username) u.username = '***';
  if (u.password) u.password = '***';
  u.hash = '';
  const keys = [...new Set(u.searchParams.keys())];
  u.search = '';
  const path = u.href;
  return keys.length > 0 ? `${path}?${keys.map((k) => `${encodeURIComponent(k)}=***`).join('&')}` : path;
}

/** A channel with its plain `url` redacted (see `redactUrl`), for API answers and audit records. */
export function redactChannel<C extends Channel>(channel: C): C {
  return 'url' in channel && channel.url ? { ...channel, url: redactUrl(channel.url) } : channel;
}
