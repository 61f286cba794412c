import { createHash } from 'node:crypto';
import type { IndexedPost } from './post.js';

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
  /** What classify found in this wording, kept when it had a level: an alert raised on it shows these words, whatever the post says now. */
  findings?: WordingFindings;
}

/** What the classify stage found in one wording of a post. */
export type WordingFindings = Pick<IndexedPost, 'hits' | 'terms' | 'categories' | 'maxLevel' | 'schemes' | 'privacy' | 'sentiment' | 'domain' | 'level' | 'levelReason' | 'rulesVersion'>;

/** The findings of a wording worth keeping on its version: only one that had a level (an alert may be raised on it). */
export function findingsOf(post: Partial<WordingFindings>): WordingFindings | undefined {
  if (post.level === undefined) return undefined;
  const { hits = [], terms = [], categories = [], maxLevel, schemes, privacy, sentiment, domain, level, levelReason, rulesVersion } = post;
  return {
    hits,
    terms,
    categories,
    level,
    ...(maxLevel !== undefined ? { maxLevel } : {}),
    ...(schemes ? { schemes } : {}),
    ...(privacy ? { privacy } : {}),
    ...(sentiment ? { sentiment } : {}),
    ...(domain ? { domain } : {}),
    ...(levelReason ? { levelReason } : {}),
    ...(rulesVersion ? { rulesVersion } : {}),
  };
}

/** A wording of a post as one of its versions, seen from `seenFrom` until `seenUntil`, with what classify found in it. */
function versionOf(wording: { title?: string; text: string; contentHash: string } & Partial<WordingFindings>, seenFrom: string, seenUntil: string): PostVersion {
  const findings = findingsOf(wording);
  return { textHash: textHashOf(wording), contentHash: wording.contentHash, title: wording.title ?? '', text: wording.text, seenFrom, seenUntil, ...(findings ? { findings } : {}) };
}

/**
 * The post as it read in the wording with `contentHash`: the post itself when that is its current
 * wording, else the post with a kept version's words and findings in place of its own (its id,
 * position and event stay). `undefined` when the post keeps no such wording with findings.
 */
export function wordingOf(post: IndexedPost, contentHash: string): IndexedPost | undefined {
  if (post.contentHash === contentHash) return post;
  const version = post.versions?.find((v) => v.contentHash === contentHash && v.findings);
  if (!version) return undefined;
  return { ...post, title: version.title, text: version.text, contentHash: version.contentHash, collectedAt: version.seenFrom, ...version.findings! };
}

/** Why a post is marked deleted: when, and which crawl found it gone. */
export interface PostDeletion {
  /**
   * When the deletion counts as recorded (its change key, `deletionKeyOf`): the time of the crawl
   * that found the post gone, or, for a crawl extending a run of them back, the time that run was
   * recorded under (`recordedAtOf`). Never the clock: a job retried after handing it over records it
   * again the same, and the alerts note it once.
   */
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

type PreviousPost = { title?: string; text: string; contentHash: string; collectedAt: string } & PostHistory & Partial<WordingFindings>;

/**
 * The history the newly indexed state of a post carries: earlier wordings (bounded, oldest dropped),
 * when it was last reworded, and any deletion it came back from. A restored post that also changed
 * its words keeps the earlier wording as well. A wording observed at or before the crawl that found
 * the post gone (its job ran after the deletion, `isWordingWhenDeleted`) is the one the post had when
 * it went: it is reworded and stays deleted, as had the jobs run in the order observed.
 */
export function carryHistory(previous: PreviousPost | undefined, next: { title?: string; text: string; collectedAt: string }): { revision: RevisionKind; history: PostHistory } {
  if (previous?.deleted && !(Date.parse(next.collectedAt) > Date.parse(previous.deleted.crawl.at))) {
    const { revision, history } = carryHistory({ ...previous, deleted: undefined }, next);
    return { revision, history: { ...history, deleted: previous.deleted } };
  }
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
    const version = versionOf(previous, previous.editedAt ?? history.firstSeenAt ?? previous.collectedAt, next.collectedAt);
    history.versions = [...(previous.versions ?? []), version].slice(-MAX_POST_VERSIONS);
    history.editedAt = next.collectedAt;
  }
  return { revision, history };
}

