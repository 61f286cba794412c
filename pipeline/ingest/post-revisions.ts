import type { PostChange } from '../../core/alerts/post-change-note.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { decideDeletion, markDeleted, type DeletionDecision, type RevisionKind } from '../../core/posts/post-change.js';
import type { IndexedPost } from '../../core/posts/post.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';
import type { PostStore } from '../elasticsearch/es-post-store.js';
import type { SeenStore } from './dedupe.js';
import { postIdOf } from './normalize.js';

/** What the deletion path needs (a subset of the ingest path's dependencies). */
export interface DeletionDeps {
  seen: SeenStore;
  posts: PostStore;
  /** Counts the deletion towards its position's deletion baseline; returns the spikes it raises. */
  observeDeletion(deletion: { postId: string; sourceId: string; at: string }): Promise<SignalRecord[]>;
  writeSignal(signal: SignalRecord): Promise<void>;
  /** A spike of deletions on a position becomes an alert (the `alert` queue). */
  raiseDeletionSpike(signal: SignalRecord): Promise<void>;
  /** Tells the alerts holding the post or its event (the `alert` queue). */
  handOverChange(change: PostChange): Promise<void>;
  now(): Date;
}

/** A label for history lines: the title, else the start of the text. */
export function labelOf(post: Pick<IndexedPost, 'title' | 'text'>): string {
  return (post.title || post.text).slice(0, 60);
}

/** The change alerts hear about for a re-indexed post: a rewording or a return; an answer alone is not one. */
export function changeOfRevision(post: IndexedPost, revision: RevisionKind): PostChange | undefined {
  if (revision !== 'reworded' && revision !== 'restored') return undefined;
  return {
    postId: post.id,
    change: revision === 'reworded' ? 'edited' : 'restored',
    ...(post.eventId ? { eventId: post.eventId } : {}),
    sourceId: post.sourceId,
    label: labelOf(post),
    seenAt: post.collectedAt,
    key: post.contentHash,
  };
}

/**
 * A post gone from its position: the indexed document is marked (never removed, its text stays),
 * the deletion counts towards the position's baseline, and the alerts holding the post or its event
 * hear of it. Idempotent: a retry finds the mark and only re-tells (the desk notes a change once).
 */
export async function noteDeletion(deps: DeletionDeps, item: CollectedItem): Promise<{ postId: string; decision: DeletionDecision; signals: number }> {
  const postId = postIdOf(item);
  const seen = await deps.seen.lookup(postId);
  const home = seen?.home ?? (await deps.posts.locate(postId));
  const indexed = await deps.posts.get(postId, home);
  const decision = decideDeletion(indexed);
  if (!indexed || decision === 'never-indexed') return { postId, decision, signals: 0 };
  const marked = decision === 'mark-deleted' ? markDeleted(indexed, item, deps.now()) : indexed;
  const deletion = marked.deleted!;
  let signals: SignalRecord[] = [];
  if (decision === 'mark-deleted') {
    const index = await deps.posts.upsert(marked, home);
    // Counted by when the crawl saw the post gone: a spike is about deletions now, not about old posts.
    signals = await deps.observeDeletion({ postId, sourceId: marked.sourceId, at: deletion.crawl.at });
    await Promise.all(signals.flatMap((s) => [deps.writeSignal(s), deps.raiseDeletionSpike(s)]));
    await deps.seen.remember(postId, { hash: marked.contentHash, home: index, at: marked.at, deletedAt: deletion.at });
  } else if (!seen?.deletedAt && home) {
    await deps.seen.remember(postId, { hash: marked.contentHash, home, at: marked.at, deletedAt: deletion.at });
  }
  await deps.handOverChange({
    postId,
    change: 'deleted',
    ...(marked.eventId ? { eventId: marked.eventId } : {}),
    sourceId: marked.sourceId,
    label: labelOf(marked),
    seenAt: deletion.crawl.at,
    key: `deleted:${deletion.at}`,
  });
  return { postId, decision, signals: signals.length };
}
