import { InvalidInputError } from '../errors.js';
import { layOutDoubleArray } from '../text/double-array.js';
import { FOLD_TABLE, STYLED_HIGH_SURROGATE, foldStyledLow } from './fold.js';

/**
 * One automaton (Aho–Corasick) over every term of every pack, scanning each text once and
 * reporting every overlapping match with offsets (UTF-16 code units) into the original text.
 *
 * Matching is on the fold of both sides (see fold.ts) with a skip set of interference characters
 * ignored between a term's characters (傻@逼 matches 傻逼) and, optionally, runs of a repeated
 * character collapsed (傻傻逼 matches 傻逼). Offsets stay those of the original text: the start is
 * the position of the term's first matched character, the end just after its last.
 *
 * Layout, chosen by measurement (bench/matcher.bench.ts):
 * - one 64 Ki `Uint16Array` takes a text code unit straight to a dense alphabet id (fold, skip set
 *   and alphabet in one load): 0 for characters in no term (the walk restarts at the root without
 *   touching the automaton), {@link SKIP} for interference characters;
 * - the trie is a double array (Aoe): the child of state s on id c is slot base[s] + c when
 *   check[base[s] + c] = s. Ids are numbered by frequency in the terms and states are placed
 *   breadth-first, so the root's children sit in one dense run and deeper states pack tightly;
 * - each slot is one 8-byte record: the base (with two flags: the state reports terms; its failure
 *   link is the root) and the slot's label (the id leading into it) beside a mask of the children's
 *   ids. Every state with children has a base of its own, so the label names the parent as well as
 *   a 32-bit check would, and what a successful step reads is half the size (2.5 → 1.3 MB at 65,000
 *   terms, still more than this machine's 1 MB L2 cache, but missing it less). A step touches one
 *   record, most failed steps no other; failure links other than to the root sit in a separate
 *   array (read only when a state deeper than the root's children fails), and skip states without
 *   children (nothing can continue there);
 * - outputs are flat lists of term indices, each ending with a link to the next shorter suffix's
 *   list, so reporting walks contiguous memory; the walk records hits as integer triples in a
 *   reused buffer and the match objects are made after it, which keeps the hot loop small.
 */
export interface MatcherTerm<P> {
  term: string;
  payload: P;
}

export interface Match<P> {
  start: number;
  /** Exclusive. */
  end: number;
  term: string;
  payload: P;
}

export interface MatcherOptions {
  /** Fold width, case, number forms, traditional characters and styled letters (default true). */
  fold?: boolean;
  /** Characters ignored between term characters (after folding). Default {@link DEFAULT_SKIP}. */
  skip?: string;
  /** Treat a run of one repeated character as one (default false). */
  collapseRepeats?: boolean;
}

/** Sizes of the compiled automaton, for benchmarks and diagnostics. */
export interface MatcherStats {
  terms: number;
  /** Distinct folded characters over all terms. */
  alphabet: number;
  states: number;
  /** Double-array slots (states plus holes). */
  slots: number;
  /** Bytes held in typed arrays. */
  bytes: number;
}

/** Whitespace, zero-width characters and the punctuation people put inside words to dodge filters. */
export const DEFAULT_SKIP =
  ' \t\r\n\u00a0\u200b\u200c\u200d\u2060\ufeff' + '@#$%^&*_-+=~`|\\/.,;:\'"!?<>()[]{}' + '·、，。！？…—～《》“”‘’【】（）「」『』★☆●○◆◇■□△▲※';

/** Alphabet id of an interference character. */
const SKIP = 0xffff;
/** Alphabet id of U+D835 when folding: look at the next unit (styled letters). */
const STYLED = 0xfffe;
const MAX_ALPHABET = 0xfffd;

