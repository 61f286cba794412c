import { describe, expect, it } from 'vitest';
import {
  carryHistory,
  decideDeletion,
  decidePendingDeletion,
  decideRevision,
  insertEarlierWording,
  insertPastDeletion,
  markDeleted,
  MAX_POST_VERSIONS,
  textHashOf,
  wordingOf,
  type PostDeletion,
  type PostHistory,
  type WordingFindings,
} from '../../../core/posts/post-change.js';
import { decidePostChangeNote, holderOf, postChangeEntry, type PostChange } from '../../../core/alerts/post-change-note.js';
import { deletionSpikeAlert } from '../../../pipeline/alert/deletion-spike-alert.js';
import { changesToTell, isLastWording, MAX_OBSERVATIONS, logObservation, logOf, pendingLogOf, recordedAtOf, recountDeletions, wordingsOf, type ObservationLog, type Wording } from '../../../core/posts/post-observations.js';
import { changeOfObserved, changeOfRevision, deletionChangeOf, earlierWordingHistory, historyOfIngest, labelOf, logIngest, pastDeletionHistory, stillGoneHistory } from '../../../pipeline/ingest/post-revisions.js';
import { sameCrawl } from '../../../pipeline/ingest/pending-deletions.js';
import { decideDedupe, noteSighting, type SeenPost } from '../../../pipeline/ingest/dedupe.js';
import type { IndexedPost } from '../../../core/posts/post.js';
import type { SignalRecord } from '../../../core/signals/early-signal.js';

const base = { title: '关于城区道路施工的通知', text: '施工期间请绕行。', contentHash: 'h-original-0001', collectedAt: '2026-11-20T08:00:00.000Z' };
const deletion = { at: '2026-11-21T00:00:00.000Z', crawl: { sourceId: 'demo-website', at: '2026-11-20T23:59:00.000Z' } };

const wordings = ['初稿：施工期间请绕行。', '二稿：施工期间请绕行，注意安全。', '三稿：施工已结束，恢复通行。'];
function hoursAfter(hours: number): string {
  return new Date(Date.parse(base.collectedAt) + hours * 3_600_000).toISOString();
}
/** Wording `i` of the post, observed `hours` after the first. */
function w(i: number, hours: number) {
  return { ...base, text: wordings[i]!, contentHash: `h-wording-${i}-00`, collectedAt: hoursAfter(hours), change: 'seen' as const };
}
/** A crawl `hours` after the first finding the post gone. */
function gone(hours: number) {
  return { sourceId: 'demo-website', collectedAt: hoursAfter(hours), change: 'deleted' as const };
}
type Observation = ReturnType<typeof w> | ReturnType<typeof gone>;
const nameOf = (o: Observation) => `${o.change === 'deleted' ? 'gone' : `w${wordings.indexOf(o.text)}`}@${(Date.parse(o.collectedAt) - Date.parse(base.collectedAt)) / 3_600_000}h`;

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/**
 * The ingest path's decisions (`ingest-path.ts`, `post-revisions.ts`), with the document, what is
 * remembered of it, a pending tombstone, the alert desk (a change key noted once) and the
 * position's deletion counters (a post counted once per hourly bucket) as plain state, run over
 * observations in the order they arrive. Resolves the post's end state (its wording, versions,
 * times and deletions), the notes the alerts got and the hours its deletions count in. `retried`:
 * each job crashes once after its writes and hand-overs but before the post's seen record is
 * remembered (and, for a wording, before its tombstones are dropped), and runs again.
 */
