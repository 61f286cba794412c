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
 * The automaton is compiled into typed arrays: a dense 64 Ki goto row for the root (most steps
 * restart there) and one open-addressing hash of (state, character) → state for every other edge,
 * so 65,000 terms take a few MB and a failed lookup costs one or two probes.
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

/** Whitespace, zero-width characters and the punctuation people put inside words to dodge filters. */
export const DEFAULT_SKIP =
  ' \t\r\n\u00a0\u200b\u200c\u200d\u2060\ufeff' + '@#$%^&*_-+=~`|\\/.,;:\'"!?<>()[]{}' + '·、，。！？…—～《》“”‘’【】（）「」『』★☆●○◆◇■□△▲※';

const IDENTITY = (() => {
  const t = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = i;
  return t;
})();

/** Hash of an edge (state, character) into the edge table. */
function slot(state: number, c: number): number {
  const h = Math.imul(state, 0x9e3779b1) ^ Math.imul(c, 0x85ebca77);
  return h ^ (h >>> 15);
}

export class Matcher<P> {
  private readonly terms: MatcherTerm<P>[] = [];
  private readonly keyLength: number[] = [];
  private readonly fold: Uint16Array;
  private readonly folding: boolean;
  private readonly skip = new Uint8Array(65536);
  private readonly collapse: boolean;
  private readonly ringMask: number;

  // Compiled automaton.
  private readonly rootNext: Int32Array;
  /**
   * Edge hash, interleaved so one probe touches one cache line: slot k holds the source state
   * (0 = empty) at 4k, the character at 4k+1 and the target state at 4k+2.
   */
  private readonly edges: Int32Array;
  private readonly edgeMask: number;
  /**
   * Per state, a 32-bit mask of its children's characters (bit c & 31). Most states have one
   * child, so most failed lookups end here without touching the (much larger) edge hash.
   */
  private readonly childBits: Int32Array;
  private readonly fail: Int32Array;
  /** First term ending exactly at a state, or -1; more terms with the same key chain through `sameKey`. */
  private readonly termAt: Int32Array;
  private readonly sameKey: Int32Array;
  /** Nearest proper suffix state that ends a term, or 0. */
  private readonly dictLink: Int32Array;

  constructor(terms: readonly MatcherTerm<P>[], options: MatcherOptions = {}) {
    this.folding = options.fold ?? true;
    this.fold = this.folding ? (FOLD_TABLE as Uint16Array) : IDENTITY;
    this.collapse = options.collapseRepeats ?? false;
    for (const ch of options.skip ?? DEFAULT_SKIP) {
      const c = ch.charCodeAt(0);
      this.skip[c] = 1;
      this.skip[this.fold[c]!] = 1;
    }

    // 1. Trie over term keys (folded, skip characters removed, repeats collapsed when asked).
    const children: Map<number, number>[] = [new Map()];
    const termAt: number[] = [-1];
    const sameKey: number[] = [];
    let maxKey = 1;
    for (const t of terms) {
      const key = this.keyOf(t.term);
      if (key.length === 0) continue;
      const index = this.terms.length;
      this.terms.push(t);
      this.keyLength.push(key.length);
      sameKey.push(-1);
      maxKey = Math.max(maxKey, key.length);
      let state = 0;
      for (const c of key) {
        let next = children[state]!.get(c);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          termAt.push(-1);
          children[state]!.set(c, next);
        }
        state = next;
      }
      sameKey[index] = termAt[state]!;
      termAt[state] = index;
    }
    let ring = 1;
    while (ring < maxKey) ring <<= 1;
    this.ringMask = ring - 1;

