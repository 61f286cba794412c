import { describe, expect, it } from 'vitest';
import {
  changesOf,
  changesToTell,
  countedDeletionsOf,
  logObservation,
  MAX_OBSERVATIONS,
  MAX_RUN_TAIL,
  recordedAtOf,
  recountDeletions,
  replayHistory,
  wordingsOf,
  type ObservationLog,
  type PostObservation,
} from '../../../core/posts/post-observations.js';

const at = (hours: number) => new Date(Date.parse('2026-11-20T08:00:00.000Z') + hours * 3_600_000).toISOString();
const seenA = (hours: number): PostObservation => ({ at: at(hours), hash: 'h-a' });
const seenB = (hours: number): PostObservation => ({ at: at(hours), hash: 'h-b' });
const goneAt = (hours: number): PostObservation => ({ at: at(hours), deletion: { at: at(100), crawl: { sourceId: 'demo-website', at: at(hours) } } });
const logOf = (observations: PostObservation[]) => observations.reduce<ObservationLog | undefined>((log, o) => logObservation(log, o) ?? log, undefined)!;

describe('the observation log of a post', () => {
  it('keeps observations in the order observed whatever order they arrive in; a known one is not logged again', () => {
    const log = logOf([seenB(2), goneAt(1), seenA(0)]);
    expect(log.observations).toEqual([seenA(0), goneAt(1), seenB(2)]);
    expect(logObservation(log, goneAt(1))).toBeUndefined();
    // At one instant a deletion counts as later, and of two wordings the greater content hash.
    expect(logOf([goneAt(1), seenB(1), seenA(1)]).observations).toEqual([seenA(1), seenB(1), goneAt(1)]);
  });

  it('keeps every observation within its bound; past it the oldest middles of runs go first (each run keeps its first and last few); a log still past its bound, or begun for a post seen before logs were kept, is cut and no longer replays', () => {
    const run = Array.from({ length: MAX_RUN_TAIL + 4 }, (_, i) => seenA(i));
    expect(logOf([...run, seenB(20)]).observations).toEqual([...run, seenB(20)]);
    const long = Array.from({ length: MAX_OBSERVATIONS + 6 }, (_, i) => seenA(i));
    const bounded = logOf([...long, goneAt(40), goneAt(41)]).observations!;
    expect(bounded).toHaveLength(MAX_OBSERVATIONS);
    // A0, then the latest sightings of A, then both crawls.
    expect(bounded).toEqual([seenA(0), ...long.slice(-(MAX_OBSERVATIONS - 3)), goneAt(40), goneAt(41)]);
    const flipping = Array.from({ length: MAX_OBSERVATIONS + 1 }, (_, i) => (i % 2 ? seenB(i) : seenA(i)));
    expect(logOf(flipping)).toEqual({ observationsCut: true });
    expect(logObservation({}, seenA(0))).toEqual({ observationsCut: true });
    expect(replayHistory({ observationsCut: true }, new Map())).toBeUndefined();
  });

  it.each([
    // [observations, changes told in the order observed (kind@hour), deletions counted at (hours), comment]
    [[seenA(0), seenB(1), seenA(2)], ['edited@1', 'edited@2'], [], 'reworded and back: two rewordings'],
    [[seenA(0), goneAt(1), goneAt(2), seenA(3)], ['deleted@1', 'restored@3'], [1], 'two crawls found it gone: one deletion, counted at the first'],
    [[goneAt(0), seenA(1), goneAt(2), seenB(3)], ['deleted@2', 'restored@3'], [0, 2], 'gone before it was ever seen: counted, nobody told'],
    [[seenA(0), goneAt(1), seenA(2), goneAt(3)], ['deleted@1', 'restored@2', 'deleted@3'], [1, 3], 'gone, back, gone again: two deletions'],
  ] as const)('%#: the changes and deletions of the order observed', (observations, told, counted, _comment) => {
    const log = logOf([...observations]);
    expect(changesOf(log)?.map((c) => `${c.change}@${(Date.parse(c.at) - Date.parse(at(0))) / 3_600_000}`)).toEqual(told);
    expect(countedDeletionsOf(log)).toEqual(counted.map(at));
  });

  it('a late observation tells what the order observed told and the log before it did not, and moves the deletion counts to the crawls of the order observed', () => {
    // Gone at 1 and 3, the return at 2 ingested last: the return and the second deletion are new, counted at 3 too.
    const before = logOf([seenA(0), goneAt(1), goneAt(3)]);
    const after = logObservation(before, seenA(2))!;
    expect(changesToTell(before, after)?.map((c) => [c.change, c.at])).toEqual([
      ['restored', at(2)],
      ['deleted', at(3)],
    ]);
    expect(recountDeletions(before, after)).toEqual({ count: [at(3)], uncount: [], counted: [at(1), at(3)] });
    // A crawl before the one counted, in the same run: no new note, the count moves to it.
    const earlier = logObservation(before, goneAt(0.5))!;
    expect(changesToTell(before, earlier)).toEqual([]);
    expect(recountDeletions(before, earlier)).toEqual({ count: [at(0.5)], uncount: [at(1)], counted: [at(0.5)] });
    // A cut log tells and recounts nothing (the caller keeps to what the post says).
    expect(changesToTell({ observationsCut: true }, after)).toBeUndefined();
    expect(recountDeletions(before, { observationsCut: true })).toBeUndefined();
  });

  it.each([
    // [the post's log, the crawl finding it gone (hours), when that counts as recorded]
    ['nothing logged yet', undefined, 1, at(1)], // its own crawl time
    ['seen before it', [seenA(0)], 1, at(1)], // a run of its own
    ['seen back after it, gone again since', [seenA(0), seenA(2), goneAt(3)], 1, at(1)], // a run of its own, although the post is gone now
    ['found gone by a later crawl next', [seenA(0), goneAt(2)], 1, at(100)], // it extends that run back: that run's time, the key the alerts heard
  ] as const)('a crawl finding a post gone, %s, counts as recorded from the log alone, never the clock (a retried job records it the same)', (_what, log, hours, expected) => {
    expect(recordedAtOf(log && logOf([...log]), at(hours)).toISOString()).toBe(expected);
  });

  it('replays to the history of the order observed, or not at all when a wording’s words are not at hand', () => {
    const a = { title: 't', text: 'A', contentHash: 'h-a' };
    const b = { title: 't', text: 'B', contentHash: 'h-b' };
    const log = logOf([seenA(0), goneAt(1), seenB(2), seenA(3)]);
    const replayed = replayHistory(log, wordingsOf(a, b));
    expect(replayed?.contentHash).toBe('h-a');
    expect(replayed?.history).toMatchObject({ firstSeenAt: at(0), editedAt: at(3), restoredAt: at(2), deleted: undefined, pastDeletions: [{ crawl: { at: at(1) } }] });
    expect(replayed?.history.versions?.map((v) => [v.text, v.seenFrom, v.seenUntil])).toEqual([
      ['A', at(0), at(2)],
      ['B', at(2), at(3)],
    ]);
    expect(replayHistory(log, wordingsOf(a))).toBeUndefined();
  });
});
