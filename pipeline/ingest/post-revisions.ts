import type { PostChange } from '../../core/alerts/post-change-note.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import {
  decideDeletion,
  insertEarlierWording,
  markDeleted,
  type DeletionDecision,
  type PendingDeletionDecision,
  type PostDeletion,
  type PostHistory,
  type RevisionKind,
} from '../../core/posts/post-change.js';
import type { IndexedPost, NormalizedPost } from '../../core/posts/post.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';
import type { PostStore } from '../elasticsearch/es-post-store.js';
import type { SeenPost, SeenStore } from './dedupe.js';
import type { PendingDeletions } from './pending-deletions.js';
import { postIdOf } from './normalize.js';

/** What the deletion path needs (a subset of the ingest path's dependencies). */
export interface DeletionDeps {
  seen: SeenStore;
  /** Deletions of posts not indexed yet, applied by their first ingest. */
  pendingDeletions: PendingDeletions;
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
 * hear of it. A post not indexed yet gets a pending tombstone its first ingest applies. Idempotent:
 * a retry finds the mark (or the tombstone) and only re-tells (the desk notes a change once).
 * Runs under the post's claim.
 */
export async function noteDeletion(deps: DeletionDeps, item: CollectedItem): Promise<{ postId: string; decision: DeletionDecision; signals: number }> {
  const postId = postIdOf(item);
  const [seen, pending] = await Promise.all([deps.seen.lookup(postId), deps.pendingDeletions.get(postId)]);
  const home = seen?.home ?? (await deps.posts.locate(postId));
  const indexed = await deps.posts.get(postId, home);
  const decision = decideDeletion(indexed, { pending: pending !== undefined, lastObservedAt: seen?.observedAt, crawlAt: item.collectedAt });
  if (decision === 'stale' || decision === 'already-pending') return { postId, decision, signals: 0 };
  if (!indexed || decision === 'kept-pending') {
    const { deleted } = markDeleted({}, item, deps.now());
    await deps.pendingDeletions.keep(postId, deleted);
    return { postId, decision, signals: await countDeletion(deps, postId, deleted) };
  }
  const marked = decision === 'mark-deleted' ? markDeleted(indexed, item, deps.now()) : indexed;
  const deletion = marked.deleted!;
  let signals = 0;
  if (decision === 'mark-deleted') {
    const index = await deps.posts.upsert(marked, home);
    signals = await countDeletion(deps, postId, deletion);
    await deps.seen.remember(postId, { hash: marked.contentHash, home: index, at: marked.at, deletedAt: deletion.at, observedAt: deletion.crawl.at });
  } else if (!seen?.deletedAt && home) {
    await deps.seen.remember(postId, { hash: marked.contentHash, home, at: marked.at, deletedAt: deletion.at, observedAt: deletion.crawl.at });
  }
  await deps.handOverChange(deletionChangeOf(marked, deletion));
  return { postId, decision, signals };
}

/** Counts a deletion towards its position's baseline, by when the crawl saw the post gone: a spike is about deletions now, not about old posts. */
async function countDeletion(deps: DeletionDeps, postId: string, deletion: PostDeletion): Promise<number> {
  const signals = await deps.observeDeletion({ postId, sourceId: deletion.crawl.sourceId, at: deletion.crawl.at });
  await Promise.all(signals.flatMap((s) => [deps.writeSignal(s), deps.raiseDeletionSpike(s)]));
  return signals.length;
}

/** The change alerts hear about for a post marked deleted. */
export function deletionChangeOf(post: IndexedPost, deleted: PostDeletion): PostChange {
  return {
    postId: post.id,
    change: 'deleted',
    ...(post.eventId ? { eventId: post.eventId } : {}),
    sourceId: post.sourceId,
    label: labelOf(post),
    seenAt: deleted.crawl.at,
    key: `deleted:${deleted.at}`,
  };
}

/**
 * What a post's first ingest carries of a pending tombstone: the deletion itself (observed at or
 * before the crawl that found the post gone), or, for a post that came back, the deletion as past.
 */
export function historyOfPending(decision: PendingDeletionDecision, pending: PostDeletion | undefined, collectedAt: string): PostHistory {
  if (!pending || decision === 'none') return {};
  return decision === 'deleted-before-indexed' ? { deleted: pending } : { pastDeletions: [pending], restoredAt: collectedAt };
}

/**
 * A stale item (observed before the current wording, ingested after it) whose words are new to the
 * post: they are kept among its versions, where they would be had the jobs run in the order
 * observed, and the alerts hear of the rewording as they would have then (the same change key).
 * Resolves whether the post changed. Runs under the post's claim.
 */
export async function keepEarlierWording(deps: Pick<DeletionDeps, 'posts' | 'handOverChange'>, post: NormalizedPost, seen: SeenPost): Promise<boolean> {
  const current = await deps.posts.get(post.id, seen.home);
  const history = current && insertEarlierWording(current, post);
  if (!current || !history) return false;
  const updated: IndexedPost = { ...current, ...history };
  await deps.posts.upsert(updated, seen.home);
  const change = changeOfRevision(updated, 'reworded');
  if (change) await deps.handOverChange(change);
  return true;
}
