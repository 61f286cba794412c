import { assertSecretHosts, type SecretHosts } from '../../core/config/secret-hosts.js';
import { InvalidInputError } from '../../core/errors.js';
import { sourceSentSecrets, type Source } from '../../core/sources/source.js';
import type { CrawlFailure } from '../shared/crawl-source.js';

/**
 * What a platform answered that ends (part of) a collection: raised inside a collector, turned
 * into a {@link CrawlFailure} of its outcome. `humanCause` is what a duty officer reads (Chinese);
 * `blocked` says the platform refused us and the source should back off rather than retry now.
 */
export class PlatformFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly humanCause: string,
    readonly blocked: boolean,
    /** Worth another attempt within this run (a busy answer, a network blip). */
    readonly transient = false,
  ) {
    super(message);
    this.name = 'PlatformFailure';
  }

  toFailure(url: string): CrawlFailure {
    return { url, error: this.message, code: this.code, cause: this.humanCause, blocked: this.blocked };
  }
}

/** A failure of anything else thrown inside a collector (a bug, a malformed answer): never loses the message. */
export function failureOf(err: unknown, url: string): CrawlFailure {
  if (err instanceof PlatformFailure) return err.toFailure(url);
  const message = err instanceof Error ? err.message : String(err);
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'collect_error';
  return { url, error: message, code, cause: `采集出错：${message.slice(0, 200)}` };
}

/**
 * The failure that ends a collection before a bound secret of the source (`secrets.hosts`) would
 * go to a host outside its binding; `undefined` when every secret may go where the source says.
 */
export function secretHostRefusal(source: Source, secretHosts: SecretHosts, url: string): CrawlFailure | undefined {
  try {
    assertSecretHosts(`阵地 ${source.id}`, sourceSentSecrets(source), secretHosts);
    return undefined;
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    return { url, error: err.message, code: err.code, cause: '阵地凭据绑定的主机（secrets.hosts）不含该接口地址，凭据未发送', errorClass: 'config' };
  }
}
