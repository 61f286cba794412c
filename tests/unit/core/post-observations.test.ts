import { describe, expect, it } from 'vitest';
import { logObservation, MAX_OBSERVATIONS, MAX_RUN_TAIL, replayHistory, wordingsOf, type ObservationLog, type PostObservation } from '../../../core/posts/post-observations.js';

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
