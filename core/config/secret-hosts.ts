import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import type { SecretEnvName } from './secret-env-names.js';

/**
 * `secrets.hosts`: per secret's env var, the hosts (`host[:port]`, as `URL.host` writes them) its
 * value may be sent to. Set in the config file by the admin only: whoever may edit a position or a
 * channel must not be able to send another one's secret (a Weibo cookie, an SMTP password) to a
 * host of their choosing.
 */
export type SecretHosts = Readonly<Record<string, readonly string[]>>;

/** A `host[:port]` exactly as `URL.host` writes it for http and https: lower case, no default port. */
export const SecretHostSchema = z.string().refine(
  (h) => ['http', 'https'].every((scheme) => URL.canParse(`${scheme}://${h}/`) && new URL(`${scheme}://${h}/`).host === h),
  'a host[:port] as URL.host writes it (lower case, no port 80 or 443), e.g. weibo.example:8443',
);

/** One secret a source or channel sends out, with the hosts it goes to (empty when not known yet). */
export interface SentSecret extends SecretEnvName {
  hosts: readonly string[];
}

/** The host of a URL as bindings name it; `undefined` for text that is no URL. */
export function hostOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).host : undefined;
}

/** Why a secret may or may not go to a host. */
export type SecretHostDecision =
  /** The secret's binding names the host. */
  | 'bound-here'
  /** The secret has a binding and the host is not in it: refused. */
  | 'bound-elsewhere'
  /** No binding: only the admin's YAML may name such a secret, and it goes where the YAML says. */
  | 'unbound';

export function decideSecretHost(bindings: SecretHosts, name: string, host: string): SecretHostDecision {
  const hosts = bindings[name];
  if (!hosts) return 'unbound';
  return hosts.includes(host.toLowerCase()) ? 'bound-here' : 'bound-elsewhere';
}

interface Refusal {
  field: string;
  name: string;
  /** The destination outside the binding; absent when the secret has no binding at all. */
  host?: string;
}

function refusalsOf(secrets: readonly SentSecret[], bindings: SecretHosts, requireBinding: boolean): Refusal[] {
  return secrets.flatMap(({ field, name, hosts }) => {
    if (!bindings[name]) return requireBinding ? [{ field, name }] : [];
    return hosts.filter((host) => decideSecretHost(bindings, name, host) === 'bound-elsewhere').map((host) => ({ field, name, host }));
  });
}

function describe(r: Refusal, bindings: SecretHosts): string {
  return r.host === undefined
    ? `${r.name} has no binding in secrets.hosts; only the config file may name a secret without one`
    : `${r.name} may only be sent to ${bindings[r.name]!.join(', ')} (secrets.hosts), not to ${r.host}`;
}

function refused(what: string, refusals: readonly Refusal[], bindings: SecretHosts): InvalidInputError {
  const cn = refusals.map((r) => (r.host === undefined ? `${r.name} 未在 secrets.hosts 中绑定主机` : `${r.name} 不可发往 ${r.host}`)).join('；');
  return new InvalidInputError(
    `${what}：${cn} (${refusals.map((r) => `${r.field}: ${describe(r, bindings)}`).join('; ')})`,
    'secret_host_not_allowed',
    refusals.map((r) => ({ field: r.field, message: describe(r, bindings) })),
  );
}

/**
 * At use, just before a secret's value leaves the process: refuses (`secret_host_not_allowed`,
 * naming the env var and the host, never the value) a bound secret bound for a host outside its
 * binding. A secret without a binding passes: the API names none such, so it comes from the
 * admin's YAML.
 */
export function assertSecretHosts(what: string, secrets: readonly SentSecret[], bindings: SecretHosts): void {
  const refusals = refusalsOf(secrets, bindings, false);
  if (refusals.length > 0) throw refused(what, refusals, bindings);
}

/**
 * At a write through the API: every secret the source or channel names must have a binding that
 * covers each host it sends to (400 `secret_host_not_allowed`, naming the field). Checked on the
 * whole result of the change, so an edit of the URL alone is checked against the secrets someone
 * else named.
 */
export function assertSecretBindings(what: string, secrets: readonly SentSecret[], bindings: SecretHosts): void {
  const refusals = refusalsOf(secrets, bindings, true);
  if (refusals.length > 0) throw refused(what, refusals, bindings);
}
