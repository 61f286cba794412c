import { CollectedItemSchema } from '../../core/posts/collected-item.js';
import type { IndexedPost } from '../../core/posts/post.js';
import { InvalidInputError } from '../../core/errors.js';
import type { PostStore } from '../elasticsearch/es-post-store.js';
import type { PostClassification } from './classify.js';
import { decideDedupe, type DedupeDecision, type SeenStore } from './dedupe.js';
import { normalizeItem } from './normalize.js';
import type { Segmentation } from './segment.js';

export interface IngestDeps {
  seen: SeenStore;
  segment(text: string): Segmentation;
  classify(post: { title: string; text: string }): PostClassification;
  posts: PostStore;
  /** Hands a post that got a level (lexicon hits, a fired scheme, personal data) to alert evaluation (the `alert` queue). */
  handOver(post: IndexedPost): Promise<void>;
  now(): Date;
}

export interface IngestOutcome {
  postId: string;
  decision: DedupeDecision;
  hits: number;
}

/** The whole ingest path on one screen: normalize → dedupe → segment → classify → index → hand over. */
export function createIngestPath(deps: IngestDeps): (raw: unknown) => Promise<IngestOutcome> {
  return async (raw) => {
    const parsed = CollectedItemSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new InvalidInputError(`collected item rejected: ${why}`, 'invalid_item');
    }
    const post = normalizeItem(parsed.data);
    const decision = decideDedupe(await deps.seen.lastHash(post.id), post.contentHash);
    if (decision === 'duplicate') return { postId: post.id, decision, hits: 0 };

    const { words, keywords } = deps.segment(`${post.title}\n${post.text}`);
    const classification = deps.classify(post);
    const indexed: IndexedPost = { ...post, words, keywords, ...classification, indexedAt: deps.now().toISOString() };
    await deps.posts.upsert(indexed);
    if (indexed.level !== undefined) await deps.handOver(indexed);
    await deps.seen.remember(post.id, post.contentHash);
    return { postId: post.id, decision, hits: indexed.hits.length };
  };
}
