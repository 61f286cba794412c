import type { Redis } from 'ioredis';

/**
 * A token bucket per channel in Redis, shared by every worker process: `perMinute` tokens refill
 * evenly, the bucket holds at most that many, and a receiver's block (DingTalk: 10 minutes after
 * exceeding 20 a minute) empties it until the block ends.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'blocked')
local tokens = tonumber(v[1]) or cap
local ts = tonumber(v[2]) or now
local blocked = tonumber(v[3]) or 0
if blocked > now then return {0, blocked - now} end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now), 'blocked', '0')
redis.call('PEXPIRE', KEYS[1], 86400000)
return {allowed, wait}
`;

export type TakeResult = { allowed: true } | { allowed: false; waitMs: number };

export class ChannelRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(channelId: string): string {
    return `${this.prefix}:notify:bucket:${channelId}`;
  }

  async take(channelId: string, perMinute: number, now: Date): Promise<TakeResult> {
    const [allowed, wait] = (await this.redis.eval(TAKE, 1, this.key(channelId), now.getTime(), perMinute, perMinute / 60_000)) as [number, number];
    return allowed === 1 ? { allowed: true } : { allowed: false, waitMs: Math.max(1, wait) };
  }

  /**
   * The receiver refused us for sending too fast: nothing goes out on this channel for `ms`. The key
   * lives as long as the block, and at least the minute an empty bucket takes to fill again: past
   * both, a missing key (a full bucket) is what it would hold, also for a channel `take` never renews.
   */
  async block(channelId: string, ms: number, now: Date): Promise<void> {
    const key = this.key(channelId);
    const results = await this.redis
      .multi()
      .hset(key, 'tokens', '0', 'ts', String(now.getTime()), 'blocked', String(now.getTime() + ms))
      .pexpire(key, Math.max(ms, 60_000))
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }
}