function ingest(arrivals: readonly Observation[], { retried = false } = {}) {
  type Doc = ReturnType<typeof w> & PostHistory;
  let doc: Doc | undefined;
  let seen: SeenPost | undefined;
  let pending: PostDeletion[] | undefined;
  const later = (a: string, b: string) => (Date.parse(b) > Date.parse(a) ? b : a);
  const asPost = (d: Doc) => ({ ...d, id: 'p1', sourceId: 'demo-website' }) as unknown as IndexedPost;
  // The desk: one note per change key, in the order told.
  const notes: PostChange[] = [];
  const tell = (change: PostChange | undefined) => {
    if (change && !notes.some((n) => n.change === change.change && n.key === change.key)) notes.push(change);
  };
  const tellLate = (before: ObservationLog | undefined, after: ObservationLog | undefined, ...more: Wording[]) => {
    const changes = after && changesToTell(before, after, wordingsOf(doc!, ...more));
    changes?.forEach((c) => tell(changeOfObserved(asPost(doc!), c)));
    return changes !== undefined;
  };
  // The counters: the hours a deletion of the post counts in.
  const counted = new Set<number>();
  const hourOf = (at: string) => Math.floor(Date.parse(at) / 3_600_000);
  const recount = (before: ObservationLog | undefined, after: ObservationLog | undefined) => {
    const moves = after && recountDeletions(before, after);
    if (!moves) return false;
    for (const at of moves.uncount) if (!moves.counted.some((t) => hourOf(t) === hourOf(at))) counted.delete(hourOf(at));
    for (const at of moves.count) counted.add(hourOf(at));
    return true;
  };
  const run = (item: Observation) => {
    if (item.change === 'deleted') {
      const { deleted } = markDeleted({}, item);
      const decision = decideDeletion(doc, { pending: pending?.some((d) => sameCrawl(d, deleted)), lastObservedAt: seen?.observedAt, crawlAt: item.collectedAt });
      if (decision === 'kept-pending') {
        const kept = [...(pending ?? []), deleted].sort((a, b) => Date.parse(a.crawl.at) - Date.parse(b.crawl.at));
        recount(pendingLogOf(pending), pendingLogOf(kept));
        pending = kept;
      } else if (decision === 'stale') {
        const { history, log } = pastDeletionHistory(doc!, markDeleted({}, item, recordedAtOf(seen, item.collectedAt)).deleted, seen!);
        doc = { ...doc!, ...history };
        if (!recount(logOf(seen), log ?? logOf(seen))) counted.add(hourOf(deleted.crawl.at));
        tellLate(logOf(seen), log ?? logOf(seen));
        seen = { ...seen!, ...log };
      } else if (decision === 'mark-deleted') {
        doc = { ...doc!, deleted };
        counted.add(hourOf(deleted.crawl.at));
        seen = { hash: doc.contentHash, deletedAt: deleted.at, observedAt: deleted.crawl.at, ...(logObservation(seen, { at: deleted.crawl.at, deletion: deleted }) ?? logOf(seen)) };
        tell(deletionChangeOf(asPost(doc), deleted));
      } else if (decision === 'already-deleted') {
        const { history, log } = stillGoneHistory(doc!, item, seen);
        doc = { ...doc!, ...history };
        if (log) recount(logOf(seen), log);
        if (log) tellLate(logOf(seen), log);
        seen = { hash: seen!.hash, deletedAt: doc.deleted!.at, observedAt: later(seen!.deletedAt ? seen!.observedAt! : item.collectedAt, item.collectedAt), ...(log ?? logOf(seen)) };
        tell(deletionChangeOf(asPost(doc), doc.deleted!));
      }
      return;
    }
    /** `keepEarlierWording`: placed by the log replayed, told and counted as in order. */
    const keepEarlier = () => {
      const { history, log } = earlierWordingHistory(doc!, item, seen!);
      const before = doc!;
      doc = { ...doc!, ...history };
      if (log) recount(logOf(seen), log);
      const told = log !== undefined && tellLate(logOf(seen), log, item);
      if (history && !told && history.editedAt && JSON.stringify(history.versions) !== JSON.stringify(before.versions)) tell(changeOfRevision(asPost(doc), 'reworded'));
      return log;
    };
    const decision = decideDedupe(seen, item);
    if (decision === 'duplicate') {
      const sighting = noteSighting(seen!, item.collectedAt);
      if (sighting && Date.parse(item.collectedAt) < Date.parse(seen!.observedAt!)) keepEarlier();
      seen = sighting ?? seen;
      return;
    }
    const tombstones = seen ? undefined : pending;
    const log = logIngest(seen, item, tombstones);
    const whenDeleted = decision === 'stale' && isLastWording(doc!, item, log ?? logOf(seen));
    if (decision === 'stale' && !whenDeleted) {
      seen = { ...seen!, ...keepEarlier() };
      return;
    }
    const { revision, history } = historyOfIngest(doc, item, log, whenDeleted || tombstones !== undefined);
    const previous = doc;
    doc = { ...item, ...history };
    const change = doc.deleted ? deletionChangeOf(asPost(doc), doc.deleted) : changeOfRevision(asPost(doc), revision);
    if (whenDeleted || tombstones) {
      const before = tombstones ? pendingLogOf(tombstones) : logOf(seen);
      const told = log !== undefined && tellLate(before, log, ...(previous ? wordingsOf(previous).values() : []));
      if (!told) tell(change);
      if (log) recount(before, log);
    } else tell(change);
    const logged = log ?? logOf(seen);
    const lastObservedAt = whenDeleted ? seen!.observedAt : (tombstones?.at(-1)?.crawl.at ?? doc.deleted?.crawl.at);
    seen = doc.deleted ? { hash: item.contentHash, deletedAt: doc.deleted.at, observedAt: lastObservedAt, ...logged } : { hash: item.contentHash, observedAt: item.collectedAt, ...logged };
    if (tombstones) pending = undefined;
  };
  for (const item of arrivals) {
    if (retried) {
      const remembered = { seen, pending };
      run(item);
      seen = remembered.seen;
      if (item.change !== 'deleted') pending = remembered.pending;
    }
    run(item);
  }
  const { text, versions, firstSeenAt, editedAt, deleted, pastDeletions, restoredAt } = doc!;
  const state = {
    text,
    ...(versions ? { versions: versions.map((v) => [v.text, v.seenFrom, v.seenUntil]) } : {}),
    firstSeenAt,
    ...(editedAt ? { editedAt } : {}),
    observedAt: seen!.observedAt,
    ...(deleted ? { deleted: { ...deleted, at: undefined } } : {}),
    ...(pastDeletions ? { pastDeletions: pastDeletions.map((d) => ({ ...d, at: undefined })), restoredAt } : {}),
  };
  const hours = [...counted].sort((a, b) => a - b).map((h) => new Date(h * 3_600_000).toISOString());
  return { state, notes, deletionsCountedIn: hours };
}
const ingestInOrder = (arrivals: readonly Observation[]) => ingest(arrivals).state;

