import type { PostChange } from '../../core/alerts/post-change-note.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import {
  carryHistory,
  decideDeletion,
  insertEarlierWording,
  insertPastDeletion,
  markDeleted,
  wordingOf,
  type WordingFindings,
  type DeletionDecision,
  type PostDeletion,
  type PostHistory,
  type RevisionKind,
} from '../../core/posts/post-change.js';
import { changedHistory, logObservation, logOf, replayedHistoryOf, wordingsOf, type ObservationLog, type Wording } from '../../core/posts/post-observations.js';
import type { IndexedPost, NormalizedPost } from '../../core/posts/post.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';
import type { PostStore } from '../elasticsearch/es-post-store.js';
import { returnAfter, type SeenPost, type SeenStore } from './dedupe.js';
import { sameCrawl, type PendingDeletions } from './pending-deletions.js';
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
 * hear of it. A post not indexed yet gets a pending tombstone (one per crawl) its first ingest applies.
 * A crawl earlier than the one the post is marked with replays the post's log (`stillGoneHistory`). Idempotent:
 * a retry finds the mark (or the tombstone) and only re-tells (the desk notes a change once).
 * A stale deletion (the post was seen back after it) is kept among the past deletions and counted,
 * as in the order observed; the alerts are not told (the post is there). Runs under the post's
 * claim, checked before each write.
 */
/** What the ingest path knows of a post when it takes its claim: its seen record and any pending tombstone. */
export interface KnownOfPost {
  seen: SeenPost | null;
  pending: PostDeletion[] | undefined;
}

export async function noteDeletion(deps: DeletionDeps, item: CollectedItem, claim: PostClaim, { seen, pending }: KnownOfPost): Promise<{ postId: string; decision: DeletionDecision; signals: number }> {
  const postId = postIdOf(item);
  const home = seen?.home ?? (await deps.posts.locate(postId));
  const indexed = await deps.posts.get(postId, home);
  const { deleted } = markDeleted({}, item, deps.now());
  const decision = decideDeletion(indexed, { pending: pending?.some((d) => sameCrawl(d, deleted)), lastObservedAt: seen?.observedAt, crawlAt: item.collectedAt });
  if (decision === 'already-pending') return { postId, decision, signals: 0 };
  if (decision === 'stale') return { postId, decision, signals: await notePastDeletion(deps, indexed!, item, seen!, home, claim) };
  if (!indexed || decision === 'kept-pending') {
    claim.assertHeld();
    await deps.pendingDeletions.keep(postId, deleted);
    // Counted once, as in order: a later crawl finding the post still gone is not another deletion.
    return { postId, decision, signals: pending ? 0 : await countDeletion(deps, postId, deleted) };
  }
  let marked = decision === 'mark-deleted' ? markDeleted(indexed, item, deps.now()) : indexed;
  let signals = 0;
  claim.assertHeld();
  if (decision === 'mark-deleted') {
    const deletion = marked.deleted!;
    const index = await deps.posts.upsert(marked, home);
    signals = await countDeletion(deps, postId, deletion);
    claim.assertHeld();
    const log = logObservation(seen, { at: deletion.crawl.at, deletion }) ?? logOf(seen);
    await deps.seen.remember(postId, { hash: marked.contentHash, home: index, at: marked.at, deletedAt: deletion.at, observedAt: deletion.crawl.at, ...log });
  } else if (home) {
    const { history, log } = stillGoneHistory(indexed, item, seen);
    if (history) {
      marked = { ...indexed, ...history };
      await deps.posts.upsert(marked, home);
    }
    // Found gone again later: a return observed in between and ingested after is then stale.
    const deletion = marked.deleted!;
    const observed = [deletion.crawl.at, item.collectedAt, ...(seen?.deletedAt && seen.observedAt ? [seen.observedAt] : [])];
    const observedAt = observed.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
    if (!seen?.deletedAt || observedAt !== seen.observedAt || log) {
      claim.assertHeld();
      await deps.seen.remember(postId, { hash: marked.contentHash, home, at: marked.at, deletedAt: deletion.at, observedAt, ...(log ?? logOf(seen)) });
    }
  }
  await deps.handOverChange(deletionChangeOf(marked, marked.deleted!));
  return { postId, decision, signals };
}

/**
 * A deletion the post came back from before it was ingested: recorded among its past deletions
 * (once: a retry finds it there) and counted by when the crawl saw the post gone, as it would have
 * been in order. Resolves the signals the count raised.
 */
async function notePastDeletion(deps: DeletionDeps, indexed: IndexedPost, item: CollectedItem, seen: SeenPost, home: string | undefined, claim: PostClaim): Promise<number> {
  const { deleted } = markDeleted({}, item, deps.now());
  const { history, log } = pastDeletionHistory(indexed, deleted, seen);
  if (history) {
    claim.assertHeld();
    await deps.posts.upsert({ ...indexed, ...history }, home);
  }
  if (log) {
    claim.assertHeld();
    await deps.seen.remember(indexed.id, { ...seen, ...log });
  }
  // Counted again on a retry: the deletion counters count a post once per bucket.
  return countDeletion(deps, indexed.id, deleted);
}

