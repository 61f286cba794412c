import { InvalidInputError } from '../errors.js';
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
 * - each slot is one 16-byte record (check, base, failure link, mask of the children's ids), so a
 *   step touches one cache line and most failed steps touch no other; failure links skip states
 *   without children (nothing can continue there);
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
 * Record fields, 4 Int32 per double-array slot: the parent state (-1 for a free slot); the base,
 * complemented when the state ends a term or has a suffix that does; the failure link; a mask of
 * the children's ids (bit id mod 32), so most failed steps are decided without leaving the record.
 */
const CHECK = 0;
const BASE = 1;
const FAIL = 2;
const MASK = 3;

/** Placement heuristics of {@link buildDoubleArray}, chosen by measurement (build time against density). */
const DENSE_SPAN = 20;
const BIG_NODE = 16;
const BIG_WINDOW = 4096;

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
  /** Per state: where its output list starts in `outputs`. */
  private readonly outputOf: Int32Array;
  private readonly outputs: Int32Array;
  /** Original offsets of the last kept characters, indexed by their count modulo the ring size. */
  private readonly starts: Int32Array;
  private readonly ringMask: number;
  private readonly stateCount: number;
  private readonly alphabetSize: number;

  constructor(terms: readonly MatcherTerm<P>[], options: MatcherOptions = {}) {
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
    const kept: MatcherTerm<P>[] = [];
    for (const t of terms) {
      const key = keyOf(t.term, fold, skip, this.folding, this.collapse);
      if (key.length === 0) continue;
      kept.push(t);
      keys.push(key);
    }
    this.keyLength = Int32Array.from(keys, (k) => k.length);
    this.termText = kept.map((t) => t.term);
    this.payloads = kept.map((t) => t.payload);

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
      slots: this.records.length / 4,
      bytes: this.records.byteLength + this.outputOf.byteLength + this.outputs.byteLength + this.classOf.byteLength + this.keyLength.byteLength + this.starts.byteLength + this.hits.byteLength,
    };
  }

  /** Every match, in order of end offset; at one end, longer terms first. */
  scan(text: string): Match<P>[] {
    const { classOf, records, outputOf, outputs, keyLength, termText, payloads, starts, ringMask, collapse, loneStyledId } = this;
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
      const bit = 1 << id;
      let r = state << 2;
      for (;;) {
        if ((records[r + MASK]! & bit) !== 0) {
          const b = records[r + BASE]!;
          const slot = (b < 0 ? ~b : b) + id;
          if (records[slot << 2] === state) {
            state = slot;
            r = slot << 2;
            break;
          }
        }
        if (state === 0) break;
        state = records[r + FAIL]!;
        r = state << 2;
      }
      if (records[r + BASE]! >= 0) continue;
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
    const matches: Match<P>[] = [];
    for (let k = 0; k < found; k += 3) {
      const t = hits[k + 2]!;
      matches.push({ start: hits[k]!, end: hits[k + 1]!, term: termText[t]!, payload: payloads[t]! });
    }
    // One huge text must not leave a long-lived worker holding its buffer.
    if (hits.length > HIT_BUFFER_KEPT) this.hits = new Int32Array(HIT_BUFFER_INITIAL);
    return matches;
  }
}

