import type { Redis } from 'ioredis';
import type { Probe } from '../../core/inspection/website-measurements.js';

/**
 * The availability probes of each position, kept for the inspection window plus a day. Port: it
 * leaves out scheduling (see `prober.ts`) and judging (`core/inspection`).
 */
export interface ProbeLog {
  record(sourceId: string, probe: Probe): Promise<void>;
  /** Probes with `from ≤ at ≤ to`, oldest first. */
  list(sourceId: string, from: Date, to: Date): Promise<Probe[]>;
}

/** One sorted set per position, scored by probe time; each write trims what is older than `keepDays`. */
export class RedisProbeLog implements ProbeLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly keepDays: number,
  ) {}

  private key(sourceId: string): string {
    return `${this.prefix}:probe:${sourceId}`;
  }

  async record(sourceId: string, probe: Probe): Promise<void> {
    const at = Date.parse(probe.at);
    await this.redis
      .multi()
      .zadd(this.key(sourceId), at, JSON.stringify(probe))
      .zremrangebyscore(this.key(sourceId), '-inf', `(${at - this.keepDays * 86_400_000}`)
      .exec();
  }

  async list(sourceId: string, from: Date, to: Date): Promise<Probe[]> {
    const raw = await this.redis.zrangebyscore(this.key(sourceId), from.getTime(), to.getTime());
    return raw.map((r) => JSON.parse(r) as Probe);
  }
}
