import type { Redis } from 'ioredis';

export type DedupeDecision = 'new' | 'changed' | 'duplicate';

/**
 * Exact dedupe on identity and content: a re-crawl of an unchanged post is a duplicate, unless the
 * post was marked deleted meanwhile (it is back: a change).
 */
export function decideDedupe(previousHash: string | null | undefined, contentHash: string, deleted = false): DedupeDecision {
  if (previousHash === null || previousHash === undefined) return 'new';
  if (deleted) return 'changed';
  return previousHash === contentHash ? 'duplicate' : 'changed';
}

/** What is remembered of a post once it is indexed. */
export interface SeenPost {
  /** Content hash last indexed. */
  hash: string;
  /** The concrete index the post lives in, so an edit months later updates it there. */
  home?: string;
  /** The post's time as first indexed (a post without a published date keeps its first collection time). */
  at?: string;
  /** When the post was marked deleted (cleared when it appears again). */
  deletedAt?: string;
}

/**
 * Remembers, per post id, what was last indexed. Written only after the post is indexed, so a
 * crash between the two re-processes the post instead of losing it.
 * Port: what it leaves out is near-duplicate detection (MinHash events), which is a later stage.
 */
export interface SeenStore {
  lookup(postId: string): Promise<SeenPost | null>;
  remember(postId: string, seen: SeenPost): Promise<void>;
}

export class RedisSeenStore implements SeenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async lookup(postId: string): Promise<SeenPost | null> {
    const raw = await this.redis.hget(`${this.prefix}:seen`, postId);
    if (raw === null) return null;
    // Records written before homes were remembered hold the bare hash.
    return raw.startsWith('{') ? (JSON.parse(raw) as SeenPost) : { hash: raw };
  }

  async remember(postId: string, seen: SeenPost): Promise<void> {
    await this.redis.hset(`${this.prefix}:seen`, postId, JSON.stringify(seen));
  }
}
