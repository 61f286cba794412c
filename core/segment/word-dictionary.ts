import { layOutDoubleArray } from '../text/double-array.js';

/** What one dictionary line says about a word; lines are applied in order, a later one overriding. */
export type WordFact = 'weight' | 'idf' | 'stop';

/** Dictionary lines in parallel arrays (no object per line: the shipped files have 600,000). */
export interface WordFacts {
  words: string[];
  facts: WordFact[];
  /** The weight or IDF; ignored for stop words. */
  values: number[];
}

/** A dictionary's typed arrays, as stored. */
export interface WordArrays {
  classOf: Uint16Array;
  records: Int32Array;
  /** Distinct weights, by index; index 0 is 0 (no segmentation word). */
  weights: Float64Array;
  /** Distinct IDFs, by index; index 0 is NaN (unknown). */
  idfs: Float64Array;
  /** A bit per hash of a word's first two code units (see {@link pairBit}). */
  pairs: Uint8Array;
}

/** Bits of the first-pair filter: 128 KB, small enough to stay in cache. */
const PAIR_BITS = 20;
export const PAIR_BYTES = 1 << (PAIR_BITS - 3);

/** The filter bit of two code units that start a word. */
export function pairBit(first: number, second: number): number {
  return (Math.imul(first, 0x9e3779b1) ^ Math.imul(second, 0x85ebca6b)) >>> (32 - PAIR_BITS);
}

/** Record fields: check, base, weight index, and IDF index with the flags above {@link IDF_INDEX}. */
export const CHECK = 0;
export const BASE = 1;
export const WEIGHT = 2;
export const IDF = 3;
export const IDF_INDEX = 0xffffff;
/** Flags in the IDF field: a stop word ends here; edges go on in the graft map. */
export const STOP_WORD = 1 << 24;
export const GRAFTED = 1 << 25;

/**
 * Every word the segmenter knows, as one trie over UTF-16 code units whose states carry what the
 * segmenter and the keyword scorer need: the word's log probability (cppjieba's weight), its IDF
 * and whether it is a stop word. A word is identified by its final state.
 *
 * Layout: the trie built from the shipped dictionary is a double array (Aoe), as in the rule
 * matcher: the child of state s on alphabet id c is slot base[s] + c when check[base[s] + c] = s;
 * check, base and what the state's word is share one 16-byte record, so a step reads one cache
 * line. Words added later (the domain terms, as `nodejieba.insertWord` adds them) are grafted: a
 * state whose path goes on past the double array is flagged, and its further edges live in a small
 * map; grafted states take records after the double array's, which no double-array step reaches.
 */
export class WordDictionary {
  /** Code unit → alphabet id (0 = in no word of the double array). */
  readonly classOf: Uint16Array;
  /**
   * Per state s, one 16-byte record at 4s: check (parent state, -1 free), base, the index of the
   * weight of the segmentation word ending there in {@link weights}, and the index of its IDF in
   * {@link idfs} with its flags. Weights and IDFs take a few thousand distinct values (jieba's
   * frequencies and document counts), so indices keep everything a walk and the keyword scorer
   * read in the record a step has already loaded.
   */
  records: Int32Array;
  weights: Float64Array;
  idfs: Float64Array;
  /**
   * Whether any word starts with two given code units (a Bloom filter of one hash): a walk's
   * second step lands anywhere in the records, and most pairs of text characters start no word,
   * so the filter answers most of them from cache.
   */
  readonly pairs: Uint8Array;
  /** Index of each value in {@link weights} / {@link idfs}, to add words. */
  private readonly weightIndex = new Map<number, number>();
  private readonly idfIndex = new Map<number, number>();
  /** Edges out of grafted states, keyed state × 65536 + code unit. */
  private readonly grafts = new Map<number, number>();
  /** States in use, double array and grafts. */
  private used: number;

  private constructor(parts: WordArrays) {
    this.classOf = parts.classOf;
    this.records = parts.records;
    this.weights = parts.weights;
    this.idfs = parts.idfs;
    this.pairs = parts.pairs;
    this.weights.forEach((w, k) => this.weightIndex.set(w, k));
    this.idfs.forEach((v, k) => k > 0 && this.idfIndex.set(v, k));
    this.used = parts.records.length / 4;
  }

  /** Builds the trie of dictionary lines. */
  static build({ words, facts, values }: WordFacts): WordDictionary {
    const frequency = new Int32Array(65536);
    for (const w of words) for (let i = 0; i < w.length; i++) frequency[w.charCodeAt(i)]!++;
    const units: number[] = [];
    for (let u = 0; u < 65536; u++) if (frequency[u]! > 0) units.push(u);
    units.sort((a, b) => frequency[b]! - frequency[a]! || a - b);
    const classOf = new Uint16Array(65536);
    units.forEach((u, k) => (classOf[u] = k + 1));

    const order = sortWords(words);
    const sorted = Array.from(order, (k) => words[k]!);
    const { check, base, stateOf, size } = layOutDoubleArray(sorted, classOf, units.length);
    const records = new Int32Array(size * 4);
    for (let s = 0; s < size; s++) {
      records[4 * s + CHECK] = check[s]!;
      records[4 * s + BASE] = base[s]!;
    }
    const pairs = new Uint8Array(PAIR_BYTES);
    for (const w of words) if (w.length >= 2) addPair(pairs, w);
    const dictionary = new WordDictionary({ classOf, records, weights: Float64Array.of(0), idfs: Float64Array.of(NaN), pairs });
    const rankOf = new Int32Array(words.length);
    order.forEach((k, rank) => (rankOf[k] = rank));
    for (let k = 0; k < words.length; k++) {
      const state = stateOf[rankOf[k]!]!;
      if (state >= 0) dictionary.set(state, facts[k]!, values[k]!);
    }
    return dictionary;
  }

