import { Client, errors } from '@elastic/elasticsearch';
import { ConflictError, NotFoundError, UnavailableError } from '../../core/errors.js';
import type { Config } from '../../core/config/config-schema.js';

export function createEsClient(config: Config['elasticsearch']): Client {
  const auth = config.username && config.password ? { username: config.username, password: config.password } : undefined;
  return new Client({ node: config.url, ...(auth ? { auth } : {}), requestTimeout: 30_000, maxRetries: 2 });
}

/** Translates the client's errors into ours, keeping the cause; call it in every adapter catch. */
export function translateEsError(err: unknown, what: string): Error {
  if (err instanceof errors.ResponseError) {
    if (err.statusCode === 409) return new ConflictError(`${what}: changed by someone else (version conflict)`, 'version_conflict');
    if (err.statusCode === 404) return new NotFoundError(`${what}: not found`);
    if (err.statusCode === 429 || (err.statusCode ?? 0) >= 500) {
      return new UnavailableError(`${what}: Elasticsearch answered ${err.statusCode}`, 'elasticsearch_unavailable', { cause: err });
    }
    return new Error(`${what}: Elasticsearch rejected the request (${err.statusCode}): ${err.message}`, { cause: err });
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) {
    return new UnavailableError(`${what}: Elasticsearch is unreachable (${err.message})`, 'elasticsearch_unavailable', { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Whether a failed request (the client's error, or ours translated from it) was answered by
 * Elasticsearch itself with its error body, as a 429 when its queues are full: a request refused as
 * a whole did nothing. A timeout, a cut connection or a gateway's 502/504 says nothing of what it did.
 */
export function answeredByElasticsearch(err: unknown): boolean {
  const cause = err instanceof errors.ResponseError ? err : err instanceof Error ? err.cause : undefined;
  if (!(cause instanceof errors.ResponseError)) return false;
  const body = cause.body as { error?: { type?: unknown } } | string | undefined;
  return typeof body === 'object' && body !== null && typeof body.error === 'object' && body.error !== null && typeof body.error.type === 'string';
}