    // 2. Compile edges; 3. failure and dictionary links breadth-first.
    const n = children.length;
    this.rootNext = new Int32Array(65536);
    for (const [c, next] of children[0]!) this.rootNext[c] = next;
    let edges = 0;
    for (let st = 1; st < n; st++) edges += children[st]!.size;
    let slots = 16;
    while (slots < edges * 3) slots <<= 1;
    this.edgeMask = slots - 1;
    this.edges = new Int32Array(slots * 4);
    this.childBits = new Int32Array(n);
    for (let st = 1; st < n; st++) {
      for (const [c, target] of children[st]!) {
        this.childBits[st]! |= 1 << (c & 31);
        let h = slot(st, c) & this.edgeMask;
        while (this.edges[h * 4] !== 0) h = (h + 1) & this.edgeMask;
        this.edges[h * 4] = st;
        this.edges[h * 4 + 1] = c;
        this.edges[h * 4 + 2] = target;
      }
    }
    this.termAt = Int32Array.from(termAt);
    this.sameKey = Int32Array.from(sameKey);
    this.fail = new Int32Array(n);
    this.dictLink = new Int32Array(n);
    const queue = new Int32Array(n);
    let tail = 0;
    for (const next of children[0]!.values()) queue[tail++] = next;
    for (let head = 0; head < tail; head++) {
      const s = queue[head]!;
      for (const [c, child] of children[s]!) {
        let f = this.fail[s]!;
        let target = f === 0 ? this.rootNext[c]! : this.child(f, c);
        while (target === 0 && f !== 0) {
          f = this.fail[f]!;
          target = f === 0 ? this.rootNext[c]! : this.child(f, c);
        }
        const failTo = target === child ? 0 : target;
        this.fail[child] = failTo;
        this.dictLink[child] = this.termAt[failTo]! >= 0 ? failTo : this.dictLink[failTo]!;
        queue[tail++] = child;
      }
    }
  }

  get size(): number {
    return this.terms.length;
  }

  /** The form a term is matched in: folded, without skip characters, repeats collapsed if asked. */
  private keyOf(term: string): number[] {
    const key: number[] = [];
    for (let i = 0; i < term.length; i++) {
      let c = term.charCodeAt(i);
      if (this.folding && c === STYLED_HIGH_SURROGATE && i + 1 < term.length) c = foldStyledLow(term.charCodeAt(++i));
      const f = this.fold[c]!;
      if (this.skip[f]) continue;
      if (this.collapse && key.length > 0 && key[key.length - 1] === f) continue;
      key.push(f);
    }
    return key;
  }

  private child(state: number, c: number): number {
    const { edges, edgeMask } = this;
    if ((this.childBits[state]! & (1 << (c & 31))) === 0) return 0;
    for (let h = slot(state, c) & edgeMask; ; h = (h + 1) & edgeMask) {
      const st = edges[h * 4]!;
      if (st === state && edges[h * 4 + 1] === c) return edges[h * 4 + 2]!;
      if (st === 0) return 0;
    }
  }

  /** Every match, in order of end offset; at one end, longer terms first. */
  scan(text: string): Match<P>[] {
    const matches: Match<P>[] = [];
    const { fold, skip, rootNext, fail, termAt, dictLink, ringMask, edges, edgeMask, childBits, collapse } = this;
    const starts = new Int32Array(ringMask + 1);
    let state = 0;
    let count = 0;
    let previous = -1;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      const start = i;
      if (c === STYLED_HIGH_SURROGATE && this.folding && i + 1 < text.length) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          c = foldStyledLow(low);
          i++;
        }
      }
      const f = fold[c]!;
      if (skip[f] === 1) continue;
      if (collapse && f === previous) continue;
      previous = f;
      starts[count & ringMask] = start;
      count++;
      for (;;) {
        if (state === 0) {
          state = rootNext[f]!;
          break;
        }
        let next = 0;
        if ((childBits[state]! & (1 << (f & 31))) !== 0) {
          for (let h = slot(state, f) & edgeMask; ; h = (h + 1) & edgeMask) {
            const st = edges[h << 2]!;
            if (st === state && edges[(h << 2) + 1] === f) {
              next = edges[(h << 2) + 2]!;
              break;
            }
            if (st === 0) break;
          }
        }
        if (next !== 0) {
          state = next;
          break;
        }
        state = fail[state]!;
      }
      if (state === 0) continue;
      let s = termAt[state]! >= 0 ? state : dictLink[state]!;
      while (s !== 0) {
        for (let t = termAt[s]!; t >= 0; t = this.sameKey[t]!) {
          const term = this.terms[t]!;
          matches.push({ start: starts[(count - this.keyLength[t]!) & ringMask]!, end: i + 1, term: term.term, payload: term.payload });
        }
        s = dictLink[s]!;
      }
    }
    return matches;
  }
}
