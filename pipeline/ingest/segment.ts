import { loadJiebaDictionary, type JiebaDictionary } from '../../core/segment/jieba-dictionary.js';
import { WordCutter } from '../../core/segment/word-cutter.js';
import { IDF, IDF_INDEX, STOP_WORD } from '../../core/segment/word-dictionary.js';

export interface Segmentation {
  /** Every word in order, joined by single spaces (whitespace-free tokens; punctuation kept). */
  tokens: string;
  /** Distinct words of two or more characters, in first-seen order. */
  words: string[];
  /** Top TF-IDF keywords, for word clouds. */
  keywords: string[];
}

const KEYWORDS = 10;

/** One dictionary per process, as nodejieba kept: domain terms added by any segmenter reach all. */
let dictionary: JiebaDictionary | undefined;

/**
 * Segments with our own jieba (core/segment: the words of nodejieba's `cut`, in-process); domain
 * terms (every lexicon term) are added like `nodejieba.insertWord` adds them, at the dictionary's
 * median weight, so that "暴力执法" stays one word instead of 暴力 + 执法. Calling again adds more
 * terms to the process's dictionary.
 *
 * Keywords are jieba's TF-IDF scoring from the one cut: tf × idf, unknown words at the mean idf,
 * single characters and stop words left out. Words are counted by their dictionary state (a token
 * of two or more code units is a dictionary word or one surrogate pair), so a text's distinct
 * words cost one string each.
 */
export function createSegmenter(domainTerms: readonly string[]): (text: string) => Segmentation {
  dictionary ??= loadJiebaDictionary();
  const jieba = dictionary;
  for (const term of domainTerms) jieba.words.insert(term, 'weight', jieba.medianWeight);
  const cutter = new WordCutter(jieba);
  let units = new Uint16Array(1024);
  return (text) => {
    const count = cutter.cut(text);
    const { ends, states } = cutter;
    // The tokens string is written as code units and decoded once (a rope of slices costs twice as much).
    if (units.length < 2 * text.length || (units.length > 1 << 17 && units.length > 8 * text.length)) units = new Uint16Array(Math.max(1024, 2 * text.length));
    let written = 0;
    /** Distinct tokens of two or more code units, first seen first, with their state and count. */
    const words: string[] = [];
    const wordState: number[] = [];
    const wordCount: number[] = [];
    const indexOf = new Map<number, number>();
    let start = 0;
    for (let k = 0; k < count; k++) {
      const end = ends[k]!;
      // The token as `trim()` leaves it.
      let from = start;
      let to = end;
      while (from < to && isTrimmed(text.charCodeAt(from))) from++;
      while (to > from && isTrimmed(text.charCodeAt(to - 1))) to--;
      if (to > from) {
        if (written > 0) units[written++] = 0x20;
        for (let p = from; p < to; p++) units[written++] = text.charCodeAt(p);
      }
      if (end - start >= 2) {
        const state = states[k]!;
        // A token without a state is one character in no word: a surrogate pair, keyed by its code point.
        const key = state >= 0 ? state : -1 - text.codePointAt(start)!;
        const seen = indexOf.get(key);
        if (seen !== undefined) wordCount[seen]!++;
        else {
          indexOf.set(key, words.length);
          words.push(text.slice(start, end));
          wordState.push(state);
          wordCount.push(1);
        }
      }
      start = end;
    }
    const tokens = UTF16.decode(units.subarray(0, written));

    // Keywords: the best scores, the earlier word first among equal ones (a stable sort's top).
    const { records, idfs } = jieba.words;
    const keywords: string[] = [];
    const keywordScore: number[] = [];
    let kept = 0;
    for (let d = 0; d < words.length; d++) {
      const w = words[d]!;
      const state = wordState[d]!;
      const facts = state >= 0 ? records[4 * state + IDF]! : STOP_WORD;
      if ((facts & STOP_WORD) === 0 && !isSingleCharacter(w)) {
        const value = idfs[facts & IDF_INDEX]!;
        const score = wordCount[d]! * (Number.isNaN(value) ? jieba.averageIdf : value);
        if (keywords.length < KEYWORDS || score > keywordScore[KEYWORDS - 1]!) {
          let at = Math.min(keywords.length, KEYWORDS - 1);
          for (; at > 0 && keywordScore[at - 1]! < score; at--) {
            keywords[at] = keywords[at - 1]!;
            keywordScore[at] = keywordScore[at - 1]!;
          }
          keywords[at] = w;
          keywordScore[at] = score;
        }
      }
      // Whitespace around one character is no word.
      if (!(isTrimmed(w.charCodeAt(0)) || isTrimmed(w.charCodeAt(w.length - 1))) || w.trim().length >= 2) words[kept++] = w;
    }
    words.length = kept;
    return { tokens, words, keywords };
  };
}

/** Length in characters (code points), as jieba counts a "single word". */
function isSingleCharacter(word: string): boolean {
  return word.length === 1 || (word.length === 2 && word.codePointAt(0)! > 0xffff);
}

const UTF16 = new TextDecoder('utf-16le');

/** Whether `String.prototype.trim` removes the code unit: white space and line terminators. */
function isTrimmed(c: number): boolean {
  if (c > 0x20 && c < 0xa0) return false;
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
