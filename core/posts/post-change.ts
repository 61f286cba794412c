import { createHash } from 'node:crypto';

/**
 * Edits and deletions of indexed posts (证据留存): an indexed post is never removed and never loses
 * what it said. A deletion marks the document; an edit keeps the earlier wordings as versions.
 */

/** Earlier wordings kept per post; the oldest beyond this are dropped (the raw snapshots keep the rest). */
export const MAX_POST_VERSIONS = 10;

/** One earlier wording of a post (原文), kept when the post was reworded. */
export interface PostVersion {
  /** Hash of title and text only: a reply or an attachment changing is not a new wording. */
  textHash: string;
  contentHash: string;
  title: string;
  text: string;
  /** When this wording was first collected, and when a crawl saw it replaced. */
  seenFrom: string;
  seenUntil: string;
}

/** Why a post is marked deleted: when, and which crawl found it gone. */
export interface PostDeletion {
  /** When the pipeline recorded the deletion. */
  at: string;
  /** The crawl run that found the post gone (position and run time). */
  crawl: { sourceId: string; at: string };
  /** The content hash the collector last saw. */
  previousHash?: string;
}

/** What a post carries of its own history (fields of `IndexedPost`). */
export interface PostHistory {
  /** Earlier wordings, oldest first, at most `MAX_POST_VERSIONS`. */
  versions?: PostVersion[];
  /** When the current wording replaced an earlier one (absent: never reworded). */
  editedAt?: string;
  /** When the post was first collected (kept across re-indexing). */
  firstSeenAt?: string;
  /** Set while the post is gone from its position. */
  deleted?: PostDeletion;
  /** The last time a deleted post appeared again (its deletion is kept in `pastDeletions`). */
  restoredAt?: string;
  pastDeletions?: PostDeletion[];
}

/** The hash of what a post says in its own words (title and text). */
export function textHashOf(post: { title?: string; text: string }): string {
  return createHash('sha256').update(`${post.title ?? ''}\u0000${post.text}`).digest('hex').slice(0, 32);
}

/**
 * What an incoming item is to the post already indexed under its id:
 * - `new`: nothing indexed yet;
 * - `reworded`: the title or text changed (an edit: the earlier wording becomes a version);
 * - `same-words`: only the reply, its time or attachments changed (a 留言 got its answer: no version);
 * - `restored`: the post was marked deleted and is back on its position.
 */
export type RevisionKind = 'new' | 'reworded' | 'same-words' | 'restored';

export function decideRevision(previous: ({ title?: string; text: string } & PostHistory) | undefined, next: { title?: string; text: string }): RevisionKind {
  if (!previous) return 'new';
  if (previous.deleted) return 'restored';
  return textHashOf(previous) === textHashOf(next) ? 'same-words' : 'reworded';
}

type PreviousPost = { title?: string; text: string; contentHash: string; collectedAt: string } & PostHistory;

/**
 * The history the newly indexed state of a post carries: earlier wordings (bounded, oldest dropped),
 * when it was last reworded, and any deletion it came back from. A restored post that also changed
 * its words keeps the earlier wording as well.
 */
export function carryHistory(previous: PreviousPost | undefined, next: { title?: string; text: string; collectedAt: string }): { revision: RevisionKind; history: PostHistory } {
  const revision = decideRevision(previous, next);
  if (!previous) return { revision, history: { firstSeenAt: next.collectedAt } };
  const history: PostHistory = {
    firstSeenAt: previous.firstSeenAt ?? previous.collectedAt,
    ...(previous.versions?.length ? { versions: previous.versions } : {}),
    ...(previous.editedAt ? { editedAt: previous.editedAt } : {}),
    ...(previous.restoredAt ? { restoredAt: previous.restoredAt } : {}),
    ...(previous.pastDeletions?.length ? { pastDeletions: previous.pastDeletions } : {}),
  };
  if (previous.deleted) {
    history.restoredAt = next.collectedAt;
    history.pastDeletions = [...(previous.pastDeletions ?? []), previous.deleted].slice(-MAX_POST_VERSIONS);
  }
  if (textHashOf(previous) !== textHashOf(next)) {
    const version: PostVersion = {
      textHash: textHashOf(previous),
      contentHash: previous.contentHash,
      title: previous.title ?? '',
      text: previous.text,
      seenFrom: previous.editedAt ?? history.firstSeenAt ?? previous.collectedAt,
      seenUntil: next.collectedAt,
    };
    history.versions = [...(previous.versions ?? []), version].slice(-MAX_POST_VERSIONS);
    history.editedAt = next.collectedAt;
  }
  return { revision, history };
}

