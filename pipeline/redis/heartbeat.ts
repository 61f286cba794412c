import type { Redis } from 'ioredis';
import { hostname } from 'node:os';

export type Role = 'api' | 'worker' | 'crawler';

const INTERVAL_MS = 10_000;
const TTL_SECONDS = 30;

/** Each running role writes a key that expires unless refreshed: a missing key means the role is down. */
export function startHeartbeat(redis: Redis, prefix: string, role: Role): { stop(): Promise<void> } {
  const key = `${prefix}:heartbeat:${role}:${hostname()}:${process.pid}`;
  const beat = () => redis.set(key, new Date().toISOString(), 'EX', TTL_SECONDS).catch(() => undefined);
  void beat();
  const timer = setInterval(beat, INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await redis.del(key).catch(() => undefined);
    },
  };
}

export interface RoleHeartbeat {
  role: string;
  instance: string;
  lastBeat: string;
}

export async function readHeartbeats(redis: Redis, prefix: string): Promise<RoleHeartbeat[]> {
  const beats: RoleHeartbeat[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:heartbeat:*`, 'COUNT', 200);
    cursor = next;
    const values = keys.length > 0 ? await redis.mget(keys) : [];
    keys.forEach((key, i) => {
      const [role = '', ...rest] = key.slice(`${prefix}:heartbeat:`.length).split(':');
      const value = values[i];
      if (value) beats.push({ role, instance: rest.join(':'), lastBeat: value });
    });
  } while (cursor !== '0');
  return beats;
}