/** What a later observation does to a post's history and log (`history` absent: nothing to rewrite; `log` absent: known already). */
export interface LateObservation {
  history?: PostHistory | undefined;
  log?: ObservationLog | undefined;
}

/**
 * A crawl finding a post marked deleted still gone: kept in its log; one earlier than the crawl
 * the post is marked with replays the log in the order observed (the first crawl that found it
 * gone is its deletion; one before a sighting is a past deletion). It keeps the time the deletion
 * was recorded: the alerts heard of it under that key.
 */
export function stillGoneHistory(indexed: Wording & PostHistory, item: { sourceId: string; collectedAt: string; previousHash?: string }, seen: SeenPost | null | undefined): LateObservation {
  const { deleted } = markDeleted({}, item, new Date(indexed.deleted!.at));
  const log = logObservation(seen, { at: deleted.crawl.at, deletion: deleted });
  const replayed = replayedHistoryOf(indexed, log ?? logOf(seen));
  return { history: replayed && changedHistory(indexed, replayed), log };
}

/**
 * A deletion observed before the post was last seen on its position, ingested after: replayed in
 * the order observed; when the log cannot replay, kept among the past deletions, the post back when
 * its current words were first seen after the crawl that found it gone (`insertPastDeletion`).
 */
export function pastDeletionHistory(indexed: Wording & PostHistory, deleted: PostDeletion, seen: SeenPost): LateObservation {
  const log = logObservation(seen, { at: deleted.crawl.at, deletion: deleted });
  const replayed = replayedHistoryOf(indexed, log ?? logOf(seen));
  return { history: replayed ? changedHistory(indexed, replayed) : insertPastDeletion(indexed, deleted, returnAfter(seen, deleted.crawl.at)!), log };
}

/**
 * A wording (or a sighting of the current words) observed before the post's last observation,
 * ingested after: replayed in the order observed; when the log cannot replay, placed by what the
 * post and its seen record tell (`insertEarlierWording`; the current wording came back after this
 * one, first seen again after it, only while the post stands).
 */
export function earlierWordingHistory(current: Wording & PostHistory & { collectedAt: string }, post: Wording & { collectedAt: string }, seen: SeenPost): LateObservation {
  const log = logObservation(seen, { at: post.collectedAt, hash: post.contentHash });
  const replayed = replayedHistoryOf(current, log ?? logOf(seen), post);
  return { history: replayed ? changedHistory(current, replayed) : insertEarlierWording(current, post, seen.deletedAt === undefined ? returnAfter(seen, post.collectedAt) : undefined), log };
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

/** The log of a post once an ingested wording is kept in it (with the pending tombstones its first ingest applies). */
export function logIngest(seen: SeenPost | null | undefined, post: { contentHash: string; collectedAt: string }, tombstones: PostDeletion[] | undefined): ObservationLog | undefined {
  const before = (tombstones ?? []).reduce<ObservationLog | null | undefined>((log, deletion) => logObservation(log, { at: deletion.crawl.at, deletion }) ?? log, seen);
  return logObservation(before, { at: post.collectedAt, hash: post.contentHash });
}

/**
 * The history an indexed wording carries: the next step of the order observed (`carryHistory`:
 * the earlier wording kept, a return from deletion), or, for a stale wording that is the post's
 * last (`isLastWording`) or a first ingest after pending tombstones (`replay`), its log replayed in
 * the order observed.
 */
export function historyOfIngest(
  previous: (Wording & PostHistory & { collectedAt: string }) | undefined,
  indexed: Wording & { collectedAt: string },
  log: ObservationLog | undefined,
  replay: boolean,
): { revision: RevisionKind; history: PostHistory } {
  const { revision, history } = carryHistory(previous, indexed);
  const replayed = replay && log ? replayedHistoryOf(indexed, log, ...(previous ? wordingsOf(previous).values() : [])) : undefined;
  return { revision, history: replayed ?? history };
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
): Promise<{ changed: boolean; holds?: { index: string; eventId: string }; log?: ObservationLog }> {
  if (!current) return { changed: false };
  const { history, log } = earlierWordingHistory(current, post, seen);
  const updated: IndexedPost = { ...current, ...history };
  let index = seen.home;
  if (history) {
    claim.assertHeld();
    index = await deps.posts.upsert(updated, seen.home);
    // Only a history that places a rewording is one (an earlier sighting may only move a first sighting or a return).
    const change = history.editedAt && JSON.stringify(history.versions) !== JSON.stringify(current.versions) ? changeOfRevision(updated, 'reworded') : undefined;
    if (change) await deps.handOverChange(change);
  }
  const changed = history !== undefined;
  const holds = index !== undefined && current.eventId && wordingOf(updated, post.contentHash) ? { holds: { index, eventId: current.eventId } } : {};
  return { changed, ...holds, ...(log ? { log } : {}) };
}
