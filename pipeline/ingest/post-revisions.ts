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
import {
  changedHistory,
  changesToTell,
  deletionKeyOf,
  logObservation,
  logOf,
  pendingLogOf,
  recordedAtOf,
  recountDeletions,
  replayedHistoryOf,
  wordingsOf,
  type ObservationLog,
  type ObservedChange,
  type Wording,
} from '../../core/posts/post-observations.js';
import type { IndexedPost, NormalizedPost } from '../../core/posts/post.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';
import { clip, oneLine } from '../../core/text/clip.js';
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
  /** Counts the deletion towards its position's deletion baseline, in the bucket of `at` (when the crawl found the post gone); returns the spikes it raises. */
  observeDeletion(deletion: { postId: string; sourceId: string; at: string }): Promise<SignalRecord[]>;
  /**
   * Takes a deletion counted at `at` back out of its bucket (a late observation showed it was not the
   * first crawl of its run), unless one of the post's deletions still counted (`counted`) is in it.
   */
  uncountDeletion(deletion: { postId: string; sourceId: string; at: string; counted: string[] }): Promise<void>;
  writeSignal(signal: SignalRecord): Promise<void>;
  /** A spike of deletions on a position becomes an alert (the `alert` queue). */
  raiseDeletionSpike(signal: SignalRecord): Promise<void>;
  /** Tells the alerts holding the post or its event (the `alert` queue). */
  handOverChange(change: PostChange): Promise<void>;
}

