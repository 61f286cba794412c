import { describe, expect, it } from 'vitest';
import { HL_POST, HL_PRE, segmentFragment, segmentText } from '../../../dashboards/src/format/highlight.js';

describe('segmentText: marked runs built from hit offsets', () => {
  it.each([
    // one hit in the middle
    ['城管暴力执法了', [{ start: 2, end: 6 }], [['城管', false], ['暴力执法', true], ['了', false]]],
    // hits at both ends, unsorted input
    ['暴力执法和集体上访', [{ start: 5, end: 9 }, { start: 0, end: 4 }], [['暴力执法', true], ['和', false], ['集体上访', true]]],
    // nested hit inside a longer one: the longer one wins
    ['中华人民共合国', [{ start: 0, end: 7 }, { start: 2, end: 4 }], [['中华人民共合国', true]]],
    // partial overlap extends the marked run
    ['abcdef', [{ start: 1, end: 3 }, { start: 2, end: 5 }], [['a', false], ['bcde', true], ['f', false]]],
    // stale offsets past the end are clipped, empty ranges dropped
    ['短文', [{ start: 1, end: 99 }, { start: 5, end: 6 }, { start: 1, end: 1 }], [['短', false], ['文', true]]],
    // no hits: the text as one run
    ['<img src=x onerror=alert(1)>', [], [['<img src=x onerror=alert(1)>', false]]],
  ])('%s', (text, ranges, expected) => {
    expect(segmentText(text, ranges).map((s) => [s.text, s.mark])).toEqual(expected);
  });

  it('keeps every character: joined runs equal the original text', () => {
    const text = '<script>alert(1)</script>集体上访';
    expect(segmentText(text, [{ start: 25, end: 29 }, { start: 0, end: 8 }]).map((s) => s.text).join('')).toBe(text);
  });
});

describe('segmentFragment: Elasticsearch fragments with private-use markers', () => {
  it('marks the text between the markers and leaves markup in the text as characters', () => {
    const fragment = `<b>x</b>${HL_PRE}食物${HL_POST}${HL_PRE}中毒${HL_POST}了`;
    expect(segmentFragment(fragment).map((s) => [s.text, s.mark])).toEqual([
      ['<b>x</b>', false],
      ['食物中毒', true],
      ['了', false],
    ]);
  });

  it('tolerates an unclosed marker', () => {
    expect(segmentFragment(`a${HL_PRE}b`).map((s) => [s.text, s.mark])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });
});
