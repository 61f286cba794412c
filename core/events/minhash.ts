/**
 * MinHash signatures of normalised character bigrams and LSH band keys (DESIGN.md: 128
 * permutations, 32 bands × 4 rows, verify Jaccard ≥ 0.5). Pure and deterministic: the same text
 * gives the same signature in every process, so workers can share one band index.
 */
export const PERMUTATIONS = 128;
export const BANDS = 32;
export const ROWS = 4;
export const SIMILAR_JACCARD = 0.5;
const MAX_CHARS = 4000;

/**
 * Folds what does not change meaning for near-duplicate detection: case, full-width ASCII,
 * whitespace, punctuation and symbols (including emoji); keeps letters and digits of every script.
 */
export function normalizeForShingles(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    // Fast paths (most of a Chinese post): CJK ideographs and ASCII letters and digits; the rest by
    // Unicode property, one character at a time (lower-casing a whole string is context-dependent).
    if (code >= 0x4e00 && code <= 0x9fff) out += ch;
    else if (code < 0x80) {
      if ((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)) out += ch;
      else if (code >= 0x41 && code <= 0x5a) out += String.fromCharCode(code + 32);
    } else {
      const c = code >= 0xff01 && code <= 0xff5e ? String.fromCodePoint(code - 0xfee0) : ch;
      if (LETTER_OR_DIGIT.test(c)) out += c.toLowerCase();
    }
  }
  return out;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** Character bigrams of the normalised text, hashed to 32 bits; a text of one character is its own shingle. */
export function shingles(text: string): Uint32Array {
  // The head of a long article decides what it is about; it also bounds the cost per post.
  const chars = Array.from(normalizeForShingles(text.slice(0, MAX_CHARS)));
  if (chars.length === 0) return new Uint32Array(0);
  if (chars.length === 1) return Uint32Array.of(fnv1a(chars[0]!));
  // Distinct hashes in first-seen order, as a Set would keep them, without a Set.
  const seen = new Set<number>();
  const out = new Uint32Array(chars.length - 1);
  let n = 0;
  for (let i = 0; i + 1 < chars.length; i++) {
    const h = fnv1a(chars[i]! + chars[i + 1]!);
    if (seen.has(h)) continue;
    seen.add(h);
    out[n++] = h;
  }
  return out.subarray(0, n);
}

/**
 * The shingles' hashes, repeats included (a minimum does not change by seeing a value twice), the
 * normalised text walked once without building strings per bigram.
 */
function bigramHashes(text: string): Uint32Array {
  const normal = normalizeForShingles(text.slice(0, MAX_CHARS));
  const out = new Uint32Array(normal.length);
  let n = 0;
  let previous = -1;
  let single = 0;
  for (let i = 0; i < normal.length; ) {
    const code = normal.charCodeAt(i);
    const next = i + 1 < normal.length ? normal.charCodeAt(i + 1) : 0;
    const width = code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    // fnv1a over this character's code units, continued from the previous character's state.
    let alone = 0x811c9dc5;
    alone = Math.imul(alone ^ code, 0x01000193);
    if (width === 2) alone = Math.imul(alone ^ next, 0x01000193);
    if (previous !== -1) {
      let h = Math.imul(previous ^ code, 0x01000193);
      if (width === 2) h = Math.imul(h ^ next, 0x01000193);
      out[n++] = h >>> 0;
    } else single = alone >>> 0;
    previous = alone;
    i += width;
  }
  if (n === 0 && previous !== -1) out[n++] = single;
  return out.subarray(0, n);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: a cheap, well-mixed bijection on 32 bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One fixed seed per permutation (derived, not random, so every process agrees). */
const SEEDS = Uint32Array.from({ length: PERMUTATIONS }, (_, i) => fmix32(0x9e3779b9 ^ Math.imul(i + 1, 0x632be5ab)));

/** The signature: for each permutation, the minimum permuted shingle. Empty text has an all-max signature. */
export function minhash(text: string): Uint32Array {
  const sig = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  const set = bigramHashes(text);
  const n = set.length;
  // Permutation-major: the running minimum stays in a register and fmix32 is inlined by hand.
  for (let i = 0; i < PERMUTATIONS; i++) {
    const seed = SEEDS[i]!;
    let min = 0xffffffff;
    for (let j = 0; j < n; j++) {
      let h = set[j]! ^ seed;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      h >>>= 0;
      if (h < min) min = h;
    }
    sig[i] = min;
  }
  return sig;
}

/** The share of permutations on which two signatures agree: an unbiased estimate of their Jaccard similarity. */
export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Exact Jaccard similarity of two texts' bigram sets (for tests and small verifications). */
export function exactJaccard(a: string, b: string): number {
  const x = new Set(shingles(a));
  const y = new Set(shingles(b));
  if (x.size === 0 && y.size === 0) return 0;
  let both = 0;
  for (const s of x) if (y.has(s)) both++;
  return both / (x.size + y.size - both);
}

/**
 * One key per band: the band number and a hash of its 4 rows. Two signatures share a key when a
 * whole band agrees, which for Jaccard 0.5 happens in at least one of 32 bands with probability
 * 1 − (1 − 0.5⁴)³² ≈ 0.87, and for 0.8 with ≈ 1.
 */
export function bandKeys(sig: Uint32Array): string[] {
  let empty = true;
  for (let i = 0; i < sig.length && empty; i++) empty = sig[i] === 0xffffffff;
  if (empty) return [];
  const keys: string[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h = 0x811c9dc5 ^ b;
    for (let r = 0; r < ROWS; r++) h = fmix32(Math.imul(h, 0x01000193) ^ sig[b * ROWS + r]!);
    let h2 = 0x2545f491 ^ b;
    for (let r = ROWS - 1; r >= 0; r--) h2 = fmix32(Math.imul(h2, 0x01000193) ^ sig[b * ROWS + r]!);
    keys.push(`${BAND_PREFIX[b]}${base36(h)}${base36(h2)}`);
  }
  return keys;
}

const BAND_PREFIX = Array.from({ length: BANDS }, (_, b) => `${b.toString(36)}:`);
const DIGITS36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `n.toString(36)` for an unsigned 32-bit integer, without the generic radix conversion. */
function base36(n: number): string {
  let out = '';
  do {
    const q = Math.floor(n / 36);
    out = DIGITS36[n - q * 36]! + out;
    n = q;
  } while (n > 0);
  return out;
}

/** A signature as a compact string for storage, and back. */
export function encodeSignature(sig: Uint32Array): string {
  const buf = Buffer.alloc(sig.length * 4);
  sig.forEach((v, i) => buf.writeUInt32LE(v, i * 4));
  return buf.toString('base64');
}

export function decodeSignature(s: string): Uint32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Uint32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readUInt32LE(i * 4);
  return out;
}
