import type { Redis } from 'ioredis';
import type { PostDeletion } from '../../core/posts/post-change.js';

/**
 * Deletions of posts not indexed yet (pending tombstones), kept until the post's first ingest
 * applies them (`decidePendingDeletion`). Read and written under the post's claim.
 * Port: what it leaves out is any index of them; one is only ever looked up by its post id.
 */
export interface PendingDeletions {
  get(postId: string): Promise<PostDeletion | undefined>;
  /** Keeps the first tombstone of a post; resolves false when one is kept already. */
  keep(postId: string, deletion: PostDeletion): Promise<boolean>;
  drop(postId: string): Promise<void>;
}

/** How long a tombstone waits for its post: as long as a replayed dead letter keeps its count. */
const PENDING_SECONDS = 30 * 86_400;

/** `<p>:pending-deletion:<post id>` → the deletion as JSON, expiring after 30 days. */
export class RedisPendingDeletions implements PendingDeletions {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(postId: string): Promise<PostDeletion | undefined> {
    const raw = await this.redis.get(this.keyOf(postId));
    return raw === null ? undefined : (JSON.parse(raw) as PostDeletion);
  }

  async keep(postId: string, deletion: PostDeletion): Promise<boolean> {
    return (await this.redis.set(this.keyOf(postId), JSON.stringify(deletion), 'EX', PENDING_SECONDS, 'NX')) === 'OK';
  }

  async drop(postId: string): Promise<void> {
    await this.redis.del(this.keyOf(postId));
  }

  private keyOf(postId: string): string {
    return `${this.prefix}:pending-deletion:${postId}`;
  }
}
