import type { PostChange } from '../../core/alerts/post-change-note.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import {
  decideDeletion,
  insertEarlierWording,
  insertPastDeletion,
  markDeleted,
  wordingOf,
  type WordingFindings,
  type DeletionDecision,
  type PendingDeletionDecision,
  type PostDeletion,
  type PostHistory,
  type RevisionKind,
} from '../../core/posts/post-change.js';
import type { IndexedPost, NormalizedPost } from '../../core/posts/post.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';
import type { PostStore } from '../elasticsearch/es-post-store.js';
import { returnAfter, type SeenPost, type SeenStore } from './dedupe.js';
import type { PendingDeletions } from './pending-deletions.js';
import type { PostClaim } from './post-claims.js';
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
 * A stale deletion (the post was seen back after it) is kept among the past deletions and counted,
 * as in the order observed; the alerts are not told (the post is there). Runs under the post's
 * claim, checked before each write.
 */
export async function noteDeletion(deps: DeletionDeps, item: CollectedItem, claim: PostClaim): Promise<{ postId: string; decision: DeletionDecision; signals: number }> {
  const postId = postIdOf(item);
  const [seen, pending] = await Promise.all([deps.seen.lookup(postId), deps.pendingDeletions.get(postId)]);
  const home = seen?.home ?? (await deps.posts.locate(postId));
  const indexed = await deps.posts.get(postId, home);
  const decision = decideDeletion(indexed, { pending: pending !== undefined, lastObservedAt: seen?.observedAt, crawlAt: item.collectedAt });
  if (decision === 'already-pending') return { postId, decision, signals: 0 };
  if (decision === 'stale') return { postId, decision, signals: await notePastDeletion(deps, indexed!, item, seen!, home, claim) };
  if (!indexed || decision === 'kept-pending') {
    const { deleted } = markDeleted({}, item, deps.now());
    claim.assertHeld();
    await deps.pendingDeletions.keep(postId, deleted);
    return { postId, decision, signals: await countDeletion(deps, postId, deleted) };
  }
  const marked = decision === 'mark-deleted' ? markDeleted(indexed, item, deps.now()) : indexed;
  const deletion = marked.deleted!;
  let signals = 0;
  claim.assertHeld();
  if (decision === 'mark-deleted') {
    const index = await deps.posts.upsert(marked, home);
    signals = await countDeletion(deps, postId, deletion);
    claim.assertHeld();
    await deps.seen.remember(postId, { hash: marked.contentHash, home: index, at: marked.at, deletedAt: deletion.at, observedAt: deletion.crawl.at });
  } else if (home) {
    // Found gone again later: a return observed in between and ingested after is then stale.
    const observed = [deletion.crawl.at, item.collectedAt, ...(seen?.deletedAt && seen.observedAt ? [seen.observedAt] : [])];
    const observedAt = observed.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
    if (!seen?.deletedAt || observedAt !== seen.observedAt) {
      await deps.seen.remember(postId, { hash: marked.contentHash, home, at: marked.at, deletedAt: deletion.at, observedAt });
    }
  }
  await deps.handOverChange(deletionChangeOf(marked, deletion));
  return { postId, decision, signals };
}

/**
 * A deletion the post came back from before it was ingested: recorded among its past deletions
 * (once: a retry finds it there) and counted by when the crawl saw the post gone, as it would have
 * been in order. Resolves the signals the count raised.
 */
async function notePastDeletion(deps: DeletionDeps, indexed: IndexedPost, item: CollectedItem, seen: SeenPost, home: string | undefined, claim: PostClaim): Promise<number> {
  const { deleted } = markDeleted({}, item, deps.now());
  // The post was back when its current words were first seen after the crawl that found it gone.
  const history = insertPastDeletion(indexed, deleted, returnAfter(seen, deleted.crawl.at)!);
  if (history) {
    claim.assertHeld();
    await deps.posts.upsert({ ...indexed, ...history }, home);
  }
  // Counted again on a retry: the deletion counters count a post once per bucket.
  return countDeletion(deps, indexed.id, deleted);
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
 * post: they are kept among its versions, with what classify found in them, where they would be had
 * the jobs run in the order observed, and the alerts hear of the rewording as they would have then
 * (the same change key). The current words seen earlier than known (a duplicate or a stale copy)
 * move back when the post was first seen or reworded. Resolves whether the post changed and, when it
 * holds that wording with its findings (so alert evaluation can read it), where the post lives and
 * its event. `current` is the post as indexed (read under the claim). Runs under the post's claim.
 */
export async function keepEarlierWording(
  deps: Pick<DeletionDeps, 'posts' | 'handOverChange'>,
  post: NormalizedPost & Partial<WordingFindings>,
  seen: SeenPost,
  current: IndexedPost | undefined,
  claim: PostClaim,
): Promise<{ changed: boolean; holds?: { index: string; eventId: string } }> {
  if (!current) return { changed: false };
  // The current wording came back after this one (first seen again after it) only while the post stands (not after its deletion).
  const history = insertEarlierWording(current, post, seen.deletedAt === undefined ? returnAfter(seen, post.collectedAt) : undefined);
  const updated: IndexedPost = { ...current, ...history };
  let index = seen.home;
  if (history) {
    claim.assertHeld();
    index = await deps.posts.upsert(updated, seen.home);
    // Only a history that places a rewording is one (an earlier sighting may only move a first sighting or a return).
    const change = history.editedAt ? changeOfRevision(updated, 'reworded') : undefined;
    if (change) await deps.handOverChange(change);
  }
  const changed = history !== undefined;
  return index !== undefined && current.eventId && wordingOf(updated, post.contentHash) ? { changed, holds: { index, eventId: current.eventId } } : { changed };
}