/**
 * Record words, 2 Int32 per double-array slot. Word 0: the base (bits 0–29), {@link FAIL_TO_ROOT}
 * and {@link OUTPUT} (the sign bit: the state ends a term or has a suffix that does). Word 1: the
 * label, the alphabet id leading into the slot (bits 16–31; 0 for a free slot), and a mask of the
 * children's ids (bits 0–15: bit id mod 16), so most failed steps are decided without leaving the
 * record.
 */
const BASE_BITS = 0x3fffffff;
const FAIL_TO_ROOT = 0x40000000;
const OUTPUT = 1 << 31;
const LABEL_SHIFT = 16;

/** Hit buffer sizes (Int32 entries, three per hit): initial, and the most kept between scans. */
const HIT_BUFFER_INITIAL = 3 * 256;
const HIT_BUFFER_KEPT = 3 * 65536;

/** Output list terminator; a value v < END continues at list index -v - 2. */
const END = -1;

const IDENTITY = (() => {
  const t = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = i;
  return t;
})();

export class Matcher<P> {
  /** Per term: its key length (kept characters), to find its start in the ring of positions. */
  private readonly keyLength: Int32Array;
  /** Per term: its text and payload in flat arrays, so a report loads neither through the term object. */
  private readonly termText: string[];
  private readonly payloads: P[];
  private readonly folding: boolean;
  private readonly collapse: boolean;
  /** Code unit → alphabet id (0 = in no term, {@link SKIP}, {@link STYLED}). */
  private readonly classOf: Uint16Array;
  /** Alphabet id of D835 itself when it does not start a surrogate pair. */
  private readonly loneStyledId: number;
  private readonly records: Int32Array;
  /** Per state whose failure link is not the root: that link. */
  private readonly failOf: Int32Array;
  /** Per state: where its output list starts in `outputs`. */
  private readonly outputOf: Int32Array;
  private readonly outputs: Int32Array;
  /** Original offsets of the last kept characters, indexed by their count modulo the ring size. */
  private readonly starts: Int32Array;
  private readonly ringMask: number;
  private readonly stateCount: number;
  private readonly alphabetSize: number;

  /** `terms` is read once, in order (a term's index is its position); a generator may make them as they are read. */
  constructor(terms: Iterable<MatcherTerm<P>>, options: MatcherOptions = {}) {
    this.folding = options.fold ?? true;
    this.collapse = options.collapseRepeats ?? false;
    const fold = this.folding ? (FOLD_TABLE as Uint16Array) : IDENTITY;
    const skip = new Uint8Array(65536);
    for (const ch of options.skip ?? DEFAULT_SKIP) {
      const c = ch.charCodeAt(0);
      skip[c] = 1;
      skip[fold[c]!] = 1;
    }

    // 1. Keys: folded, skip characters removed, repeats collapsed when asked.
    const keys: string[] = [];
    const termText: string[] = [];
    const payloads: P[] = [];
    for (const t of terms) {
      const key = keyOf(t.term, fold, skip, this.folding, this.collapse);
      if (key.length === 0) continue;
      termText.push(t.term);
      payloads.push(t.payload);
      keys.push(key);
    }
    // Exact-size copies to keep: an array grown by push holds spare room.
    this.termText = termText.slice();
    this.payloads = payloads.slice();
    this.keyLength = Int32Array.from(keys, (k) => k.length);

    // 2. Alphabet: distinct folded units, most frequent first (small ids pack the double array).
    const frequency = new Int32Array(65536);
    let maxKey = 1;
    for (const key of keys) {
      maxKey = Math.max(maxKey, key.length);
      for (let i = 0; i < key.length; i++) frequency[key.charCodeAt(i)]!++;
    }
    const units: number[] = [];
    for (let u = 0; u < 65536; u++) if (frequency[u]! > 0) units.push(u);
    units.sort((a, b) => frequency[b]! - frequency[a]! || a - b);
    if (units.length > MAX_ALPHABET) throw new InvalidInputError(`terms use ${units.length} distinct characters; at most ${MAX_ALPHABET} are supported`, 'matcher_alphabet');
    const idOf = new Uint16Array(65536);
    units.forEach((u, k) => (idOf[u] = k + 1));
    this.alphabetSize = units.length;
    this.classOf = new Uint16Array(65536);
    for (let c = 0; c < 65536; c++) {
      const f = fold[c]!;
      this.classOf[c] = skip[f] ? SKIP : idOf[f]!;
    }
    this.loneStyledId = this.classOf[STYLED_HIGH_SURROGATE]!;
    if (this.folding) this.classOf[STYLED_HIGH_SURROGATE] = STYLED;

    // 3. Keys sorted: each trie node is then a contiguous range of them; equal keys form one group.
    const order = sortKeys(keys);
    const sorted: string[] = [];
    const groupStart: number[] = [];
    order.forEach((t, k) => {
      if (k === 0 || keys[t] !== sorted[sorted.length - 1]) {
        sorted.push(keys[t]!);
        groupStart.push(k);
      }
    });
    groupStart.push(order.length);

    const built = buildDoubleArray(sorted, Int32Array.from(groupStart), order, idOf, this.alphabetSize);
    this.records = built.records;
    this.failOf = built.failOf;
    this.outputOf = built.outputOf;
    this.outputs = built.outputs;
    this.stateCount = built.states;

    let ring = 1;
    while (ring < maxKey) ring <<= 1;
    this.ringMask = ring - 1;
    this.starts = new Int32Array(ring);
  }

