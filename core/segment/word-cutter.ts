import type { JiebaDictionary } from './jieba-dictionary.js';
import { BASE, CHECK, GRAFTED, IDF, WEIGHT, pairBit } from './word-dictionary.js';

/** Route buffers up to this many positions are kept between texts. */
const KEPT = 1 << 16;

/**
 * jieba's cut as nodejieba's `cut(text)` runs it: cppjieba's MixSegment with `hmm` false (nodejieba
 * passes false unless asked), which is its MPSegment, so no HMM guesses words the dictionary lacks.
 * The text is split at the separators space, tab, newline, ， and 。 (each its own word); in every
 * piece between them, the route of dictionary words with the greatest sum of weights is taken, by
 * dynamic programming from the piece's end, a character in no word costing the minimum weight.
 * Latin letters, digits and other symbols take part like any character: a run of them not in the
 * dictionary comes out one character per word, as nodejieba's does.
 *
 * Ties go to the shorter first word, as cppjieba's strict comparison over its DAG does; positions
 * are UTF-16 code units here and characters (code points) there, so a surrogate pair moves as one.
 * Not one allocation per character: the route lives in reused typed arrays.
 */
export class WordCutter {
  /** After {@link cut}: token k spans [ends[k - 1] (0 for k = 0), ends[k]). */
  ends = new Int32Array(256);
  /** After {@link cut}: the dictionary state of token k's word, or -1 for a character in no word. */
  states = new Int32Array(256);
  private score = new Float64Array(257);
  private length = new Int32Array(256);
  private state = new Int32Array(256);

  constructor(private readonly dictionary: JiebaDictionary) {}

  /** Cuts `text`, returns the number of tokens. */
  cut(text: string): number {
    const n = text.length;
    // Sized for the text; one huge text does not leave a long-lived worker holding its buffers.
    if (n + 1 > this.score.length || (this.score.length > KEPT && this.score.length > 4 * (n + 1))) this.widen(n + 1);
    if (n > this.ends.length || (this.ends.length > KEPT && this.ends.length > 4 * n)) {
      this.ends = new Int32Array(Math.max(n, 256));
      this.states = new Int32Array(Math.max(n, 256));
    }
    const { ends, states, length, state } = this;
    let count = 0;
    let start = 0;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? text.charCodeAt(i) : 0;
      if (i < n && !isSeparator(c)) continue;
      if (i > start) {
        this.route(text, start, i);
        for (let p = start; p < i; ) {
          states[count] = state[p]!;
          p += length[p]!;
          ends[count++] = p;
        }
      }
      if (i < n) {
        ends[count] = i + 1;
        states[count++] = -1;
      }
      start = i + 1;
    }
    return count;
  }

  /** Best route over text[from, to): for each position, the length and state of the first word. */
  private route(text: string, from: number, to: number): void {
    const { words, minWeight } = this.dictionary;
    const { classOf, records, weights, pairs } = words;
    const { score, length, state } = this;
    score[to] = 0;
    for (let i = to - 1; i >= from; i--) {
      const c = text.charCodeAt(i);
      let single = 1;
      if ((c & 0xf800) === 0xd800) {
        if (c >= 0xdc00) {
          // The low half of a surrogate pair starts no route.
          if (i > from && isHigh(text.charCodeAt(i - 1))) continue;
        } else if (i + 1 < to && isLow(text.charCodeAt(i + 1))) single = 2;
      }
      // Walk the trie from the root over text[i..]; the character itself is the first candidate.
      let s = 0;
      let j = i;
      let bestScore = 0;
      let bestLength = single;
      let bestState = -1;
      for (; j < to; ) {
        const unit = text.charCodeAt(j);
        if (j === i + 1) {
          // Most pairs of characters start no word: ask the cached filter before the records.
          const bit = pairBit(c, unit);
          if ((pairs[bit >>> 3]! & (1 << (bit & 7))) === 0) break;
        }
        let t = records[4 * s + BASE]! + classOf[unit]!;
        if (records[4 * t + CHECK] !== s) {
          t = (records[4 * s + IDF]! & GRAFTED) === 0 ? -1 : words.graft(s, unit);
          if (t < 0) break;
        }
        s = t;
        j++;
        if (j - i < single) continue;
        const w = weights[records[4 * s + WEIGHT]!]!;
        if (j - i === single) {
          bestScore = score[j]! + (w !== 0 ? w : minWeight);
          if (w !== 0) bestState = s;
        } else if (w !== 0 && !(j < to && isLow(text.charCodeAt(j)) && isHigh(text.charCodeAt(j - 1)))) {
          // A word ending inside a surrogate pair (a malformed added word) is no candidate.
          const v = score[j]! + w;
          if (v > bestScore) {
            bestScore = v;
            bestLength = j - i;
            bestState = s;
          }
        }
      }
      // The walk stopped before the character's end: a character in no word.
      if (j - i < single) bestScore = score[i + single]! + minWeight;
      score[i] = bestScore;
      length[i] = bestLength;
      state[i] = bestState;
    }
  }

  private widen(size: number): void {
    this.score = new Float64Array(size);
    this.length = new Int32Array(size);
    this.state = new Int32Array(size);
  }
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** cppjieba's separators: space, tab, newline, ， and 。. */
function isSeparator(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0xff0c || c === 0x3002;
}
