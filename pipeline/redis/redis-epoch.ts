import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { systemActor, type AuditLog } from '../../core/audit/audit-log.js';
import type { Logger } from '../../core/logger.js';

/** What a role re-creates once Redis lost its data (job schedulers, seeded positions, clock jobs); idempotent. */
export type RedisLostHook = () => Promise<unknown>;

export interface RedisEpoch {
  /** The epoch this process last saw. */
  current(): string;
  /** Adds a hook run (after the ones added before it) once per lost epoch; a failed hook is run again at the next check. */
  onLost(name: string, hook: RedisLostHook): void;
  /** Reads the sentinel now (the timer and a reconnect call it); resolves once the hooks a loss calls for have run. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Notices that Redis lost its data while the product runs (a restart without persistence, a failover
 * to an empty replica, an operator's FLUSHALL), which takes with it what only start-up writes: job
 * schedulers, the positions seeded from YAML, delayed clock jobs. The sentinel `<prefix>:epoch` holds
 * a random value without expiry, written if absent when the process starts; the process reads it every
 * `everyMs` and when its connection is ready again. Gone, it is written again with `SET NX`, so the
 * processes that find it gone agree on one new epoch; a value other than the one last seen (another
 * process wrote it first) is a loss as well. Each loss is logged as an error, recorded once in the
 * audit trail (whichever process records it first) and runs the hooks once.
 */
export async function startRedisEpoch(deps: { redis: Redis; prefix: string; everyMs: number; log: Logger; audit?: AuditLog }): Promise<RedisEpoch> {
  const key = `${deps.prefix}:epoch`;
  const hooks: { name: string; hook: RedisLostHook }[] = [];
  // Hooks of the epoch last lost that have not succeeded yet.
  let owed: typeof hooks = [];

  async function read(): Promise<string> {
    for (;;) {
      const seen = await deps.redis.get(key);
      if (seen) return seen;
      await deps.redis.set(key, randomUUID(), 'NX');
    }
  }

  let epoch = await read();

  async function runOwed(): Promise<void> {
    const failed: typeof hooks = [];
    for (const h of owed) {
      try {
        await h.hook();
      } catch (err) {
        deps.log.warn({ err: (err as Error).message, hook: h.name }, 're-creating what Redis lost failed; tried again at the next check');
        failed.push(h);
      }
    }
    owed = failed;
  }

  async function observe(): Promise<void> {
    const seen = await read();
    if (seen !== epoch) {
      const lost = epoch;
      epoch = seen;
      owed = [...hooks];
      deps.log.error({ key, lost, epoch: seen, recreating: hooks.map((h) => h.name) }, `Redis lost its data: ${key} is gone; re-creating ${hooks.map((h) => h.name).join(', ') || 'nothing in this process'}`);
      await deps.audit
        ?.recordOnce(
          {
            actor: systemActor('redis-epoch'),
            entity: { type: 'pipeline', id: 'redis' },
            action: 'redis.data_lost',
            before: { epoch: lost },
            after: { epoch: seen },
            reason: 'Redis 数据丢失（重启未持久化、主从切换或被清空），已重建任务调度 (Redis lost its data; job schedulers re-created)',
          },
          { key: `redis-data-lost:${seen}`, maybeRecorded: false },
        )
        .catch((err: Error) => deps.log.warn({ err: err.message }, 'the audit record of a Redis data loss could not be appended'));
    }
    if (owed.length > 0) await runOwed();
  }

  let running: Promise<void> | undefined;
  const check = () => {
    running ??= observe()
      .catch((err: Error) => deps.log.debug({ err: err.message }, 'redis epoch check failed; tried again at the next one'))
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void check(), deps.everyMs);
  timer.unref();
  const onReady = () => void check();
  deps.redis.on('ready', onReady);

  return {
    current: () => epoch,
    onLost(name, hook) {
      hooks.push({ name, hook });
    },
    check,
    async stop() {
      clearInterval(timer);
      deps.redis.off('ready', onReady);
      await running;
    },
  };
}