  /** Hits of the running scan as (start, end, term index) triples; objects are made after the walk. */
  private hits: Int32Array = new Int32Array(HIT_BUFFER_INITIAL);

  private widenHits(): Int32Array {
    const wider = new Int32Array(this.hits.length * 2);
    wider.set(this.hits);
    this.hits = wider;
    return wider;
  }

  get size(): number {
    return this.termText.length;
  }

  get stats(): MatcherStats {
    return {
      terms: this.termText.length,
      alphabet: this.alphabetSize,
      states: this.stateCount,
      slots: this.records.length / 2,
      bytes: this.records.byteLength + this.failOf.byteLength + this.outputOf.byteLength + this.outputs.byteLength + this.classOf.byteLength + this.keyLength.byteLength + this.starts.byteLength + this.hits.byteLength,
    };
  }

  /** Every match, in order of end offset; at one end, longer terms first. */
  scan(text: string): Match<P>[] {
    const found = this.walk(text);
    const { hits, termText, payloads } = this;
    const matches: Match<P>[] = [];
    for (let k = 0; k < found; k += 3) {
      const t = hits[k + 2]!;
      matches.push({ start: hits[k]!, end: hits[k + 1]!, term: termText[t]!, payload: payloads[t]! });
    }
    this.release();
    return matches;
  }

  /**
   * The matches of {@link scan}, in the same order, handed to `visit` one by one instead of made
   * into objects (the classifier makes its own from them). `visit` must not scan with this matcher.
   */
  forEachMatch(text: string, visit: (start: number, end: number, term: string, payload: P) => void): void {
    const found = this.walk(text);
    const { hits, termText, payloads } = this;
    this.visiting = true;
    try {
      for (let k = 0; k < found; k += 3) {
        const t = hits[k + 2]!;
        visit(hits[k]!, hits[k + 1]!, termText[t]!, payloads[t]!);
      }
    } finally {
      this.visiting = false;
      this.release();
    }
  }

  /** Set while {@link forEachMatch} hands out hits from the shared buffer. */
  private visiting = false;

  /** One huge text must not leave a long-lived worker holding its buffer. */
  private release(): void {
    if (this.hits.length > HIT_BUFFER_KEPT) this.hits = new Int32Array(HIT_BUFFER_INITIAL);
  }

