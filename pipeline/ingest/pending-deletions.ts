import type { Redis } from 'ioredis';
import type { PostDeletion } from '../../core/posts/post-change.js';
import { MAX_OBSERVATIONS } from '../../core/posts/post-observations.js';

/**
 * Deletions of posts not indexed yet (pending tombstones), kept until the post's first ingest
 * applies them in the order observed (its log replayed). Read and written under the post's claim.
 * Port: what it leaves out is any index of them; one is only ever looked up by its post id.
 */
export interface PendingDeletions {
  /** The crawls that found the post gone, in the order observed: all of them, or the first and the latest when more than `MAX_OBSERVATIONS`. */
  get(postId: string): Promise<PostDeletion[] | undefined>;
  /** Keeps a crawl's deletion among the post's; resolves false when that crawl's is kept already. */
  keep(postId: string, deletion: PostDeletion): Promise<boolean>;
  drop(postId: string): Promise<void>;
}

/** Whether two deletions are one crawl's. */
export function sameCrawl(a: PostDeletion, b: PostDeletion): boolean {
  return a.crawl.sourceId === b.crawl.sourceId && Date.parse(a.crawl.at) === Date.parse(b.crawl.at);
}

/** How long a tombstone waits for its post: as long as a replayed dead letter keeps its count. */
const PENDING_SECONDS = 30 * 86_400;

/** `<p>:pending-deletion:<post id>` → the deletions as JSON, expiring 30 days after the last kept. */
export class RedisPendingDeletions implements PendingDeletions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(postId: string): Promise<PostDeletion[] | undefined> {
    const raw = await this.redis.get(this.keyOf(postId));
    if (raw === null) return undefined;
    // Tombstones kept before crawls were listed hold one deletion.
    const kept = JSON.parse(raw) as PostDeletion | PostDeletion[];
    return Array.isArray(kept) ? kept : [kept];
  }

  async keep(postId: string, deletion: PostDeletion): Promise<boolean> {
    const kept = (await this.get(postId)) ?? [];
    if (kept.some((d) => sameCrawl(d, deletion))) return false;
    const all = [...kept, deletion].sort((a, b) => Date.parse(a.crawl.at) - Date.parse(b.crawl.at));
    const bounded = all.length > MAX_OBSERVATIONS ? [all[0]!, ...all.slice(1 - MAX_OBSERVATIONS)] : all;
    await this.redis.set(this.keyOf(postId), JSON.stringify(bounded), 'EX', PENDING_SECONDS);
    return true;
  }

  async drop(postId: string): Promise<void> {
    await this.redis.del(this.keyOf(postId));
  }

  private keyOf(postId: string): string {
    return `${this.prefix}:pending-deletion:${postId}`;
  }
}
