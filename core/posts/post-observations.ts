import { carryHistory, findingsOf, isWordingWhenDeleted, textHashOf, type PostDeletion, type PostHistory, type WordingFindings } from './post-change.js';

/**
 * The observations of one post, kept in the order observed, so that its history is the same
 * whatever order their jobs arrive in: a late observation is inserted where it was made and the
 * history is rebuilt by replaying them (`replayHistory`), as had the jobs run in the order observed.
 */

/** A crawl that saw the post's wording (`hash`, its content hash), or found the post gone (`deletion`). */
export type PostObservation = { at: string; hash: string } | { at: string; deletion: PostDeletion };

/** The observations kept per post; beyond this, the oldest middles of runs are dropped, and a log still longer is cut (it no longer replays). */
export const MAX_OBSERVATIONS = 24;
/** Of a run of sightings of one wording (or of crawls finding the post gone) whose middle is dropped, the first and the last this many stay. */
export const MAX_RUN_TAIL = 4;

/** What is remembered of a post's observations (fields of its seen record). */
export interface ObservationLog {
  observations?: PostObservation[];
  /** Earlier observations were dropped (or made before the log was kept): the log cannot be replayed. */
  observationsCut?: true;
}

/** The log fields of a seen record alone. */
export function logOf(log: ObservationLog | null | undefined): ObservationLog {
  return { ...(log?.observations ? { observations: log.observations } : {}), ...(log?.observationsCut ? { observationsCut: log.observationsCut } : {}) };
}

const keyOf = (o: PostObservation) => ('deletion' in o ? 'gone' : o.hash);

/** Observed order: by time; at one instant a deletion counts as later, and of two wordings the greater content hash. */
export function compareObservations(a: PostObservation, b: PostObservation): number {
  const byTime = Date.parse(a.at) - Date.parse(b.at);
  if (byTime !== 0) return byTime;
  if ('deletion' in a || 'deletion' in b) return ('deletion' in a ? 1 : 0) - ('deletion' in b ? 1 : 0);
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
}

/**
 * The log once `observation` is kept in it, in observed order; `undefined` when there is nothing new
 * to keep (it is known: a retry, or the same crawl twice; or the log is cut already). Every
 * observation stays while the log is within `MAX_OBSERVATIONS`: a late one then finds the sighting
 * right after it, which is when the post was back or reworded (`restoredAt`, `editedAt`, a version's
 * `seenUntil`). Past that bound the oldest middles of runs (of one wording's sightings, or of crawls
 * finding the post gone) go first, each run keeping its first and last `MAX_RUN_TAIL`: only an
 * observation delayed behind about twenty later ones of its post can land among dropped sightings,
 * and then the next kept one stands for its successor. A log still past its bound, or begun for a
 * post seen before logs were kept, is cut: only the mark is kept.
 */
export function logObservation(log: ObservationLog | null | undefined, observation: PostObservation): ObservationLog | undefined {
  if (log?.observationsCut) return undefined;
  if (log && !log.observations) return { observationsCut: true };
  const known = log?.observations ?? [];
  if (known.some((o) => compareObservations(o, observation) === 0 && keyOf(o) === keyOf(observation))) return undefined;
  const kept = boundObservations([...known, observation].sort(compareObservations));
  return kept ? { observations: kept } : { observations: undefined, observationsCut: true };
}

/** `ordered` within `MAX_OBSERVATIONS`, the oldest run middles dropped first; `undefined` when that is not enough. */
function boundObservations<O extends PostObservation>(ordered: O[]): O[] | undefined {
  const kept = [...ordered];
  while (kept.length > MAX_OBSERVATIONS) {
    const middle = kept.findIndex((o, i) => i > 0 && keyOf(kept[i - 1]!) === keyOf(o) && kept.slice(i + 1, i + 1 + MAX_RUN_TAIL).every((n) => keyOf(n) === keyOf(o)) && i + MAX_RUN_TAIL < kept.length);
    if (middle === -1) return undefined;
    kept.splice(middle, 1);
  }
  return kept;
}

/** A wording of the post as its replay needs it: its words, and what classify found when it had a level. */
export type Wording = { title?: string; text: string; contentHash: string } & Partial<WordingFindings>;

/** The wordings a post holds: its current one and its versions, by content hash. */
export function wordingsOf(post: Wording & PostHistory, ...more: Wording[]): Map<string, Wording> {
  const wordings = new Map<string, Wording>();
  for (const v of post.versions ?? []) wordings.set(v.contentHash, { title: v.title, text: v.text, contentHash: v.contentHash, ...v.findings });
  wordings.set(post.contentHash, { title: post.title, text: post.text, contentHash: post.contentHash, ...findingsOf(post) });
  for (const w of more) wordings.set(w.contentHash, w);
  return wordings;
}

