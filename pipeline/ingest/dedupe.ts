import type { Redis } from 'ioredis';

export type DedupeDecision = 'new' | 'changed' | 'duplicate';

/** Exact dedupe on identity and content: a re-crawl of an unchanged post is a duplicate. */
export function decideDedupe(previousHash: string | null | undefined, contentHash: string): DedupeDecision {
  if (previousHash === null || previousHash === undefined) return 'new';
  return previousHash === contentHash ? 'duplicate' : 'changed';
}

/**
 * Remembers the content hash last indexed for each post id. Written only after the post is
 * indexed, so a crash between the two re-processes the post instead of losing it.
 * Port: what it leaves out is near-duplicate detection (MinHash events), which is a later stage.
 */
export interface SeenStore {
  lastHash(postId: string): Promise<string | null>;
  remember(postId: string, contentHash: string): Promise<void>;
}

export class RedisSeenStore implements SeenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  lastHash(postId: string): Promise<string | null> {
    return this.redis.hget(`${this.prefix}:seen`, postId);
  }

  async remember(postId: string, contentHash: string): Promise<void> {
    await this.redis.hset(`${this.prefix}:seen`, postId, contentHash);
  }
}
