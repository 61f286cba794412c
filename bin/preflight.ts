import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import { createServer } from 'node:net';

/** A start-up problem with the fix in one line; the process prints it and exits non-zero. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    }),
  ]);
}

export async function checkRedis(redis: Redis, url: string): Promise<void> {
  try {
    await withTimeout(redis.ping(), 5_000, 'Redis');
  } catch (err) {
    throw new StartupError(`Redis at ${redact(url)} is unreachable (${(err as Error).message}). Start Redis (npm run services) or set REDIS_URL.`);
  }
  const policy = (await redis.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
  if (policy[1] && policy[1] !== 'noeviction') {
    throw new StartupError(`Redis at ${redact(url)} has maxmemory-policy=${policy[1]}; BullMQ needs noeviction (CONFIG SET maxmemory-policy noeviction).`);
  }
}

export async function checkElasticsearch(es: Client, url: string): Promise<void> {
  let status: string;
  try {
    status = (await withTimeout(es.cluster.health({ wait_for_status: 'yellow', timeout: '10s' }), 15_000, 'Elasticsearch')).status;
  } catch (err) {
    throw new StartupError(`Elasticsearch at ${redact(url)} is unreachable (${(err as Error).message}). Start it (npm run es -- start) or set ES_URL.`);
  }
  if (status === 'red') throw new StartupError(`Elasticsearch at ${redact(url)} is red: some primary shards are unassigned. Check the cluster before starting.`);
}

/** Fails before anything starts when the API port is taken, so nothing half-starts. */
export async function checkPortFree(host: string, port: number, envName: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new StartupError(
          err.code === 'EADDRINUSE'
            ? `port ${host}:${port} is already in use. Stop what runs there or set ${envName} to another port.`
            : `cannot listen on ${host}:${port}: ${err.message}`,
        ),
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** URLs may carry credentials; those never reach the terminal or a log. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