/**
 * The history of a post once a wording observed before its current one, but ingested after it (a
 * stale item: two jobs of one post ran out of order), takes its place among the versions: the same
 * history the post has had the two been ingested in the order observed. `undefined` when that
 * wording is known already, or was observed after the current wording was first seen (only the
 * order of first sightings is rebuilt; such a wording is left to the raw snapshots).
 */
export function insertEarlierWording(
  current: PreviousPost,
  earlier: { title?: string; text: string; contentHash: string; collectedAt: string },
): PostHistory | undefined {
  const textHash = textHashOf(earlier);
  if (textHash === textHashOf(current) || current.versions?.some((v) => v.textHash === textHash)) return undefined;
  const firstSeenAt = current.firstSeenAt ?? current.collectedAt;
  const currentFrom = current.editedAt ?? firstSeenAt;
  const at = Date.parse(earlier.collectedAt);
  if (!(at < Date.parse(currentFrom))) return undefined;
  const inserted: PostVersion = { textHash, contentHash: earlier.contentHash, title: earlier.title ?? '', text: earlier.text, seenFrom: earlier.collectedAt, seenUntil: currentFrom };
  const ordered = [...(current.versions ?? []), inserted].sort((a, b) => Date.parse(a.seenFrom) - Date.parse(b.seenFrom));
  // Each wording was seen until the next one appeared; the last until the current one did.
  const versions = ordered.map((v, i) => ({ ...v, seenUntil: ordered[i + 1]?.seenFrom ?? currentFrom })).slice(-MAX_POST_VERSIONS);
  return { versions, editedAt: currentFrom, firstSeenAt: Date.parse(firstSeenAt) < at ? firstSeenAt : earlier.collectedAt };
}

/**
 * What a deletion signal does to the post:
 * - `mark-deleted`: the post is indexed and not yet marked;
 * - `already-deleted`: marked before (a retry, a second crawl reporting the same absence);
 * - `kept-pending`: nothing indexed under that id yet (the crawler queued the item, then found it
 *   gone before its ingest ran, or that ingest is still owed): the deletion is kept as a pending
 *   tombstone and applied when the post's ingest arrives (`decidePendingDeletion`);
 * - `already-pending`: a tombstone is kept already (the first observation of the absence stays);
 * - `stale`: the post was observed on its position after this crawl found it gone (it came back,
 *   and that observation was ingested first): nothing to mark.
 */
export type DeletionDecision = 'mark-deleted' | 'already-deleted' | 'kept-pending' | 'already-pending' | 'stale';

export function decideDeletion(
  indexed: PostHistory | undefined,
  context: { pending?: boolean; lastObservedAt?: string | undefined; crawlAt?: string } = {},
): DeletionDecision {
  if (!indexed) return context.pending ? 'already-pending' : 'kept-pending';
  if (indexed.deleted) return 'already-deleted';
  // A deletion and an observation at the same instant: the deletion is taken as the later one.
  if (context.lastObservedAt && context.crawlAt && Date.parse(context.crawlAt) < Date.parse(context.lastObservedAt)) return 'stale';
  return 'mark-deleted';
}

/**
 * What a pending tombstone does to the first ingest of its post:
 * - `none`: no deletion is pending;
 * - `deleted-before-indexed`: the item was observed at or before the crawl that found the post gone:
 *   the post is indexed (its words kept as evidence) and marked deleted with that tombstone;
 * - `came-back`: the item was observed after that crawl: the post is indexed as present, and the
 *   deletion is kept among its past deletions.
 */
export type PendingDeletionDecision = 'none' | 'deleted-before-indexed' | 'came-back';

export function decidePendingDeletion(pending: PostDeletion | undefined, observedAt: string): PendingDeletionDecision {
  if (!pending) return 'none';
  return Date.parse(observedAt) <= Date.parse(pending.crawl.at) ? 'deleted-before-indexed' : 'came-back';
}

/** The indexed post marked deleted: every word it said stays; the mark says when and which crawl. */
export function markDeleted<P extends object>(post: P, signal: { sourceId: string; collectedAt: string; previousHash?: string }, now: Date): P & { deleted: PostDeletion } {
  const deleted: PostDeletion = { at: now.toISOString(), crawl: { sourceId: signal.sourceId, at: signal.collectedAt }, ...(signal.previousHash ? { previousHash: signal.previousHash } : {}) };
  return { ...post, deleted };
}

/** What changed about a post, as the alert desk and the dashboards name it. */
export type PostChangeKind = 'deleted' | 'edited' | 'restored';

export const POST_CHANGE_NAMES: Record<PostChangeKind, string> = { deleted: '原帖已删除', edited: '原帖已修改', restored: '原帖已恢复' };