/** Every history field, absent ones as `undefined`, so a rebuilt history replaces the one indexed. */
export interface ReplayedPost {
  contentHash: string;
  history: { [K in keyof Required<PostHistory>]: PostHistory[K] | undefined };
}

/**
 * The post as the jobs of a complete log would have left it run in the order observed: its last
 * wording (the current one, or the one it had when it went) and its history. `undefined` when the
 * log is cut, or holds a wording whose words are not at hand.
 */
export function replayHistory(log: ObservationLog, wordings: Map<string, Wording>): ReplayedPost | undefined {
  if (!log.observations?.length || log.observationsCut) return undefined;
  let post: (Wording & { collectedAt: string } & PostHistory) | undefined;
  let pending: PostDeletion | undefined;
  for (const o of log.observations) {
    if ('deletion' in o) {
      if (!post) pending ??= o.deletion;
      else if (!post.deleted) post = { ...post, deleted: o.deletion };
      continue;
    }
    const wording = wordings.get(o.hash);
    if (!wording) return undefined;
    if (post && !post.deleted && post.contentHash === o.hash) continue;
    const next = { ...wording, collectedAt: o.at };
    const back = !post && pending ? { pastDeletions: [pending], restoredAt: o.at } : {};
    post = { ...next, ...carryHistory(post, next).history, ...back };
  }
  if (!post) return undefined;
  const { versions, editedAt, firstSeenAt, deleted, restoredAt, pastDeletions } = post;
  return { contentHash: post.contentHash, history: { versions, editedAt, firstSeenAt, deleted, restoredAt, pastDeletions } };
}

/** `history` when it differs from what `post` carries, else `undefined` (nothing to rewrite). */
export function changedHistory<H extends PostHistory>(post: PostHistory, history: H): H | undefined {
  const fields = Object.keys(history) as (keyof PostHistory)[];
  return fields.some((f) => JSON.stringify(post[f]) !== JSON.stringify(history[f])) ? history : undefined;
}

/**
 * The history of `post` once a late observation is logged (`log`, with it), replayed with the
 * wordings the post holds and `more` (a late wording's own): `undefined` when it cannot replay or
 * the replay ends on another wording than the post's (its caller re-indexes that wording).
 */
export function replayedHistoryOf(post: Wording & PostHistory, log: ObservationLog, ...more: Wording[]): ReplayedPost['history'] | undefined {
  const replayed = replayHistory(log, wordingsOf(post, ...more));
  return replayed?.contentHash === post.contentHash ? replayed.history : undefined;
}

/**
 * Whether a stale wording of a post becomes its wording: the log replayed ends on it (the post
 * went with these words, observed after the ones it is marked deleted with). A cut log falls back
 * on what the post tells (`isWordingWhenDeleted`).
 */
export function isLastWording(post: Wording & PostHistory & { collectedAt: string }, item: Wording & { collectedAt: string }, log: ObservationLog): boolean {
  if (item.contentHash === post.contentHash) return false;
  const replayed = replayHistory(log, wordingsOf(post, item));
  return replayed ? replayed.contentHash === item.contentHash : isWordingWhenDeleted(post, item);
}

/**
 * A change the alerts holding the post hear of (`post-change-note.ts`), with the key the desk notes
 * it once under: a rewording or a return, keyed by the wording's content hash, or a deletion with
 * the crawl times of its run (the crawls that found the post gone until it was seen again).
 */
export type ObservedChange = { change: 'edited' | 'restored'; at: string; key: string } | { change: 'deleted'; at: string; key: string; deletion: PostDeletion; run: string[] };

/**
 * The changes the jobs of a complete log tell the alerts run in the order observed: a wording whose
 * words differ from the one before (a reply alone is no rewording, when both wordings are at hand)
 * is `edited`; the first crawl finding a post seen before gone is `deleted`; the next sighting after
 * it `restored`. A deletion before the post was ever seen tells nobody (nothing held it yet).
 * `undefined` when the log is cut.
 */
