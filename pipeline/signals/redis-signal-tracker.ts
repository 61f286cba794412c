import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  decideSignal,
  type BucketCount,
  type SignalRecord,
  type SignalScope,
  type SignalThresholds,
} from '../../core/signals/early-signal.js';

export interface SignalPost {
  id: string;
  /** The post's own time (ISO). */
  at: string;
  negative: boolean;
  keys: { scope: SignalScope; key: string }[];
}

/**
 * Counts posts per key and bucket in Redis (`<p>:sig:<scope>:<key>`: fields `<bucket>:n` and
 * `<bucket>:neg`, plus `first`), shared by every worker, and decides with `decideSignal`. A
 * signal has one record per key, bucket and reason (deterministic id), returned every time the
 * decision holds so a retried job rewrites it. A post is counted once per key however often it is
 * re-processed (`<p>:sig:seen:<bucket>` set of post ids).
 */
export class RedisSignalTracker {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly t: SignalThresholds,
    private readonly now: () => Date,
  ) {
    if (!('qsSignalObserve' in this.redis)) this.redis.defineCommand('qsSignalObserve', { lua: OBSERVE_LUA });
    if (!('qsSignalUncount' in this.redis)) this.redis.defineCommand('qsSignalUncount', { lua: UNCOUNT_LUA });
  }

  async observe(post: SignalPost): Promise<SignalRecord[]> {
    const bucketMs = this.t.bucketMinutes * 60_000;
    const at = Date.parse(post.at);
    const bucket = Math.floor(at / bucketMs);
    // A post older than the baseline window only counts towards history, never signals (backfill).
    const current = Math.floor(this.now().getTime() / bucketMs);
    const live = bucket >= current - 1;
    const keep = (this.t.baselineBuckets + 2) * bucketMs;

    // One round trip: count the post (once) towards every key, and read each key's buckets (as one
    // comma-separated row per key: the script names the baseline's fields itself).
    const [since, ...rows] = (await (this.redis as unknown as SignalCommands).qsSignalObserve(
      2 + post.keys.length,
      `${this.prefix}:sig:since`,
      ...this.scriptKeys(post, bucket),
      post.id,
      String(bucket),
      post.negative ? '1' : '0',
      String(keep),
      String(bucket - this.t.baselineBuckets - 1),
      String(this.t.baselineBuckets),
      String(current),
    )) as string[];
    if (!live) return [];

    const signals: SignalRecord[] = [];
    for (const [i, { scope, key }] of post.keys.entries()) {
      const [n, neg, first, ...prev] = rows[i]?.split(',') ?? [];
      const previous: BucketCount[] = [];
      // Buckets before counting began in this Redis are unknown, not empty: after Redis lost its
      // counters, a baseline of zeros would make the first ordinary hours look like surges, so the
      // baseline and the history a key needs both start then.
      const baselineStart = bucket - prev.length / 2;
      for (let j = Math.max(0, 2 * (Number(since) - baselineStart)); j < prev.length; j += 2) previous.push({ count: Number(prev[j] ?? 0), negative: Number(prev[j + 1] ?? 0) });
      const historyBuckets = bucket - Math.max(Number(first ?? bucket), Number(since));
      const decision = decideSignal({ current: { count: Number(n ?? 0), negative: Number(neg ?? 0) }, previous, historyBuckets }, this.t);
      if (!decision.signal) continue;
      const reason = decision.reason as SignalRecord['reason'];
      const id = createHash('sha256').update(`${scope}\u0000${key}\u0000${bucket}\u0000${reason}`).digest('hex').slice(0, 32);
      // Re-deciding (a retry, a later post of the bucket) rewrites the same record with fresher counts.
      const firstKey = `${this.prefix}:sig:detected:${id}`;
      await this.redis.set(firstKey, this.now().toISOString(), 'PX', keep, 'NX');
      const detectedAt = (await this.redis.get(firstKey)) ?? this.now().toISOString();
      const { signal: _signal, ...figures } = decision;
      signals.push({
        ...figures,
        id,
        scope,
        key,
        reason,
        bucketStart: new Date(bucket * bucketMs).toISOString(),
        bucketMinutes: this.t.bucketMinutes,
        count: Number(n ?? 0),
        negative: Number(neg ?? 0),
        detectedAt,
      });
    }
    return signals;
  }

  /**
   * Takes a post counted in the bucket of `post.at` back out of it (a late observation showed it
   * does not belong there), unless one of `keptAt` (times it still counts at) falls in that bucket.
   * A signal its count raised stays recorded (a signal is history). Idempotent: a post not counted
   * there (or whose bucket has expired) changes nothing.
   */
  async uncount(post: SignalPost, keptAt: readonly string[]): Promise<void> {
    const bucketMs = this.t.bucketMinutes * 60_000;
    const bucket = Math.floor(Date.parse(post.at) / bucketMs);
    if (keptAt.some((t) => Math.floor(Date.parse(t) / bucketMs) === bucket)) return;
    await (this.redis as unknown as SignalCommands).qsSignalUncount(1 + post.keys.length, ...this.scriptKeys(post, bucket), post.id, String(bucket), post.negative ? '1' : '0');
  }

  /** The scripts' KEYS: the bucket's seen-post set, then one counter hash per key of the post. */
  private scriptKeys(post: SignalPost, bucket: number): string[] {
    return [`${this.prefix}:sig:seen:${bucket}`, ...post.keys.map(({ scope, key }) => `${this.prefix}:sig:${scope}:${key}`)];
  }
}

