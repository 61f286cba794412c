import type { ChainableCommander, Redis } from 'ioredis';
import { NotifyJobSchema, type NotifyJob } from '../../core/notify/notification.js';
import { DELETE_IF_OWNER } from '../redis/owned-key.js';

/** The first entries of a channel's buffer, as read (`entries`) and as deliveries (`jobs`). */
export interface HeldBatch {
  jobs: NotifyJob[];
  entries: string[];
}

/** Drops the batch ARGV[1] entries long from the head only while its first and last entries are still there. */
const RELEASE = `
local n = tonumber(ARGV[1])
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[2] or redis.call('LINDEX', KEYS[1], n - 1) ~= ARGV[3] then
  return {0, redis.call('LLEN', KEYS[1])}
end
redis.call('LTRIM', KEYS[1], n, -1)
return {1, redis.call('LLEN', KEYS[1])}
`;

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

  async peek(channelId: string, max: number): Promise<HeldBatch> {
    const entries = await this.redis.lrange(this.key(channelId), 0, max - 1);
    const jobs = entries.flatMap((r) => {
      const parsed = NotifyJobSchema.safeParse(JSON.parse(r));
      return parsed.success ? [parsed.data] : [];
    });
    return { jobs, entries };
  }

  /**
   * Drops `batch` (call after it was delivered) if it is still at the head of the buffer, and says so,
   * and how many entries are left. A flusher that outlived its lock may find that another flusher
   * delivered and dropped the same batch: it then drops nothing, rather than newer entries never sent.
   */
  async release(channelId: string, batch: HeldBatch): Promise<{ released: boolean; left: number }> {
    const { entries } = batch;
    const [released, left] = (await this.redis.eval(RELEASE, 1, this.key(channelId), entries.length, entries[0]!, entries.at(-1)!)) as [number, number];
    return { released: released === 1, left };
  }

  /**
   * The channel's flush round: a flusher starts a new one (`startFlushRound`) before it reads the
   * buffer, so whoever holds a delivery after that start reads a round no running flush job was
   * scheduled in.
   */
  async flushRound(channelId: string): Promise<string> {
    return (await this.redis.get(`${this.key(channelId)}:round`)) ?? '0';
  }

  async startFlushRound(channelId: string): Promise<void> {
    await this.redis.incr(`${this.key(channelId)}:round`);
  }

  /** One flusher per channel at a time, across processes. */
  async lock(channelId: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const key = `${this.key(channelId)}:lock`;
    const token = `${process.pid}-${Math.random()}`;
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (!ok) return undefined;
    // One script: a GET then a DEL could delete the lock of a flusher that took it in between.
    return async () => {
      await this.redis.eval(DELETE_IF_OWNER, 1, key, token);
    };
  }
}