  /** The arrays of a dictionary without grafts, to store them (see {@link fromArrays}). */
  toArrays(): WordArrays {
    if (this.grafts.size > 0) throw new Error('a dictionary with added words is not stored');
    const { classOf, records, weights, idfs, pairs } = this;
    return { classOf, records, weights, idfs, pairs };
  }

  static fromArrays(arrays: WordArrays): WordDictionary {
    return new WordDictionary(arrays);
  }

  /** Number of states (double-array slots and grafted states). */
  get states(): number {
    return this.used;
  }

  /** The state after `unit` from `state`, or -1. */
  private next(state: number, unit: number): number {
    const t = this.records[4 * state + BASE]! + this.classOf[unit]!;
    if (this.records[4 * t + CHECK] === state) return t;
    return this.graft(state, unit);
  }

  /** Grafted edge out of `state`, or -1: the slow path of a walk. */
  graft(state: number, unit: number): number {
    return (this.records[4 * state + IDF]! & GRAFTED) === 0 ? -1 : (this.grafts.get(state * 65536 + unit) ?? -1);
  }

  /** Adds or overrides what one line says of a word (like cppjieba's `InsertUserWord`), grafting the states it lacks; returns its state. */
  insert(word: string, fact: WordFact, value: number): number {
    if (word.length >= 2) addPair(this.pairs, word);
    let s = 0;
    let i = 0;
    for (; i < word.length; i++) {
      const t = this.next(s, word.charCodeAt(i));
      if (t < 0) break;
      s = t;
    }
    for (; i < word.length; i++) {
      const t = this.allocate();
      this.records[4 * s + IDF]! |= GRAFTED;
      this.grafts.set(s * 65536 + word.charCodeAt(i), t);
      s = t;
    }
    if (s > 0) this.set(s, fact, value);
    return s;
  }

  private set(state: number, fact: WordFact, value: number): void {
    const r = 4 * state;
    if (fact === 'weight') this.records[r + WEIGHT] = value === 0 ? 0 : this.indexOf(value, this.weightIndex, 'weights');
    else if (fact === 'idf') this.records[r + IDF] = (this.records[r + IDF]! & ~IDF_INDEX) | this.indexOf(value, this.idfIndex, 'idfs');
    else this.records[r + IDF]! |= STOP_WORD;
  }

  /** The index of `value` in a value table, appended when new. */
  private indexOf(value: number, index: Map<number, number>, table: 'weights' | 'idfs'): number {
    const known = index.get(value);
    if (known !== undefined) return known;
    const k = this[table].length;
    if (k > IDF_INDEX) throw new Error(`more than ${IDF_INDEX} distinct ${table}`);
    const wider = new Float64Array(k + 1);
    wider.set(this[table]);
    wider[k] = value;
    this[table] = wider;
    index.set(value, k);
    return k;
  }

  /** A fresh state after every slot in use: no double-array step reaches it (its check stays -1). */
  private allocate(): number {
    const s = this.used++;
    if (4 * s >= this.records.length) {
      const size = Math.max(16, Math.ceil((this.records.length / 4) * 1.25));
      const records = new Int32Array(size * 4);
      records.set(this.records);
      for (let k = this.records.length / 4; k < size; k++) records[4 * k + CHECK] = -1;
      this.records = records;
    }
    return s;
  }
}

function addPair(pairs: Uint8Array, word: string): void {
  const bit = pairBit(word.charCodeAt(0), word.charCodeAt(1));
  pairs[bit >>> 3]! |= 1 << (bit & 7);
}

/** Indices of `words` in code-unit order: buckets by first unit, then a comparison sort inside each. */
function sortWords(words: string[]): Int32Array {
  const bucketStart = new Int32Array(65538);
  for (const w of words) bucketStart[(w.length === 0 ? 0 : w.charCodeAt(0) + 1) + 1]!++;
  for (let c = 1; c < bucketStart.length; c++) bucketStart[c]! += bucketStart[c - 1]!;
  const fill = bucketStart.slice();
  const order = new Int32Array(words.length);
  words.forEach((w, i) => (order[fill[w.length === 0 ? 0 : w.charCodeAt(0) + 1]!++] = i));
  const byWord = (a: number, b: number) => {
    const wa = words[a]!;
    const wb = words[b]!;
    return wa < wb ? -1 : wa > wb ? 1 : a - b;
  };
  for (let c = 1; c < 65537; c++) {
    const lo = bucketStart[c]!;
    const hi = bucketStart[c + 1]!;
    if (hi - lo > 1) order.subarray(lo, hi).sort(byWord);
  }
  return order;
}