interface SignalCommands {
  qsSignalObserve(numKeys: number, ...args: string[]): Promise<unknown>;
  qsSignalUncount(numKeys: number, ...args: string[]): Promise<unknown>;
}

/**
 * KEYS: the clock's bucket when counting began in this Redis (`since`, set once), the bucket's
 * seen-post set, then one counter hash per key.
 * ARGV: post id, bucket, is negative, keep ms, the bucket that falls out of the baseline, the
 * number of baseline buckets, the clock's bucket now. Counts the post only the first time it is
 * seen in the bucket (a post published long ago counts in its own bucket but moves `since` nowhere).
 * Returns `since`, then per key one row "count,negative,first bucket,n,neg,…" with the baseline
 * buckets' counts oldest first (one string per key: the worker decodes a few strings per post, not
 * ~50 values per key).
 */
const OBSERVE_LUA = `
local since = tonumber(redis.call('GET', KEYS[1]))
if since == nil then
  since = tonumber(ARGV[7])
  redis.call('SET', KEYS[1], ARGV[7])
end
local fresh = redis.call('SADD', KEYS[2], ARGV[1])
local keep = tonumber(ARGV[4])
redis.call('PEXPIRE', KEYS[2], keep)
local b = ARGV[2]
local fields = { b .. ':n', b .. ':neg', 'first' }
local bucket, baseline = tonumber(b), tonumber(ARGV[6])
for i = bucket - baseline, bucket - 1 do
  local name = string.format('%d', i)
  fields[#fields + 1] = name .. ':n'
  fields[#fields + 1] = name .. ':neg'
end
local out = { string.format('%d', since) }
for i = 3, #KEYS do
  local h = KEYS[i]
  if fresh == 1 then
    redis.call('HINCRBY', h, b .. ':n', 1)
    redis.call('HINCRBY', h, b .. ':neg', tonumber(ARGV[3]))
    redis.call('HSETNX', h, 'first', b)
    redis.call('HDEL', h, ARGV[5] .. ':n', ARGV[5] .. ':neg')
    redis.call('PEXPIRE', h, keep)
  end
  local row = redis.call('HMGET', h, unpack(fields))
  -- Missing counts are 0, a missing first bucket is this one.
  for j = 1, #fields do if row[j] == false then row[j] = (j == 3) and b or '0' end end
  out[#out + 1] = table.concat(row, ',')
end
return out
`;

/**
 * KEYS: the bucket's seen-post set, then one counter hash per key. ARGV: post id, bucket, is
 * negative. Uncounts the post only when it was counted in the bucket, and only from a count that is
 * still there (a key's counters can expire before the shared seen set does; a decrement must not
 * bring back a field, or a hash, without its expiry).
 */
const UNCOUNT_LUA = `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #KEYS do
  if redis.call('HEXISTS', KEYS[i], ARGV[2] .. ':n') == 1 then
    redis.call('HINCRBY', KEYS[i], ARGV[2] .. ':n', -1)
    if ARGV[3] == '1' and redis.call('HEXISTS', KEYS[i], ARGV[2] .. ':neg') == 1 then redis.call('HINCRBY', KEYS[i], ARGV[2] .. ':neg', -1) end
  end
end
return 1
`;