  /** Walks `text`, leaving its hits as (start, end, term index) triples in `hits`; returns their count × 3. */
  private walk(text: string): number {
    if (this.visiting) throw new Error('a matcher cannot scan from inside its own forEachMatch');
    const { classOf, records, failOf, outputOf, outputs, keyLength, starts, ringMask, collapse, loneStyledId } = this;
    const n = text.length;
    let state = 0;
    let count = 0;
    let previous = -1;
    let hits = this.hits;
    let found = 0;
    for (let i = 0; i < n; i++) {
      let id = classOf[text.charCodeAt(i)]!;
      const start = i;
      if (id >= STYLED) {
        if (id === SKIP) continue;
        id = loneStyledId;
        if (i + 1 < n) {
          const low = text.charCodeAt(i + 1);
          if (low >= 0xdc00 && low <= 0xdfff) {
            id = classOf[foldStyledLow(low)]!;
            i++;
          }
        }
        if (id === SKIP) continue;
      }
      if (id === 0) {
        // In no term: nothing in progress survives it.
        state = 0;
        previous = 0;
        continue;
      }
      if (collapse) {
        if (id === previous) continue;
        previous = id;
      }
      starts[count & ringMask] = start;
      count++;
      const bit = 1 << (id & 15);
      let r = state << 1;
      for (;;) {
        if ((records[r + 1]! & bit) !== 0) {
          const slot = (records[r]! & BASE_BITS) + id;
          if (records[(slot << 1) + 1]! >>> LABEL_SHIFT === id) {
            state = slot;
            r = slot << 1;
            break;
          }
        }
        if (state === 0) break;
        state = (records[r]! & FAIL_TO_ROOT) !== 0 ? 0 : failOf[state]!;
        r = state << 1;
      }
      if (records[r]! >= 0) continue;
      let o = outputOf[state]!;
      const end = i + 1;
      for (;;) {
        const t = outputs[o]!;
        if (t < 0) {
          if (t === END) break;
          o = -t - 2;
          continue;
        }
        if (found === hits.length) hits = this.widenHits();
        hits[found] = starts[(count - keyLength[t]!) & ringMask]!;
        hits[found + 1] = end;
        hits[found + 2] = t;
        found += 3;
        o++;
      }
    }
    return found;
  }
}

/** The form a term is matched in: folded, without skip characters, repeats collapsed if asked. */
function keyOf(term: string, fold: Uint16Array, skip: Uint8Array, folding: boolean, collapse: boolean): string {
  // Most terms (and every generated pinyin spelling) are their own key: share the string instead of building a copy.
  let previous = -1;
  let same = 0;
  for (; same < term.length; same++) {
    const c = term.charCodeAt(same);
    if (folding && c === STYLED_HIGH_SURROGATE) break;
    const f = fold[c]!;
    if (f !== c || skip[f] || (collapse && f === previous)) break;
    previous = f;
  }
  if (same === term.length) return term;
  let key = term.slice(0, same);
  for (let i = same; i < term.length; i++) {
    let c = term.charCodeAt(i);
    if (folding && c === STYLED_HIGH_SURROGATE && i + 1 < term.length) {
      const low = term.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = foldStyledLow(low);
        i++;
      }
    }
    const f = fold[c]!;
    if (skip[f]) continue;
    if (collapse && f === previous) continue;
    previous = f;
    key += String.fromCharCode(f);
  }
  return key;
}

/** Indices of `keys` in code-unit order of the keys (stable): buckets by first unit, then a comparison sort inside each. */
function sortKeys(keys: string[]): Int32Array {
  const bucketStart = new Int32Array(65537);
  for (const k of keys) bucketStart[k.charCodeAt(0) + 1]!++;
  for (let c = 1; c < bucketStart.length; c++) bucketStart[c]! += bucketStart[c - 1]!;
  const fill = bucketStart.slice();
  const order = new Int32Array(keys.length);
  keys.forEach((k, i) => (order[fill[k.charCodeAt(0)]!++] = i));
  const byKey = (a: number, b: number) => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  };
  for (let c = 0; c < 65536; c++) {
    const lo = bucketStart[c]!;
    const hi = bucketStart[c + 1]!;
    if (hi - lo > 1) order.subarray(lo, hi).sort(byKey);
  }
  return order;
}

