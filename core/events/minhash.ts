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
    let c = ch;
    const code = c.codePointAt(0)!;
    if (code >= 0xff01 && code <= 0xff5e) c = String.fromCodePoint(code - 0xfee0);
    if (/[\p{L}\p{N}]/u.test(c)) out += c.toLowerCase();
  }
  return out;
}

/** Character bigrams of the normalised text, hashed to 32 bits; a text of one character is its own shingle. */
export function shingles(text: string): Uint32Array {
  // The head of a long article decides what it is about; it also bounds the cost per post.
  const chars = Array.from(normalizeForShingles(text.slice(0, MAX_CHARS)));
  if (chars.length === 0) return new Uint32Array(0);
  if (chars.length === 1) return Uint32Array.of(fnv1a(chars[0]!));
  const set = new Set<number>();
  for (let i = 0; i + 1 < chars.length; i++) set.add(fnv1a(chars[i]! + chars[i + 1]!));
  return Uint32Array.from(set);
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
  for (const s of shingles(text)) {
    for (let i = 0; i < PERMUTATIONS; i++) {
      const v = fmix32(s ^ SEEDS[i]!);
      if (v < sig[i]!) sig[i] = v;
    }
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
  if (sig.every((v) => v === 0xffffffff)) return [];
  const keys: string[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h = 0x811c9dc5 ^ b;
    for (let r = 0; r < ROWS; r++) h = fmix32(Math.imul(h, 0x01000193) ^ sig[b * ROWS + r]!);
    let h2 = 0x2545f491 ^ b;
    for (let r = ROWS - 1; r >= 0; r--) h2 = fmix32(Math.imul(h2, 0x01000193) ^ sig[b * ROWS + r]!);
    keys.push(`${b.toString(36)}:${h.toString(36)}${h2.toString(36)}`);
  }
  return keys;
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
