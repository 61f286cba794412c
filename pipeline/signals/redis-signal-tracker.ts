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
  ) {}

  async observe(post: SignalPost): Promise<SignalRecord[]> {
    const bucketMs = this.t.bucketMinutes * 60_000;
    const at = Date.parse(post.at);
    const bucket = Math.floor(at / bucketMs);
    // A post older than the baseline window only counts towards history, never signals (backfill).
    const current = Math.floor(this.now().getTime() / bucketMs);
    const live = bucket >= current - 1;
    const keep = (this.t.baselineBuckets + 2) * bucketMs;

    const seenKey = `${this.prefix}:sig:seen:${bucket}`;
    const fresh = await this.redis.sadd(seenKey, post.id);
    await this.redis.pexpire(seenKey, keep);

    const p = this.redis.pipeline();
    const fields = Array.from({ length: this.t.baselineBuckets }, (_, i) => bucket - this.t.baselineBuckets + i).flatMap((b) => [`${b}:n`, `${b}:neg`]);
    const reads: number[] = [];
    let commands = 0;
    for (const { scope, key } of post.keys) {
      const hash = `${this.prefix}:sig:${scope}:${key}`;
      if (fresh) {
        p.hincrby(hash, `${bucket}:n`, 1);
        p.hincrby(hash, `${bucket}:neg`, post.negative ? 1 : 0);
        p.hsetnx(hash, 'first', String(bucket));
        p.hdel(hash, `${bucket - this.t.baselineBuckets - 1}:n`, `${bucket - this.t.baselineBuckets - 1}:neg`);
        p.pexpire(hash, keep);
        commands += 5;
      }
      p.hmget(hash, `${bucket}:n`, `${bucket}:neg`, 'first', ...fields);
      reads.push(commands++);
    }
    const results = (await p.exec()) ?? [];
    if (!live) return [];

    const signals: SignalRecord[] = [];
    for (const [i, { scope, key }] of post.keys.entries()) {
      const [n, neg, first, ...prev] = (results[reads[i]!]?.[1] as (string | null)[] | undefined) ?? [];
      const previous: BucketCount[] = [];
      for (let j = 0; j < prev.length; j += 2) previous.push({ count: Number(prev[j] ?? 0), negative: Number(prev[j + 1] ?? 0) });
      const historyBuckets = bucket - Number(first ?? bucket);
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
}