export function changesOf(log: ObservationLog, wordings: Map<string, Wording> = new Map()): ObservedChange[] | undefined {
  if (!log.observations || log.observationsCut) return undefined;
  const words = (hash: string) => {
    const wording = wordings.get(hash);
    return wording ? textHashOf(wording) : hash;
  };
  const changes: ObservedChange[] = [];
  let state: 'unseen' | 'present' | 'gone' = 'unseen';
  let hash: string | undefined;
  for (const o of log.observations) {
    if ('deletion' in o) {
      const last = changes.at(-1);
      if (state === 'present') changes.push({ change: 'deleted', at: o.at, key: deletionKeyOf(o.deletion, log.observations), deletion: o.deletion, run: [o.at] });
      else if (state === 'gone' && last?.change === 'deleted') last.run.push(o.at);
      if (state === 'present') state = 'gone';
      continue;
    }
    if (state === 'gone') changes.push({ change: 'restored', at: o.at, key: o.hash });
    else if (state === 'present' && words(hash!) !== words(o.hash)) changes.push({ change: 'edited', at: o.at, key: o.hash });
    state = 'present';
    hash = o.hash;
  }
  return changes;
}

/**
 * What the alerts still have to hear once `after` (the log with a late observation) replaces
 * `before`: the changes of `after` in the order observed that `before` did not tell. A rewording or
 * a return was told when `before` told that wording's (the desk notes one key once); a deletion when
 * `before` told one of the crawls of its run (a run the late observation extended back keeps the
 * note it had). A note told before that `after` no longer holds stays: an alert's history is never
 * rewritten. `undefined` when either log is cut (the caller tells what the post itself says).
 */
export function changesToTell(before: ObservationLog | undefined, after: ObservationLog, wordings?: Map<string, Wording>): ObservedChange[] | undefined {
  const [was, now] = [before ? changesOf(before, wordings) : [], changesOf(after, wordings)];
  if (!was || !now) return undefined;
  const toldRuns = was.flatMap((c) => (c.change === 'deleted' ? [Date.parse(c.at)] : []));
  const told = new Set(was.flatMap((c) => (c.change === 'deleted' ? [] : [`${c.change}:${c.key}`])));
  return now.filter((c) => (c.change === 'deleted' ? !c.run.some((t) => toldRuns.includes(Date.parse(t))) : !told.has(`${c.change}:${c.key}`)));
}

/**
 * The key a deletion is noted under: when it counts as recorded (`PostDeletion.at`, from the
 * crawls: a retried job tells the same key), as the post's own mark is told; a crawl that shares
 * that time with an earlier one (it was recorded as the same deletion, then a return ingested late
 * split them) adds its crawl time.
 */
export function deletionKeyOf(deletion: PostDeletion, observations: readonly PostObservation[] = []): string {
  const shared = observations.some((o) => 'deletion' in o && o.deletion.at === deletion.at && Date.parse(o.at) < Date.parse(deletion.crawl.at));
  return shared ? `deleted:${deletion.at}@${deletion.crawl.at}` : `deleted:${deletion.at}`;
}

/**
 * The crawls a post's deletions count by (the position's deletion baseline): the first of each run
 * of crawls finding it gone, as the jobs run in the order observed count them (a later crawl finding
 * it still gone is not another deletion), before it was ever seen too. `undefined` when the log is cut.
 */
export function countedDeletionsOf(log: ObservationLog): string[] | undefined {
  if (!log.observations || log.observationsCut) return undefined;
  return log.observations.flatMap((o, i) => ('deletion' in o && !(i > 0 && 'deletion' in log.observations![i - 1]!) ? [o.at] : []));
}

/** How a post's deletion counts move once `after` replaces `before`: the crawls to count, those to uncount, and all counted after. `undefined` when a log is cut. */
export function recountDeletions(before: ObservationLog | undefined, after: ObservationLog): { count: string[]; uncount: string[]; counted: string[] } | undefined {
  const [was, now] = [before ? countedDeletionsOf(before) : [], countedDeletionsOf(after)];
  if (!was || !now) return undefined;
  const has = (list: string[], t: string) => list.some((x) => Date.parse(x) === Date.parse(t));
  return { count: now.filter((t) => !has(was, t)), uncount: was.filter((t) => !has(now, t)), counted: now };
}

/** The log of the deletions pending for a post never indexed (one run of crawls finding it gone). */
export function pendingLogOf(pending: readonly PostDeletion[] | undefined): ObservationLog {
  return { observations: [...(pending ?? [])].map((deletion) => ({ at: deletion.crawl.at, deletion })).sort(compareObservations) };
}

/**
 * When a crawl finding the post gone at `crawlAt` counts as recorded: as the deletion observed next
 * when there is one (the crawl extends that run back: the alerts heard of the run under that
 * deletion's key), else when the crawl found it (a run of its own). Derived from the log alone, never
 * the clock: a job retried after it handed the deletion over keys it the same.
 */
export function recordedAtOf(log: ObservationLog | null | undefined, crawlAt: string): Date {
  const next = log?.observations?.find((o) => Date.parse(o.at) > Date.parse(crawlAt));
  return new Date(next && 'deletion' in next ? next.deletion.at : crawlAt);
}
