import { Router } from 'express';
import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import type { Queues } from '../../pipeline/queues.js';
import { QUEUE_NAMES } from '../../pipeline/queues.js';
import { readHeartbeats } from '../../pipeline/redis/heartbeat.js';
import type { RouteDoc } from '../openapi/openapi.js';

export interface HealthDeps {
  redis: Redis;
  es: Client;
  queues: Queues;
  prefix: string;
  /** The positions collected on an interval whose runs stopped coming (采集停滞, `crawlStalledSince`). */
  stalledPositions?(): Promise<string[]>;
}

async function check<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** `GET /api/health`: 200 when Redis answers and Elasticsearch is at least yellow, else 503 with what is wrong; also queue depths, role heartbeats and stalled positions. */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const [redis, es, queues, roles, stalled] = await Promise.all([
      check(() => deps.redis.ping()),
      check(() => deps.es.cluster.health({ timeout: '2s' })),
      check(async () =>
        Object.fromEntries(
          await Promise.all(
            QUEUE_NAMES.map(async (name) => [name, await deps.queues[name].getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')] as const),
          ),
        ),
      ),
      check(() => readHeartbeats(deps.redis, deps.prefix)),
      check(async () => (await deps.stalledPositions?.()) ?? []),
    ]);
    const esStatus = es.ok ? es.value.status : 'unreachable';
    const healthy = redis.ok && (esStatus === 'green' || esStatus === 'yellow');
    res.status(healthy ? 200 : 503).json({
      status: healthy ? 'ok' : 'degraded',
      redis: redis.ok ? { status: 'ok' } : { status: 'unreachable', error: redis.error },
      elasticsearch: es.ok
        ? { status: es.value.status, nodes: es.value.number_of_nodes, unassignedShards: es.value.unassigned_shards }
        : { status: 'unreachable', error: es.error },
      queues: queues.ok ? queues.value : { error: queues.error },
      roles: roles.ok ? roles.value : { error: roles.error },
      // Not a reason for 503 (the API itself is fine): the alert wall shows the 采集停滞 alert.
      collection: stalled.ok ? { stalled: stalled.value } : { error: stalled.error },
    });
  });
  return router;
}

export const healthRouteDocs: RouteDoc[] = [{ method: 'get', path: '/health', tag: 'api', summary: '健康检查：Redis、Elasticsearch、队列与各角色心跳', responses: { '200': '正常', '503': '降级（说明何处有问题）' } }];
