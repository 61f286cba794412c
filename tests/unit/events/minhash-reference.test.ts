import { describe, expect, it } from 'vitest';
import { bandKeys, minhash, normalizeForShingles, PERMUTATIONS, shingles } from '../../../core/events/minhash.js';

/**
 * The signature is shared by every worker through the band index in Redis, so a faster
 * implementation must give exactly the same values. This is the straightforward definition
 * (regex per character, a Set of bigram strings, shingle-major loop) the fast one is checked against.
 */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const SEEDS = Uint32Array.from({ length: PERMUTATIONS }, (_, i) => fmix32(0x9e3779b9 ^ Math.imul(i + 1, 0x632be5ab)));
function referenceNormalize(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const c = code >= 0xff01 && code <= 0xff5e ? String.fromCodePoint(code - 0xfee0) : ch;
    if (/[\p{L}\p{N}]/u.test(c)) out += c.toLowerCase();
  }
  return out;
}
function referenceMinhash(text: string): Uint32Array {
  const chars = Array.from(referenceNormalize(text.slice(0, 4000)));
  const set = new Set<number>(chars.length === 1 ? [fnv1a(chars[0]!)] : []);
  for (let i = 0; i + 1 < chars.length; i++) set.add(fnv1a(chars[i]! + chars[i + 1]!));
  const sig = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  for (const s of set) for (let i = 0; i < PERMUTATIONS; i++) sig[i] = Math.min(sig[i]!, fmix32(s ^ SEEDS[i]!));
  return sig;
}
function referenceBandKeys(sig: Uint32Array): string[] {
  if (sig.every((v) => v === 0xffffffff)) return [];
  return Array.from({ length: 32 }, (_, b) => {
    let h = 0x811c9dc5 ^ b;
    for (let r = 0; r < 4; r++) h = fmix32(Math.imul(h, 0x01000193) ^ sig[b * 4 + r]!);
    let h2 = 0x2545f491 ^ b;
    for (let r = 3; r >= 0; r--) h2 = fmix32(Math.imul(h2, 0x01000193) ^ sig[b * 4 + r]!);
    return `${b.toString(36)}:${h.toString(36)}${h2.toString(36)}`;
  });
}

/** Seeded text over CJK, ASCII, full-width forms, Greek (final sigma), Turkish İ, emoji, astral ideographs, lone surrogates, whitespace. */
function randomTexts(count: number): string[] {
  const pool = [...'青山县城关镇暴力执法的了是在ABCxyz0129ＡＢＣ１２！，。Σσςİı😀𠀀𠀁 \n\t　①⑴'.split(''), '\ud800', '\udc00'];
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, () => Array.from({ length: Math.floor(next() * 40) }, () => pool[Math.floor(next() * pool.length)]!).join(''));
}

describe('MinHash matches its reference definition exactly', () => {
  const texts = [...randomTexts(2000), '', ' ', '青', '𠀀', 'ΣΑΣ ΣΊΣΥΦΟΣ', '  hello   world  中华人民共和国 ', '青山县城关镇城管在菜市场暴力执法'.repeat(300)];
  it('normalised text, signatures and band keys are identical on 2,000 random and some edge texts', () => {
    for (const text of texts) {
      expect(normalizeForShingles(text)).toBe(referenceNormalize(text));
      const sig = minhash(text);
      expect(Array.from(sig)).toEqual(Array.from(referenceMinhash(text)));
      expect(bandKeys(sig)).toEqual(referenceBandKeys(sig));
    }
  });
  it('shingles are distinct bigram hashes in first-seen order', () => {
    expect(Array.from(shingles('ababa'))).toEqual([fnv1a('ab'), fnv1a('ba')]);
    expect(Array.from(shingles('青'))).toEqual([fnv1a('青')]);
    expect(shingles('，。').length).toBe(0);
  });
});
