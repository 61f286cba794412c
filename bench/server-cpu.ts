/**
 * CPU used so far by the servers a bench talks to, read from the servers themselves (so a bench can
 * charge their share of a run to its unit of work). Both count every client's work: on a shared
 * server, others' requests during the window count too.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';

/** CPU seconds the Redis server has used so far (`INFO cpu`). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** CPU milliseconds the Elasticsearch node(s) have used so far (`_nodes/stats`, the whole JVM). */
export async function esCpuMs(es: Client): Promise<number> {
  const stats = await es.nodes.stats({ metric: 'process' });
  return Object.values(stats.nodes).reduce((sum, n) => sum + (n.process?.cpu?.total_in_millis ?? 0), 0);
}