/**
 * Whether arriving as `order` ends as arriving in the order observed (`inOrder`): the same post, its
 * deletions counted in the same hours, and the alerts told every change the order observed told
 * them (a rewording or return by its key, each deletion once; a note told on what was known then
 * may stay beside them: an alert's history is never rewritten).
 */
function expectSameEnd(order: readonly Observation[], inOrder: ReturnType<typeof ingest>, label: string) {
  const end = ingest(order);
  expect(end.state, label).toEqual(inOrder.state);
  expect(end.deletionsCountedIn, `${label}: deletions counted`).toEqual(inOrder.deletionsCountedIn);
  const keysOf = (notes: PostChange[]) => notes.filter((n) => n.change !== 'deleted').map((n) => `${n.change}:${n.key}`);
  expect(keysOf(end.notes), `${label}: notes`).toEqual(expect.arrayContaining(keysOf(inOrder.notes)));
  expect(end.notes.filter((n) => n.change === 'deleted').length, `${label}: 原帖已删除 notes`).toBe(inOrder.notes.filter((n) => n.change === 'deleted').length);
}

describe('post revisions', () => {
  it.each([
    // [previous, next, revision, comment]
    [undefined, base, 'new'], // nothing indexed yet
    [base, { ...base, text: '施工期间道路封闭。' }, 'reworded'], // the text changed: an edit
    [base, { ...base, title: '关于道路施工的通知' }, 'reworded'], // the title alone changed: still an edit
    [base, { ...base }, 'same-words'], // only the reply or attachments changed (a 留言 answered)
    [{ ...base, deleted: deletion }, base, 'restored'], // gone, then back on the position
  ] as const)('%#: previous → next is %s', (previous, next, revision) => {
    expect(decideRevision(previous, next)).toBe(revision);
  });

  it('an edit keeps the earlier wording as a version with when it was seen, and the time of the edit', () => {
    const next = { title: base.title, text: '施工期间道路全封闭。', collectedAt: '2026-11-22T08:00:00.000Z' };
    const { revision, history } = carryHistory({ ...base, firstSeenAt: '2026-11-19T08:00:00.000Z' }, next);
    expect(revision).toBe('reworded');
    expect(history.editedAt).toBe(next.collectedAt);
    expect(history.firstSeenAt).toBe('2026-11-19T08:00:00.000Z');
    expect(history.versions).toEqual([
      { textHash: textHashOf(base), contentHash: base.contentHash, title: base.title, text: base.text, seenFrom: '2026-11-19T08:00:00.000Z', seenUntil: next.collectedAt },
    ]);
  });

  it('a second edit starts its version where the first edit ended, and versions are bounded (oldest dropped)', () => {
    let post: typeof base & PostHistory = { ...base };
    for (let i = 1; i <= MAX_POST_VERSIONS + 3; i++) {
      const next = { title: base.title, text: `第${i}次修改`, collectedAt: new Date(Date.UTC(2026, 10, 20, i)).toISOString() };
      const { history } = carryHistory(post, next);
      post = { ...post, ...history, text: next.text, contentHash: `h-${i}-000000`, collectedAt: next.collectedAt };
    }
    expect(post.versions).toHaveLength(MAX_POST_VERSIONS);
    expect(post.versions!.at(-1)!.text).toBe(`第${MAX_POST_VERSIONS + 2}次修改`);
    expect(post.versions![0]!.text).toBe('第3次修改');
    const [a, b] = post.versions!.slice(-2);
    expect(b!.seenFrom).toBe(a!.seenUntil);
  });

  it('an answer to a 留言 keeps the history as it was and adds no version', () => {
    const previous = { ...base, versions: [{ textHash: 'x', contentHash: 'y', title: 't', text: 'old', seenFrom: 'a', seenUntil: 'b' }], editedAt: '2026-11-19T00:00:00.000Z' };
    const { revision, history } = carryHistory(previous, { ...base, collectedAt: '2026-11-23T00:00:00.000Z' });
    expect(revision).toBe('same-words');
    expect(history.versions).toEqual(previous.versions);
    expect(history.editedAt).toBe(previous.editedAt);
  });

  it('a deleted post that comes back is restored: the deletion moves to its past deletions', () => {
    const { revision, history } = carryHistory({ ...base, deleted: deletion }, { ...base, collectedAt: '2026-11-24T00:00:00.000Z' });
    expect(revision).toBe('restored');
    expect(history.deleted).toBeUndefined();
    expect(history.pastDeletions).toEqual([deletion]);
    expect(history.restoredAt).toBe('2026-11-24T00:00:00.000Z');
  });

  it.each([
    [undefined, {}, 'kept-pending'], // not indexed yet: a tombstone waits for the post's ingest
    [undefined, { pending: true }, 'already-pending'], // a second crawl reporting the same absence: the first tombstone stays
    [{}, {}, 'mark-deleted'], // indexed, not marked yet
    [{ deleted: deletion }, {}, 'already-deleted'], // a retry or a second crawl reporting the same absence
    [{}, { lastObservedAt: '2026-11-21T01:00:00.000Z', crawlAt: deletion.crawl.at }, 'stale'], // the post was seen back after this crawl found it gone
    [{}, { lastObservedAt: deletion.crawl.at, crawlAt: deletion.crawl.at }, 'mark-deleted'], // the same instant: the deletion is the later
    [{}, { lastObservedAt: '2026-11-20T08:00:00.000Z', crawlAt: deletion.crawl.at }, 'mark-deleted'], // gone after it was last seen
  ] as const)('deletion of %o (%o) → %s', (indexed, context, decision) => {
    expect(decideDeletion(indexed, context)).toBe(decision);
  });

  it.each([
    [undefined, '2026-11-20T08:00:00.000Z', 'none'], // no deletion waits
    [deletion, '2026-11-20T08:00:00.000Z', 'deleted-before-indexed'], // queued, then found gone before its ingest ran: indexed and marked
    [deletion, deletion.crawl.at, 'deleted-before-indexed'], // observed at the deletion's instant: still gone
    [deletion, '2026-11-21T08:00:00.000Z', 'came-back'], // observed after the crawl that found it gone: present, the deletion kept as past
  ] as const)('pending deletion %o, item observed at %s → %s', (pending, observedAt, decision) => {
    expect(decidePendingDeletion(pending, observedAt)).toBe(decision);
  });

  it.each([
    // [what arrives, comment]
    ['three wordings', [w(0, 0), w(1, 1), w(2, 2)]],
    ['three wordings, the current one seen twice', [w(0, 0), w(1, 1), w(2, 2), w(2, 3)]],
    ['a post never reworded, seen three times', [w(0, 0), w(0, 1), w(0, 2)]],
    ['reworded, then found gone', [w(0, 0), w(1, 1), gone(2)]],
    ['reworded, seen again, then found gone', [w(0, 0), w(1, 1), w(1, 1.5), gone(2)]],
    ['reworded twice, then found gone', [w(0, 0), w(1, 1), w(2, 1.5), gone(2)]],
    ['found gone, then back reworded', [w(0, 0), gone(1), w(1, 2)]],
    ['found gone, then back reworded, seen again', [w(0, 0), gone(1), w(1, 2), w(1, 3)]],
    ['found gone, then back reworded twice', [w(0, 0), gone(1), w(1, 2), w(2, 3)]],
    ['found gone, then back with the same words', [w(0, 0), gone(1), w(0, 2)]],
    ['found gone, then back with the same words, seen again', [w(0, 0), gone(1), w(0, 2), w(0, 3)]],
    ['A, B, then A again, seen twice', [w(0, 0), w(1, 1), w(0, 2), w(0, 3)]],
    ['A, B, then A again, seen three times', [w(0, 0), w(1, 1), w(0, 2), w(0, 3), w(0, 4)]],
    // Issue 4: orders a random search with this model found ending differently.
    ['found gone by two crawls', [w(0, 0), gone(1), gone(2)]],
    ['found gone by three crawls', [w(0, 0), gone(1), gone(2), gone(3)]],
    ['seen twice, then found gone by two crawls', [w(0, 0), w(0, 1), gone(2), gone(3)]],
    ['gone, back with the same words, gone again', [w(0, 0), gone(1), w(0, 2), gone(3)]],
    ['gone, back reworded, gone again', [w(0, 0), gone(1), w(1, 2), gone(3)]],
    ['gone, back reworded, gone again, still gone', [w(0, 0), gone(1), w(1, 2), gone(3), gone(4)]],
    ['A seen twice, then B', [w(0, 0), w(0, 1), w(1, 2)]],
    ['A, B seen twice, then C', [w(0, 0), w(1, 1), w(1, 2), w(2, 3)]],
    ['A, B, A, B', [w(0, 0), w(1, 1), w(0, 2), w(1, 3)]],
    ['A, B, A, C', [w(0, 0), w(1, 1), w(0, 2), w(2, 3)]],
  ] as const)('%s: every arrival order ends with the history of the order observed', (_what, observations) => {
    const inOrder = ingest(observations);
    for (const order of permutations(observations)) expectSameEnd(order, inOrder, `arriving as ${order.map(nameOf).join(', ')}`);
  });

  /** Every set of `hours` hourly observations, each one of `choices`, holding a wording. */
  function everySet(hours: number, choices: readonly ((h: number) => Observation)[]): Observation[][] {
    let sets: Observation[][] = [[]];
    for (let h = 0; h < hours; h++) sets = sets.flatMap((set) => choices.map((make) => [...set, make(h)]));
    return sets.filter((set) => set.some((o) => o.change !== 'deleted'));
  }
  const sameInEveryOrder = (set: Observation[]) => {
    const inOrder = ingest(set);
    for (const order of permutations(set)) expectSameEnd(order, inOrder, `${set.map(nameOf).join(', ')} arriving as ${order.map(nameOf).join(', ')}`);
  };

  it('every set of four hourly observations (any of three wordings, or the post found gone, each hour) ends the same in all 24 arrival orders', () => {
    const sets = everySet(4, [(h) => w(0, h), (h) => w(1, h), (h) => w(2, h), gone]);
    expect(sets).toHaveLength(4 ** 4 - 1);
    sets.forEach(sameInEveryOrder);
  });

  it('every set of four hourly observations, in every arrival order, with each job retried after handing its changes over but before remembering the post: the same end, and each note told once (issue 4)', () => {
    const noteKeys = (notes: PostChange[]) => notes.map((n) => `${n.change}:${n.key}`);
    for (const set of everySet(4, [(h) => w(0, h), (h) => w(1, h), (h) => w(2, h), gone])) {
      for (const order of permutations(set)) {
        const label = `${set.map(nameOf).join(', ')} arriving as ${order.map(nameOf).join(', ')}, each job retried`;
        const [once, retried] = [ingest(order), ingest(order, { retried: true })];
        expect(retried.state, label).toEqual(once.state);
        expect(noteKeys(retried.notes), `${label}: notes`).toEqual(noteKeys(once.notes));
        expect(retried.deletionsCountedIn, `${label}: deletions counted`).toEqual(once.deletionsCountedIn);
      }
    }
  });

  it('every set of five hourly observations (either of two wordings, or the post found gone, each hour) ends the same in all 120 arrival orders', () => {
    const sets = everySet(5, [(h) => w(0, h), (h) => w(1, h), gone]);
    expect(sets).toHaveLength(3 ** 5 - 1);
    sets.forEach(sameInEveryOrder);
  });

  it('a late observation among a long run of sightings of one wording (more than its first and last few) ends as in the order observed: the post was back, or reworded back, at the very next sighting', () => {
    const run = Array.from({ length: 12 }, (_, h) => w(0, h));
    for (let h = 0; h < run.length - 1; h++) {
      for (const late of [gone(h + 0.5), w(1, h + 0.5)]) {
        const inOrder = ingest([...run.slice(0, h + 1), late, ...run.slice(h + 1)]);
        expect(inOrder.state).toMatchObject(late.change === 'deleted' ? { restoredAt: hoursAfter(h + 1) } : { editedAt: hoursAfter(h + 1) });
        expectSameEnd([...run, late], inOrder, `${nameOf(late)} ingested after 12 sightings of w0`);
        expectSameEnd([late, ...run], inOrder, `${nameOf(late)} ingested before 12 sightings of w0`);
      }
    }
  });

  it('an observation delayed behind more sightings than the log keeps lands among dropped ones: the next kept sighting stands for its successor (the post shows it back no earlier than it was)', () => {
    const run = Array.from({ length: MAX_OBSERVATIONS + 6 }, (_, h) => w(0, h));
    const late = ingest([...run, gone(3.5)]).state;
    // The oldest middles went first: of the first sightings, only the first is kept.
    expect(late.restoredAt).toBe(hoursAfter(MAX_OBSERVATIONS + 6 - (MAX_OBSERVATIONS - 1)));
    expect(ingest([...run.slice(0, 4), gone(3.5), ...run.slice(4)]).state.restoredAt).toBe(hoursAfter(4));
  });

  it('the order observed: each wording a version seen until the next appeared, the post first seen at its first sighting, last observed at its last', () => {
    expect(ingestInOrder([w(0, 0), w(1, 1), w(2, 2), w(2, 3)])).toEqual({
      text: wordings[2],
      versions: [
        [wordings[0], hoursAfter(0), hoursAfter(1)],
        [wordings[1], hoursAfter(1), hoursAfter(2)],
      ],
      firstSeenAt: hoursAfter(0),
      editedAt: hoursAfter(2),
      observedAt: hoursAfter(3),
    });
    // The same words seen at t1 (ingested second) and t2 (ingested first): visible since t1.
    expect(ingestInOrder([w(0, 1), w(0, 0)])).toEqual({ text: wordings[0], firstSeenAt: hoursAfter(0), observedAt: hoursAfter(1) });
    // A wording seen before the crawl that found the post gone, ingested after it: the deleted post's wording.
    expect(ingestInOrder([w(0, 0), gone(2), w(1, 1)])).toMatchObject({ text: wordings[1], versions: [[wordings[0], hoursAfter(0), hoursAfter(1)]], editedAt: hoursAfter(1), deleted: { crawl: { at: hoursAfter(2) } } });
    // Known words, or words first seen after the current wording was, are not inserted.
    const post = { ...w(1, 1), ...carryHistory(w(0, 0), w(1, 1)).history };
    expect(insertEarlierWording(post, w(0, 0))).toBeUndefined();
    expect(insertEarlierWording(post, w(2, 3))).toBeUndefined();
    expect(insertEarlierWording(post, w(1, 2))).toBeUndefined();
  });

  it('A, then B, then A again: whichever of B and the second A is ingested last, A is current with the history of the order observed', () => {
    const [a0, b1, a2] = [
      { ...base, collectedAt: '2026-11-20T08:00:00.000Z' },
      { ...base, text: '施工期间道路全封闭。', contentHash: 'h-wording-b-00', collectedAt: '2026-11-21T08:00:00.000Z' },
      { ...base, collectedAt: '2026-11-22T08:00:00.000Z' },
    ] as const;
    type Doc = typeof base & PostHistory;
    /** The ingest path's rules: dedupe on what is remembered, a duplicate seen later moves observedAt. */
    const ingest = (order: (typeof base)[]): Doc => {
      let doc: Doc | undefined;
      let observedAt = '';
      for (const item of order) {
        const decision = decideDedupe(doc ? { hash: doc.contentHash, observedAt } : null, item);
        if (decision === 'new' || decision === 'changed') {
          doc = { ...item, ...carryHistory(doc, item).history };
          observedAt = item.collectedAt;
        } else if (decision === 'duplicate') observedAt = Date.parse(item.collectedAt) > Date.parse(observedAt) ? item.collectedAt : observedAt;
        else doc = { ...doc!, ...insertEarlierWording(doc!, item, observedAt) };
      }
      return doc!;
    };
    const observed = ingest([a0, b1, a2]);
    expect(observed.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([
      [a0.text, a0.collectedAt, b1.collectedAt],
      [b1.text, b1.collectedAt, a2.collectedAt],
    ]);
    // B delayed behind the second A (it was a duplicate that moved observedAt), or ingested first.
    for (const order of [[a0, a2, b1], [b1, a0, a2]]) {
      const doc = ingest(order);
      expect({ text: doc.text, versions: doc.versions, editedAt: doc.editedAt, firstSeenAt: doc.firstSeenAt }).toEqual({ text: a0.text, versions: observed.versions, editedAt: observed.editedAt, firstSeenAt: observed.firstSeenAt });
    }
    // In every order the post ends on A.
    for (const order of [[a2, a0, b1], [a2, b1, a0], [b1, a2, a0]]) expect(ingest(order).text).toBe(a0.text);
  });

  it('a deletion ingested after the post was seen back is kept among the past deletions once, the return known', () => {
    const crawl = (at: string) => ({ at: '2026-11-25T00:00:00.000Z', crawl: { sourceId: 'demo-website', at } });
    const backAt = '2026-11-21T08:00:00.000Z';
    const history = insertPastDeletion({}, deletion, backAt);
    expect(history).toEqual({ pastDeletions: [deletion], restoredAt: backAt });
    expect(insertPastDeletion(history!, deletion, backAt)).toBeUndefined();
    // An earlier deletion goes before the ones recorded; a return recorded after it stands.
    const earlier = crawl('2026-11-19T00:00:00.000Z');
    expect(insertPastDeletion(history!, earlier, '2026-11-19T08:00:00.000Z')).toEqual({ pastDeletions: [earlier, deletion], restoredAt: backAt });
  });

  it('a wording with a level keeps its findings on its version, and the post reads as that wording for alert evaluation', () => {
    const findings: WordingFindings = {
      hits: [{ term: '暴力执法', packId: 'sensitive', category: '敏感词', level: 2, start: 0, end: 4, field: 'text' }],
      terms: ['暴力执法'],
      categories: ['敏感词'],
      level: 2,
      maxLevel: 2,
    };
    const sensitive = { ...base, text: '暴力执法，大家都看见了。', contentHash: 'h-sensitive-01', ...findings };
    const benign = { ...base, text: '已处理，谢谢关注。', contentHash: 'h-benign-0001', collectedAt: '2026-11-20T08:05:00.000Z' };
    const { history } = carryHistory(sensitive, benign);
    expect(history.versions?.[0]?.findings).toEqual(findings);
    const post = { ...benign, id: 'p1', sourceId: 'demo-website', kind: 'comment', url: 'u', at: base.collectedAt, tokens: '', words: [], keywords: [], hits: [], terms: [], categories: [], indexedAt: benign.collectedAt, eventId: 'e1', ...history } as IndexedPost;
    expect(wordingOf(post, benign.contentHash)).toBe(post);
    expect(wordingOf(post, sensitive.contentHash)).toMatchObject({ id: 'p1', eventId: 'e1', text: sensitive.text, contentHash: sensitive.contentHash, terms: ['暴力执法'], level: 2 });
    expect(wordingOf(post, 'h-unknown')).toBeUndefined();
    // A wording without a level keeps no findings: nothing for an alert to read.
    expect(carryHistory(benign, { ...sensitive, collectedAt: '2026-11-20T09:00:00.000Z' }).history.versions?.[0]?.findings).toBeUndefined();
  });

  it('marking a deletion keeps every word and records when and which crawl', () => {
    const marked = markDeleted(base, { sourceId: 'demo-website', collectedAt: '2026-11-20T23:59:00.000Z', previousHash: 'h-original-0001' }, new Date('2026-11-21T00:00:00.000Z'));
    expect(marked.text).toBe(base.text);
    expect(marked.title).toBe(base.title);
    expect(marked.deleted).toEqual({ ...deletion, previousHash: 'h-original-0001' });
  });

  it.each([
    [null, 'new'],
    [{ hash: base.contentHash }, 'duplicate'], // unchanged re-crawl
    [{ hash: base.contentHash, deletedAt: deletion.at, observedAt: deletion.crawl.at }, 'changed'], // the same words back after a deletion: re-indexed as restored
  ] as const)('dedupe: remembered %o → %s', (seen, decision) => {
    expect(decideDedupe(seen, { contentHash: base.contentHash, collectedAt: '2026-11-24T00:00:00.000Z' })).toBe(decision);
  });

  it('alerts hear of a rewording or a return, never of an answer alone', () => {
    const post = { id: 'p1', sourceId: 's', title: '标题', text: '正文', collectedAt: '2026-11-20T00:00:00.000Z', contentHash: 'c1', eventId: 'e1' } as IndexedPost;
    expect(changeOfRevision(post, 'reworded')).toMatchObject({ change: 'edited', key: 'c1', eventId: 'e1', label: '标题' });
    expect(changeOfRevision(post, 'restored')?.change).toBe('restored');
    expect(changeOfRevision(post, 'same-words')).toBeUndefined();
    expect(changeOfRevision(post, 'new')).toBeUndefined();
  });
});

describe('post changes on alerts', () => {
  const change: PostChange = { postId: 'p1', change: 'deleted', eventId: 'e1', sourceId: 'demo-website', label: '城管暴力执法', seenAt: '2026-11-21T00:00:00.000Z', key: 'deleted:2026-11-21T00:00:00.000Z' };
  const open = { status: 'acknowledged' as const, postIds: ['p1'], timeline: [] };

  it.each([
    // [alert, reason, record, notify]
    [open, 'flagged-post-changed', true, true], // one of the alert's own posts
    [{ ...open, postIds: ['p0'] }, 'event-post-changed', true, true], // a comment under the criticised article (same event)
    [{ ...open, status: 'closed' as const }, 'closed-alert-record-only', true, false], // closed: kept for inspection, nobody disturbed
    [{ ...open, status: 'false_positive' as const }, 'closed-alert-record-only', true, false],
    [{ ...open, timeline: [{ at: 'x', kind: 'post-deleted', actor: 'collector', postId: 'p1', to: change.key }] }, 'already-noted', false, false], // a retried job
  ] as const)('%#: → %s', (alert, reason, record, notify) => {
    expect(decidePostChangeNote(alert, change)).toEqual({ reason, record, notify });
  });

  it('the history line names the change, the post and the crawl that saw it', () => {
    const entry = postChangeEntry(change, 'flagged-post-changed', new Date('2026-11-21T00:00:01.000Z'));
    expect(entry).toMatchObject({ kind: 'post-deleted', actor: 'collector', postId: 'p1', to: change.key });
    expect(entry.note).toContain('原帖已删除');
    expect(entry.note).toContain('城管暴力执法');
    expect(postChangeEntry({ ...change, change: 'edited' }, 'event-post-changed', new Date()).note).toMatch(/^原帖已修改：同一事件的帖文/);
  });

  it('labels a post by whole characters: its text on one line, cut before 60 and 40 characters, never through an emoji', () => {
    const label = labelOf({ title: '', text: `城管\n暴力执法${'县'.repeat(52)}😡后面` });
    expect(label).toBe(`城管 暴力执法${'县'.repeat(52)}😡`);
    const note = postChangeEntry({ ...change, label: `${'县'.repeat(39)}😡后面` }, 'flagged-post-changed', new Date()).note!;
    expect(note).toContain(`「${'县'.repeat(39)}😡」`);
  });

  it('the holder is the assignee, else whoever signed; nobody while unsigned', () => {
    expect(holderOf({ assignee: { kind: 'section', id: '网信办' } })).toEqual({ kind: 'section', id: '网信办' });
    expect(holderOf({ acknowledgedBy: 'duty' })).toEqual({ kind: 'person', id: 'duty' });
    expect(holderOf({})).toBeUndefined();
  });

  it('a deletion spike of a position becomes one alert per position and bucket; other signals do not', () => {
    const signal = { id: 'abc', scope: 'deletions', key: 'demo-website', reason: 'volume-surge', bucketStart: '2026-11-21T00:00:00.000Z', bucketMinutes: 60, count: 9, negative: 0, baselineMean: 0.5, zScore: 8, ratio: 9, negativeShare: 0, baselineNegativeShare: 0, detectedAt: '2026-11-21T00:30:00.000Z' } satisfies SignalRecord;
    expect(deletionSpikeAlert(signal)).toMatchObject({ id: 'deletions-abc', category: '删帖异常', sourceId: 'demo-website', ruleLevel: 3 });
    expect(deletionSpikeAlert({ ...signal, scope: 'position' })).toBeUndefined();
  });
});