/**
 * Builds the double array from distinct keys (folded units, `idOf` their alphabet ids) in sorted
 * order; key k ends the terms `groupTerms[groupStart[k] .. groupStart[k + 1])`. Returns the slot
 * records, the failure links and the flat output lists.
 */
function buildDoubleArray(
  keys: string[],
  groupStart: Int32Array,
  groupTerms: Int32Array,
  idOf: Uint16Array,
  alphabet: number,
): { records: Int32Array; failOf: Int32Array; outputOf: Int32Array; outputs: Int32Array; states: number } {
  const { check, base, capacity, order, stateOf } = layOutDoubleArray(keys, idOf, alphabet, { uniqueBases: true });
  /** The key that ends at each state, or -1. */
  const keyAt = new Int32Array(capacity).fill(-1);
  stateOf.forEach((state, k) => {
    if (state >= 0) keyAt[state] = k;
  });

  // Room for base + any id past the last used slot, so a lookup never leaves the array.
  let used = 0;
  for (let s = capacity - 1; s > 0; s--) {
    if (check[s] !== -1 || base[s] !== 0) {
      used = s;
      break;
    }
  }
  let maxBase = 0;
  for (let s = 0; s <= used; s++) if (base[s]! > maxBase) maxBase = base[s]!;
  const slots = Math.max(used, maxBase) + alphabet + 1;
  if (slots > BASE_BITS) throw new InvalidInputError(`the automaton needs ${slots} slots; at most ${BASE_BITS} are supported`, 'matcher_size');
  const records = new Int32Array(slots * 2);
  for (let s = 0; s <= used; s++) records[s * 2] = base[s]!;
  records[1] = 0xffff;
  for (let i = 1; i < order.length; i++) {
    const t = order[i]!;
    const parent = check[t]!;
    const label = t - base[parent]!;
    records[t * 2 + 1]! |= label << LABEL_SHIFT;
    records[parent * 2 + 1]! |= 1 << (label & 15);
  }

  // Failure links breadth-first; the scan follows them past states without children.
  const states = order.length;
  const fail = new Int32Array(slots);
  const failOf = new Int32Array(slots);
  /** Only the root and states with children have a base other than 0 (a child's slot is > its first id). */
  const hasChildren = (s: number) => s === 0 || base[s]! !== 0;
  for (let i = 1; i < order.length; i++) {
    const t = order[i]!;
    const parent = check[t]!;
    if (parent === 0) continue;
    const c = t - base[parent]!;
    let f = fail[parent]!;
    for (;;) {
      const g = base[f]! + c;
      if (g < capacity && check[g] === f) {
        fail[t] = g;
        break;
      }
      if (f === 0) break;
      f = fail[f]!;
    }
  }
  for (let i = 1; i < order.length; i++) {
    const t = order[i]!;
    const f = fail[t]!;
    failOf[t] = hasChildren(f) ? f : failOf[f]!;
    if (failOf[t] === 0) records[t * 2]! |= FAIL_TO_ROOT;
  }

  // Output lists: own terms, then a link to the nearest suffix state's list. A state with any
  // output has the sign bit of its base word set, so the scan learns it from the record.
  const outputOf = new Int32Array(slots).fill(END);
  const outputs: number[] = [];
  for (let i = 1; i < order.length; i++) {
    const t = order[i]!;
    const suffixOut = outputOf[fail[t]!]!;
    const own = keyAt[t]!;
    if (own >= 0) {
      outputOf[t] = outputs.length;
      for (let k = groupStart[own]!; k < groupStart[own + 1]!; k++) outputs.push(groupTerms[k]!);
      outputs.push(suffixOut === END ? END : -suffixOut - 2);
    } else {
      outputOf[t] = suffixOut;
    }
    if (outputOf[t] !== END) records[t * 2]! |= OUTPUT;
  }
  return { records, failOf, outputOf, outputs: Int32Array.from(outputs), states };
}
