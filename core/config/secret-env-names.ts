import { InvalidInputError } from '../errors.js';
import type { Config } from './config-schema.js';

/** Where a secret's env var is named: the field's dotted path and the name it gives. */
export interface SecretEnvName {
  field: string;
  name: string;
}

/** The prefixes a secret's env var named through the API must start with: `secrets.envPrefixes`, and `DEMO_` while the demo runs. */
export function secretEnvPrefixes(config: Pick<Config, 'secrets' | 'demo'>): string[] {
  return [...new Set([...config.secrets.envPrefixes, ...(config.demo.enabled ? ['DEMO_'] : [])])];
}

/**
 * Refuses (400, `secret_env_not_allowed`) a name outside the allowed prefixes, naming the field and
 * the rule. Without it, whoever may edit a position or a channel could name `ES_PASSWORD` and have
 * the crawler or a sender hand the host's own secret to a host of their choosing.
 */
export function assertSecretEnvNames(names: readonly SecretEnvName[], prefixes: readonly string[]): void {
  const bad = names.filter(({ name }) => !prefixes.some((p) => name.startsWith(p)));
  if (bad.length === 0) return;
  const rule = `names given through the API must start with ${prefixes.join(' or ')} (config secrets.envPrefixes)`;
  throw new InvalidInputError(
    `环境变量名 ${bad.map((b) => b.name).join('、')} 不可用：经界面填写的密钥环境变量名须以 ${prefixes.join(' 或 ')} 开头 (${bad.map((b) => `${b.field}: ${b.name}`).join('; ')}: ${rule})`,
    'secret_env_not_allowed',
    bad.map((b) => ({ field: b.field, message: `${b.name}: ${rule}` })),
  );
}