/** A label for history lines: the title, else the start of the text; one line, never half an emoji. */
export function labelOf(post: Pick<IndexedPost, 'title' | 'text'>): string {
  return clip(oneLine(post.title || post.text), 60);
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

/** What the ingest path knows of a post when it takes its claim: its seen record and any pending tombstone. */
export interface KnownOfPost {
  seen: SeenPost | null;
  pending: PostDeletion[] | undefined;
}

/**
 * A post gone from its position: the indexed document is marked (never removed, its text stays),
 * the deletion counts towards the position's baseline, and the alerts holding the post or its event
 * hear of it. A post not indexed yet gets a pending tombstone (one per crawl) its first ingest applies.
 * A crawl earlier than the one the post is marked with replays the post's log (`stillGoneHistory`). Idempotent:
 * a retry finds the mark (or the tombstone) and only re-tells (the desk notes a change once).
 * A stale deletion (the post was seen back after it) is kept among the past deletions. Whenever a
 * crawl lands before later observations, the deletions are counted (`recount`) and the alerts told
 * (`tellChanges`: the deletion and the return after it) as in the order observed. Runs under the
 * post's claim, checked before each write.
 */
export async function noteDeletion(deps: DeletionDeps, item: CollectedItem, claim: PostClaim, { seen, pending }: KnownOfPost): Promise<{ postId: string; decision: DeletionDecision; signals: number }> {
  const postId = postIdOf(item);
  const home = seen?.home ?? (await deps.posts.locate(postId));
  const indexed = await deps.posts.get(postId, home);
  const { deleted } = markDeleted({}, item);
  const decision = decideDeletion(indexed, { pending: pending?.some((d) => sameCrawl(d, deleted)), lastObservedAt: seen?.observedAt, crawlAt: item.collectedAt });
  if (decision === 'already-pending') return { postId, decision, signals: 0 };
  if (decision === 'stale') return { postId, decision, signals: await notePastDeletion(deps, indexed!, item, seen!, home, claim) };
  if (!indexed || decision === 'kept-pending') {
    claim.assertHeld();
    await deps.pendingDeletions.keep(postId, deleted);
    // Counted once, by the first crawl that found the post gone, as in order: a later crawl finding it still gone is not another deletion.
    return { postId, decision, signals: (await recount(deps, postId, item.sourceId, pendingLogOf(pending), pendingLogOf([...(pending ?? []), deleted]))) ?? 0 };
  }
  let marked = decision === 'mark-deleted' ? markDeleted(indexed, item) : indexed;
  let signals = 0;
  claim.assertHeld();
  if (decision === 'mark-deleted') {
    const deletion = marked.deleted!;
    const index = await deps.posts.upsert(marked, home);
    signals = await countDeletion(deps, postId, deletion.crawl);
    claim.assertHeld();
    const log = logObservation(seen, { at: deletion.crawl.at, deletion }) ?? logOf(seen);
    await deps.seen.remember(postId, { hash: marked.contentHash, home: index, at: marked.at, deletedAt: deletion.at, observedAt: deletion.crawl.at, ...log });
  } else if (home) {
    const { history, log } = stillGoneHistory(indexed, item, seen);
    if (history) {
      marked = { ...indexed, ...history };
      await deps.posts.upsert(marked, home);
    }
    // A crawl earlier than the one counted, or one that a return observed in between makes a deletion of its own.
    if (log) signals = (await recount(deps, postId, item.sourceId, logOf(seen), log)) ?? 0;
    if (log) await tellChanges(deps, marked, logOf(seen), log);
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
 * (once: a retry finds it there), counted by when the crawl saw the post gone, and told to the
 * alerts with the return that followed it, as it would have been in order (`tellChanges`).
 * Resolves the signals the count raised.
 */
async function notePastDeletion(deps: DeletionDeps, indexed: IndexedPost, item: CollectedItem, seen: SeenPost, home: string | undefined, claim: PostClaim): Promise<number> {
  const { deleted } = markDeleted({}, item, recordedAtOf(seen, item.collectedAt));
  const { history, log } = pastDeletionHistory(indexed, deleted, seen);
  const updated = { ...indexed, ...history };
  if (history) {
    claim.assertHeld();
    await deps.posts.upsert(updated, home);
  }
  const after = log ?? logOf(seen);
  const counted = await recount(deps, indexed.id, item.sourceId, logOf(seen), after);
  await tellChanges(deps, updated, logOf(seen), after);
  if (log) {
    claim.assertHeld();
    await deps.seen.remember(indexed.id, { ...seen, ...log });
  }
  // A log that cannot replay: counted again on a retry (the deletion counters count a post once per bucket).
  return counted ?? countDeletion(deps, indexed.id, deleted.crawl);
}

/** What a later observation does to a post's history and log (`history` absent: nothing to rewrite; `log` absent: known already). */
export interface LateObservation {
  history?: PostHistory | undefined;
  log?: ObservationLog | undefined;
}

/**
 * A crawl finding a post marked deleted still gone: kept in its log; one earlier than the crawl
 * the post is marked with replays the log in the order observed (the first crawl that found it
 * gone is its deletion; one before a sighting is a past deletion). A crawl right before another
 * one keeps the time that one was recorded (`recordedAtOf`: the alerts heard of the run under that
 * key); any other is recorded at its own crawl time, so that as a deletion of its own (a return
 * observed before it, ingested now or later) it has its own key, the same on a retry.
 */
export function stillGoneHistory(indexed: Wording & PostHistory, item: { sourceId: string; collectedAt: string; previousHash?: string }, seen: SeenPost | null | undefined): LateObservation {
  const { deleted } = markDeleted({}, item, recordedAtOf(seen, item.collectedAt));
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
async function countDeletion(deps: DeletionDeps, postId: string, crawl: { sourceId: string; at: string }): Promise<number> {
  const signals = await deps.observeDeletion({ postId, sourceId: crawl.sourceId, at: crawl.at });
  await Promise.all(signals.flatMap((s) => [deps.writeSignal(s), deps.raiseDeletionSpike(s)]));
  return signals.length;
}

/**
 * The post's deletions counted as the jobs run in the order observed would have counted them, once
 * `after` (its log with a late observation) replaces `before`: each run of crawls finding it gone
 * counts at its first crawl; a crawl no longer first is taken back out of its bucket (a spike it
 * raised stays recorded: a signal is history). Resolves the signals raised, `undefined` when a log
 * cannot replay (nothing is recounted).
 */
async function recount(deps: DeletionDeps, postId: string, sourceId: string, before: ObservationLog | undefined, after: ObservationLog): Promise<number | undefined> {
  const moves = recountDeletions(before, after);
  if (!moves) return undefined;
  for (const at of moves.uncount) await deps.uncountDeletion({ postId, sourceId, at, counted: moves.counted });
  let signals = 0;
  for (const at of moves.count) signals += await countDeletion(deps, postId, { sourceId, at });
  return signals;
}

/**
 * Tells the alerts holding `post` (or its event) the changes in-order arrival would have told them
 * that `before` did not (`changesToTell`): a return, a rewording or a deletion a late observation
 * placed. Resolves false when a log cannot replay (nothing told).
 */
async function tellChanges(deps: Pick<DeletionDeps, 'handOverChange'>, post: IndexedPost, before: ObservationLog | undefined, after: ObservationLog, ...more: Wording[]): Promise<boolean> {
  const changes = changesToTell(before, after, wordingsOf(post, ...more));
  if (!changes) return false;
  for (const change of changes) await deps.handOverChange(changeOfObserved(post, change));
  return true;
}

/** The change alerts hear about for a change of the order observed. */
export function changeOfObserved(post: IndexedPost, observed: ObservedChange): PostChange {
  return { postId: post.id, change: observed.change, ...(post.eventId ? { eventId: post.eventId } : {}), sourceId: post.sourceId, label: labelOf(post), seenAt: observed.at, key: observed.key };
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
    key: deletionKeyOf(deleted),
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
 * the jobs run in the order observed, and the alerts hear of the rewording, or of a return and a
 * deletion it places (a sighting between two crawls that found the post gone), as they would have
 * then (`tellChanges`, the same change keys); the deletions are recounted by the order observed.
 * The current words seen earlier than known (a duplicate or a stale copy) move back when the post
 * was first seen or reworded. Resolves whether the post changed and, when it holds that wording
 * with its findings (so alert evaluation can read it), where the post lives and its event.
 * `current` is the post as indexed (read under the claim). Runs under the post's claim.
 */
export async function keepEarlierWording(
  deps: DeletionDeps,
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
  }
  if (log) await recount(deps, current.id, current.sourceId, logOf(seen), log);
  const told = log !== undefined && (await tellChanges(deps, updated, logOf(seen), log, post));
  if (history && !told) {
    // Only a history that places a rewording is one (an earlier sighting may only move a first sighting or a return).
    const change = history.editedAt && JSON.stringify(history.versions) !== JSON.stringify(current.versions) ? changeOfRevision(updated, 'reworded') : undefined;
    if (change) await deps.handOverChange(change);
  }
  const changed = history !== undefined;
  const holds = index !== undefined && current.eventId && wordingOf(updated, post.contentHash) ? { holds: { index, eventId: current.eventId } } : {};
  return { changed, ...holds, ...(log ? { log } : {}) };
}

/**
 * The alerts and the deletion counts once an ingested wording takes its place in the log: in the
 * order observed when the wording is a late one (`late`: the wording a deleted post had when it
 * went, or a first ingest after pending tombstones, `before` their log) and both logs replay; else
 * the change the post itself shows (`fallback`), its deletions counted when they were found.
 */
export async function tellIngest(deps: DeletionDeps, post: IndexedPost, late: { before: ObservationLog | undefined; after: ObservationLog | undefined } | undefined, fallback: PostChange | undefined): Promise<number> {
  const told = late?.after !== undefined && (await tellChanges(deps, post, late.before, late.after));
  if (!told && fallback) await deps.handOverChange(fallback);
  return late?.after ? ((await recount(deps, post.id, post.sourceId, late.before, late.after)) ?? 0) : 0;
}