/**
 * The history of a post once a wording observed before its current one was last observed, but
 * ingested after it (a stale item: two jobs of one post ran out of order), takes its place among the
 * versions: the same history the post has had the jobs run in the order observed.
 * - observed before the current wording first appeared: inserted among the earlier wordings;
 * - observed after it appeared but before `lastObservedAt` (the post read A, then B, then A again,
 *   B ingested last): the current wording was replaced by it and came back at `lastObservedAt`, so
 *   both become versions and the current wording counts as edited then.
 * The current words seen earlier than they are known to have stood are an earlier sighting
 * (`placeEarlierSighting`). Seen after the post was last found gone and before its return was
 * known, the post was back then (`restoredAt` moves back). `undefined` when that wording is known
 * already (a version), or nothing places it.
 */
export function insertEarlierWording(
  current: PreviousPost,
  earlier: { title?: string; text: string; contentHash: string; collectedAt: string } & Partial<WordingFindings>,
  lastObservedAt?: string,
): PostHistory | undefined {
  return withEarlierReturn(current, earlier.collectedAt, placeEarlierWording(current, earlier, lastObservedAt));
}

/**
 * A post seen on its position at `seenAt`, after the crawl that last found it gone and before its
 * return was known: it was back then (`restoredAt` moves back), besides what `placed` changes.
 */
function withEarlierReturn(current: PostHistory, seenAt: string, placed: PostHistory | undefined): PostHistory | undefined {
  const goneAt = current.pastDeletions?.at(-1)?.crawl.at;
  const at = Date.parse(seenAt);
  if (current.deleted || !current.restoredAt || !goneAt || !(at > Date.parse(goneAt) && at < Date.parse(current.restoredAt))) return placed;
  return { ...placed, restoredAt: seenAt };
}

function placeEarlierWording(
  current: PreviousPost,
  earlier: { title?: string; text: string; contentHash: string; collectedAt: string } & Partial<WordingFindings>,
  lastObservedAt?: string,
): PostHistory | undefined {
  const textHash = textHashOf(earlier);
  const firstSeenAt = current.firstSeenAt ?? current.collectedAt;
  const currentFrom = current.editedAt ?? firstSeenAt;
  const at = Date.parse(earlier.collectedAt);
  if (textHash === textHashOf(current)) return placeEarlierSighting(current, earlier.collectedAt);
  if (current.versions?.some((v) => v.textHash === textHash)) return undefined;
  const inserted = versionOf(earlier, earlier.collectedAt, currentFrom);
  if (at < Date.parse(currentFrom)) return insertVersion(current, inserted);
  if (lastObservedAt === undefined || !(at < Date.parse(lastObservedAt))) return undefined;
  const replaced = versionOf(current, currentFrom, earlier.collectedAt);
  const versions = [...(current.versions ?? []), replaced, { ...inserted, seenUntil: lastObservedAt }].slice(-MAX_POST_VERSIONS);
  return { versions, editedAt: lastObservedAt, firstSeenAt };
}

/** `inserted` among the versions of `current` by when it was first seen, each seen until the next appeared, the last until the current wording did. */
function insertVersion(current: PreviousPost, inserted: PostVersion): PostHistory {
  const firstSeenAt = current.firstSeenAt ?? current.collectedAt;
  const currentFrom = current.editedAt ?? firstSeenAt;
  const ordered = [...(current.versions ?? []), inserted].sort((a, b) => Date.parse(a.seenFrom) - Date.parse(b.seenFrom));
  const versions = ordered.map((v, i) => ({ ...v, seenUntil: ordered[i + 1]?.seenFrom ?? currentFrom })).slice(-MAX_POST_VERSIONS);
  const from = Date.parse(inserted.seenFrom);
  return { versions, editedAt: currentFrom, firstSeenAt: Date.parse(firstSeenAt) < from ? firstSeenAt : inserted.seenFrom };
}

/**
 * The history of a post once its current wording, seen at `seenAt` before it is known to have
 * appeared (a sighting ingested after a later one: a duplicate, or the same words after a deletion),
 * shows since when it stood, as had the jobs run in the order observed:
 * - the post never reworded: it was first seen then (`firstSeenAt` moves back);
 * - while the last earlier wording stood: the post was reworded then (`editedAt` and that
 *   version's `seenUntil` move back);
 * - before that wording appeared: the current words stood then too, in between earlier wordings:
 *   they are inserted among the versions (with the current wording's findings);
 * `undefined` when the sighting is not before the current wording appeared.
 */
