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
 * KEYS: the letters hash, the by-time set, the replay counter. ARGV: id, the letter's failedAt, the new
 * replay count. Takes the letter off the list only while it is still the one read (a letter written by
 * a newer failure stays), and counts the replay; 1 when taken.
 */
const TAKE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw or cjson.decode(raw).failedAt ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[3], 'EX', 2592000)
return 1
`;

/**
 * Dead letters in Redis: `<p>:dead-letters` (hash id → JSON) and `<p>:dead-letters:by-time`
 * (sorted set for listing newest first). Port-free: Redis is the only place they live, next to the
 * queues they came from. Replaying takes the letter off the list before the job is queued again (so
 * the letter of a replay that fails at once is the new one, never deleted), and puts it back if the
 * job could not be queued.
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

  /**
   * Takes `letter` off the list to replay it, its replay count raised and kept should it fail again;
   * false when the stored letter is no longer this one (replayed by someone else, or failed anew).
   */
  async take(letter: DeadLetter): Promise<boolean> {
    return (await this.redis.eval(TAKE, 3, this.hash, this.byTime, this.replaysKey(letter.id), letter.id, letter.failedAt, letter.replays + 1)) === 1;
  }

  /** Puts back a letter taken for a replay whose job could not be queued, as it was (unless a newer one was written). */
  async restore(letter: DeadLetter): Promise<void> {
    const results = await this.redis
      .multi()
      .hsetnx(this.hash, letter.id, JSON.stringify(letter))
      .zadd(this.byTime, 'NX', Date.parse(letter.failedAt), letter.id)
      .set(this.replaysKey(letter.id), String(letter.replays), 'EX', 30 * 86400)
      .exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (!results || failed) throw failed ?? new Error(`dead letter ${letter.id} was not put back (transaction discarded)`);
  }

  private replaysKey(id: string): string {
    return `${this.hash}:replays:${id}`;
  }

  async replaysOf(id: string): Promise<number> {
    return Number((await this.redis.get(this.replaysKey(id))) ?? 0);
  }
}
