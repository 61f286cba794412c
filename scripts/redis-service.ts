import { Redis } from 'ioredis';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

async function ping(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error('redis-server is not installed and this is not root: install Debian\'s redis-server or set REDIS_URL');
  console.log('services: installing redis-server with apt-get …');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return 'redis-server';
}

/**
 * Uses the Redis at `url` when it answers; otherwise starts Debian's redis-server there (loopback
 * only) with AOF on and `noeviction`, its data under `<dataRoot>/redis`.
 */
export async function ensureRedis(url: string, dataRoot: string): Promise<string> {
  if (await ping(url)) return url;
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '::1'].includes(u.hostname)) throw new Error(`Redis at ${u.host} is unreachable and is not local, so it cannot be started here`);
  const dir = path.join(dataRoot, 'redis');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const port = u.port || '6379';
  execFileSync(redisServerBinary(), [
    '--daemonize', 'yes', '--bind', '127.0.0.1', '--port', port, '--dir', dir,
    '--appendonly', 'yes', '--maxmemory-policy', 'noeviction',
    '--pidfile', path.join(dir, 'redis.pid'), '--logfile', path.join(dir, 'redis.log'),
  ]);
  for (let i = 0; i < 50; i++) {
    if (await ping(url)) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`started redis-server on port ${port} but it does not answer; see ${path.join(dir, 'redis.log')}`);
}