function placeEarlierSighting(current: PreviousPost, seenAt: string): PostHistory | undefined {
  const firstSeenAt = current.firstSeenAt ?? current.collectedAt;
  const currentFrom = current.editedAt ?? firstSeenAt;
  const at = Date.parse(seenAt);
  if (!(at < Date.parse(currentFrom))) return undefined;
  const last = current.versions?.at(-1);
  if (!last) return { firstSeenAt: seenAt };
  if (at > Date.parse(last.seenFrom)) return { versions: [...current.versions!.slice(0, -1), { ...last, seenUntil: seenAt }], editedAt: seenAt, firstSeenAt };
  return insertVersion(current, versionOf(current, seenAt, currentFrom));
}

/**
 * Whether a stale wording of a post marked deleted is the one it had when it went: observed after
 * the wording it is marked deleted with (at the same instant, the greater content hash is the later),
 * and at or before the crawl that found it gone. Had the jobs run in the order observed, it would
 * have been indexed, then marked deleted: it becomes the deleted post's wording (`carryHistory`).
 */
export function isWordingWhenDeleted(current: { contentHash: string; collectedAt: string; deleted?: PostDeletion }, item: { contentHash: string; collectedAt: string }): boolean {
  if (!current.deleted || item.contentHash === current.contentHash) return false;
  const [mine, theirs] = [Date.parse(item.collectedAt), Date.parse(current.collectedAt)];
  const afterCurrent = mine > theirs || (mine === theirs && item.contentHash > current.contentHash);
  return afterCurrent && mine <= Date.parse(current.deleted.crawl.at);
}

/**
 * The history of a post once a deletion observed before the post was last seen on its position, but
 * ingested after that (a stale deletion), takes its place: a past deletion, the post back when it was
 * first seen after that crawl (`backAt`, the first sighting of its current words after it, or an
 * earlier wording first seen after it). `undefined` when that crawl's deletion is recorded already.
 */
export function insertPastDeletion(current: PostHistory, deletion: PostDeletion, backAt: string): PostHistory | undefined {
  const same = (d: PostDeletion) => d.crawl.sourceId === deletion.crawl.sourceId && d.crawl.at === deletion.crawl.at;
  if (current.pastDeletions?.some(same) || (current.deleted && same(current.deleted))) return undefined;
  const pastDeletions = [...(current.pastDeletions ?? []), deletion].sort((a, b) => Date.parse(a.crawl.at) - Date.parse(b.crawl.at)).slice(-MAX_POST_VERSIONS);
  // A return recorded after this deletion stands; else the post was back when a wording of it was first seen after the crawl.
  const goneAt = Date.parse(deletion.crawl.at);
  const seenAfter = [...(current.versions ?? []).map((v) => v.seenFrom), current.editedAt ?? current.firstSeenAt, backAt].filter((t): t is string => t !== undefined && Date.parse(t) > goneAt);
  const earliest = seenAfter.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a), backAt);
  const restoredAt = current.restoredAt && Date.parse(current.restoredAt) > goneAt ? current.restoredAt : earliest;
  return { pastDeletions, restoredAt };
}

/**
 * What a deletion signal does to the post:
 * - `mark-deleted`: the post is indexed and not yet marked;
 * - `already-deleted`: marked before (a retry, a second crawl reporting the same absence);
 * - `kept-pending`: nothing indexed under that id yet (the crawler queued the item, then found it
 *   gone before its ingest ran, or that ingest is still owed): the deletion is kept as a pending
 *   tombstone, beside those of other crawls, and applied when the post's ingest arrives (its log
 *   replayed in the order observed: the first crawl that found it gone is its deletion);
 * - `already-pending`: this crawl's tombstone is kept already (a retry);
 * - `stale`: the post was observed on its position after this crawl found it gone (it came back,
 *   and that observation was ingested first): not marked, but kept among its past deletions and
 *   counted towards the position's deletions, as in the order observed (`insertPastDeletion`).
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

/** The indexed post marked deleted: every word it said stays; the mark says when it counts as recorded (by default, when the crawl found it gone) and which crawl. */
export function markDeleted<P extends object>(post: P, signal: { sourceId: string; collectedAt: string; previousHash?: string }, recordedAt = new Date(signal.collectedAt)): P & { deleted: PostDeletion } {
  const deleted: PostDeletion = { at: recordedAt.toISOString(), crawl: { sourceId: signal.sourceId, at: signal.collectedAt }, ...(signal.previousHash ? { previousHash: signal.previousHash } : {}) };
  return { ...post, deleted };
}

/** What changed about a post, as the alert desk and the dashboards name it. */
export type PostChangeKind = 'deleted' | 'edited' | 'restored';

export const POST_CHANGE_NAMES: Record<PostChangeKind, string> = { deleted: '原帖已删除', edited: '原帖已修改', restored: '原帖已恢复' };
