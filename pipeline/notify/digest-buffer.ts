import type { ChainableCommander, Redis } from 'ioredis';
import { NotifyJobSchema, type NotifyJob } from '../../core/notify/notification.js';

/**
 * Deliveries a rate limit held back, per channel, in arrival order, until a digest carries them.
 * Entries are removed only after the digest that carries them was delivered, so a crash between
 * reading and sending loses nothing (it may send a digest twice, never drop one). Each entry is held
 * together with its notification's mark (`DeliveredNotifications.markHeldForDigest`), so a delivery the
 * digest carries is not also sent alone, nor held twice.
 */
export class DigestBuffer {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(channelId: string): string {
    return `${this.prefix}:notify:digest:${channelId}`;
  }

  /** Holds `job` in one transaction with `mark` (what says it is held): neither happens without the other. */
  async hold(job: NotifyJob, mark: (tx: ChainableCommander) => ChainableCommander): Promise<void> {
    const results = await mark(this.redis.multi().rpush(this.key(job.channelId), JSON.stringify(job))).exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  async peek(channelId: string, max: number): Promise<NotifyJob[]> {
    const raw = await this.redis.lrange(this.key(channelId), 0, max - 1);
    return raw.flatMap((r) => {
      const parsed = NotifyJobSchema.safeParse(JSON.parse(r));
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** Drops the first `count` entries: call after they were delivered. */
  async release(channelId: string, count: number): Promise<number> {
    await this.redis.ltrim(this.key(channelId), count, -1);
    return this.redis.llen(this.key(channelId));
  }

  /** One flusher per channel at a time, across processes. */
  async lock(channelId: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const key = `${this.key(channelId)}:lock`;
    const token = `${process.pid}-${Math.random()}`;
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (!ok) return undefined;
    return async () => {
      if ((await this.redis.get(key)) === token) await this.redis.del(key);
    };
  }
}
