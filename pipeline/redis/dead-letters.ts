import type { Redis } from 'ioredis';

/** A job that will never succeed as it is, kept with its data and why, until someone replays it. */
export interface DeadLetter {
  /** The job id (deterministic, derived from the item), which is also the dead letter's id. */
  id: string;
  queue: string;
  name: string;
  data: unknown;
  /** The error code (`invalid_item`, `document_rejected`, …) or `attempts_exhausted`. */
  code: string;
  reason: string;
  attempts: number;
  failedAt: string;
  /** How many times it was replayed before. */
  replays: number;
}

/**
 * Dead letters in Redis: `<p>:dead-letters` (hash id → JSON) and `<p>:dead-letters:by-time`
 * (sorted set for listing newest first). Port-free: Redis is the only place they live, next to the
 * queues they came from. Replaying removes the letter only after the job is queued again.
 */
export class RedisDeadLetters {
  private readonly hash: string;
  private readonly byTime: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.hash = `${prefix}:dead-letters`;
    this.byTime = `${prefix}:dead-letters:by-time`;
  }

  /**
   * Idempotent per letter id: writing the same letter again (a retried batch, the worker's fallback)
   * leaves one letter, its newest content at the place of its first failure in the list.
   */
  async add(letter: Omit<DeadLetter, 'replays'>): Promise<void> {
    const full: DeadLetter = { ...letter, replays: await this.replaysOf(letter.id) };
    const results = await this.redis.multi().hset(this.hash, letter.id, JSON.stringify(full)).zadd(this.byTime, 'NX', Date.parse(letter.failedAt), letter.id).exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (!results || failed) throw failed ?? new Error(`dead letter ${letter.id} was not written (transaction discarded)`);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const raw = await this.redis.hget(this.hash, id);
    return raw ? (JSON.parse(raw) as DeadLetter) : undefined;
  }

  async list(limit: number, offset = 0): Promise<{ total: number; letters: DeadLetter[] }> {
    const [total, ids] = await Promise.all([this.redis.zcard(this.byTime), this.redis.zrevrange(this.byTime, offset, offset + limit - 1)]);
    if (ids.length === 0) return { total, letters: [] };
    const raws = await this.redis.hmget(this.hash, ...ids);
    return { total, letters: raws.flatMap((r) => (r ? [JSON.parse(r) as DeadLetter] : [])) };
  }

  /** Marks a letter replayed: removed from the list, its replay count kept should it fail again. */
  async remove(id: string, replays: number): Promise<void> {
    await this.redis.multi().hdel(this.hash, id).zrem(this.byTime, id).set(`${this.hash}:replays:${id}`, String(replays), 'EX', 30 * 86400).exec();
  }

  async replaysOf(id: string): Promise<number> {
    return Number((await this.redis.get(`${this.hash}:replays:${id}`)) ?? 0);
  }
}