/** The form a term is matched in: folded, without skip characters, repeats collapsed if asked. */
function keyOf(term: string, fold: Uint16Array, skip: Uint8Array, folding: boolean, collapse: boolean): string {
  let key = '';
  let previous = -1;
  for (let i = 0; i < term.length; i++) {
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
 * records and the flat output lists.
 */
function buildDoubleArray(
  keys: string[],
  groupStart: Int32Array,
  groupTerms: Int32Array,
  idOf: Uint16Array,
  alphabet: number,
): { records: Int32Array; outputOf: Int32Array; outputs: Int32Array; states: number } {
  let capacity = 1024;
  while (capacity < alphabet * 2 + 2) capacity <<= 1;
  let check = new Int32Array(capacity).fill(-1);
  let base = new Int32Array(capacity);
  /** Free slots as a doubly linked list over 1..capacity-1 (slot 0 is the root). */
  let nextFree = new Int32Array(capacity);
  let prevFree = new Int32Array(capacity);
  const link = (from: number, to: number) => {
    for (let s = from; s < to; s++) {
      nextFree[s] = s + 1;
      prevFree[s] = s - 1;
    }
  };
  link(1, capacity);
  nextFree[capacity - 1] = 0;
  prevFree[1] = 0;
  let head = 1;
  let tail = capacity - 1;
  const grow = (need: number) => {
    let size = capacity;
    while (size <= need) size <<= 1;
    const widen = (a: Int32Array, fill: number) => {
      const b = new Int32Array(size).fill(fill);
      b.set(a);
      return b;
    };
    check = widen(check, -1);
    base = widen(base, 0);
    nextFree = widen(nextFree, 0);
    prevFree = widen(prevFree, 0);
    link(capacity, size);
    nextFree[size - 1] = 0;
    if (tail === 0) {
      head = capacity;
      prevFree[capacity] = 0;
    } else {
      nextFree[tail] = capacity;
      prevFree[capacity] = tail;
    }
    tail = size - 1;
    if (cursor === 0) cursor = capacity;
    if (bigCursor === 0) bigCursor = capacity;
    capacity = size;
  };
  const occupy = (s: number, parent: number) => {
    check[s] = parent;
    const p = prevFree[s]!;
    const n = nextFree[s]!;
    if (p === 0) head = n;
    else nextFree[p] = n;
    if (n === 0) tail = p;
    else prevFree[n] = p;
    if (s === cursor) cursor = n;
    if (s === bigCursor) bigCursor = n;
  };
  /** The first free slot after `from`, walking the free list from free slot `e` (0: none left). */
  const freeAfter = (from: number, e: number) => {
    while (e !== 0 && e <= from) e = nextFree[e]!;
    if (e === 0) {
      e = Math.max(capacity, from + 1);
      grow(e + alphabet + 1);
    }
    return e;
  };
  /**
   * Free slots where searches for states with several children start (0: past the end). Single
   * children take the first free slot from the head. A search that crossed a region at least
   * 1 - 1/{@link DENSE_SPAN} full moves `cursor` past it (double-array tries do the same); states
   * with {@link BIG_NODE} or more children, whose ids spread over most of the alphabet and fit
   * nowhere in the packed front, search from `bigCursor`, which trails the last one placed by
   * {@link BIG_WINDOW} slots. This keeps the build near-linear at a small cost in density.
   */
  let cursor = 1;
  let bigCursor = 1;

  /** Per queue entry: the key that ends at its state, or -1. */
  const ownKey: number[] = [];
  /** Breadth-first queue of (slot, lo, hi, depth); the slots in it are the BFS order. */
  const queue: number[] = [0, 0, keys.length, 0];
  const childIds: number[] = [];
  const childLo: number[] = [];
  for (let q = 0; q < queue.length; q += 4) {
    const slot = queue[q]!;
    let lo = queue[q + 1]!;
    const hi = queue[q + 2]!;
    const depth = queue[q + 3]!;
    if (lo < hi && keys[lo]!.length === depth) ownKey.push(lo++);
    else ownKey.push(-1);
    if (lo === hi) continue;
    childIds.length = 0;
    childLo.length = 0;
    let unit = -1;
    let first = 0xffff;
    let lastId = 0;
    for (let k = lo; k < hi; k++) {
      const c = keys[k]!.charCodeAt(depth);
      if (c !== unit) {
        unit = c;
        const id = idOf[c]!;
        childIds.push(id);
        childLo.push(k);
        if (id < first) first = id;
        if (id > lastId) lastId = id;
      }
    }
    childLo.push(hi);
    // First fit over free slots: base = e - first, with every child slot free.
    let b = 0;
    if (slot !== 0 && childIds.length === 1) {
      b = freeAfter(first, head) - first;
    } else if (slot !== 0) {
      const big = childIds.length >= BIG_NODE;
      const start = big ? bigCursor : cursor;
      const from = start > first ? start : 0;
      let e = freeAfter(first, start);
      let tries = 0;
      for (;;) {
        if (e === 0) {
          e = capacity;
          grow(capacity + alphabet + 1);
        }
        b = e - first;
        if (b + lastId >= capacity) grow(b + lastId + 1);
        let fits = true;
        for (let j = 0; j < childIds.length; j++) {
          if (check[b + childIds[j]!] !== -1) {
            fits = false;
            break;
          }
        }
        if (fits) break;
        tries++;
        e = nextFree[e]!;
      }
      if (big) {
        let c = Math.max(bigCursor, e - BIG_WINDOW, 1);
        while (c < capacity && check[c] !== -1) c++;
        bigCursor = c < capacity ? c : 0;
      } else if (from !== 0 && tries * DENSE_SPAN <= e - from) {
        cursor = e;
      }
    } else if (lastId >= capacity) {
      grow(lastId + 1);
    }
    base[slot] = b;
    for (let j = 0; j < childIds.length; j++) {
      const child = b + childIds[j]!;
      occupy(child, slot);
      queue.push(child, childLo[j]!, childLo[j + 1]!, depth + 1);
    }
  }

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
  const records = new Int32Array(slots * 4);
  for (let s = 0; s < slots; s++) {
    records[s * 4 + CHECK] = s < capacity ? check[s]! : -1;
    records[s * 4 + BASE] = s < capacity ? base[s]! : 0;
  }
  records[CHECK] = -1;
  records[MASK] = -1;
  for (let q = 4; q < queue.length; q += 4) {
    const t = queue[q]!;
    const parent = check[t]!;
    records[(parent << 2) + MASK]! |= 1 << (t - base[parent]!);
  }

  // Failure links breadth-first; the scan follows them past states without children.
  const states = queue.length / 4;
  const fail = new Int32Array(slots);
  /** Only the root and states with children have a base other than 0 (a child's slot is > its first id). */
  const hasChildren = (s: number) => s === 0 || base[s]! !== 0;
  for (let q = 4; q < queue.length; q += 4) {
    const t = queue[q]!;
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
  for (let q = 4; q < queue.length; q += 4) {
    const t = queue[q]!;
    const f = fail[t]!;
    records[(t << 2) + FAIL] = hasChildren(f) ? f : records[(f << 2) + FAIL]!;
  }

  // Output lists: own terms, then a link to the nearest suffix state's list. A state with any
  // output has its base stored complemented (negative), so the scan learns it from the record.
  const outputOf = new Int32Array(slots).fill(END);
  const outputs: number[] = [];
  for (let q = 4; q < queue.length; q += 4) {
    const t = queue[q]!;
    const suffixOut = outputOf[fail[t]!]!;
    const own = ownKey[q >> 2]!;
    if (own >= 0) {
      outputOf[t] = outputs.length;
      for (let k = groupStart[own]!; k < groupStart[own + 1]!; k++) outputs.push(groupTerms[k]!);
      outputs.push(suffixOut === END ? END : -suffixOut - 2);
    } else {
      outputOf[t] = suffixOut;
    }
    if (outputOf[t] !== END) records[(t << 2) + BASE] = ~base[t]!;
  }
  return { records, outputOf, outputs: Int32Array.from(outputs), states };
}
