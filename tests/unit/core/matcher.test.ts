import FastScanner from 'fastscan';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SKIP, Matcher } from '../../../core/rules/matcher.js';
import { foldText } from '../../../core/rules/fold.js';

/** Independent oracle: every (start, term) where text.startsWith(term, start). */
function bruteForce(text: string, terms: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) for (const t of terms) if (text.startsWith(t, i)) out.push(`${i}:${t}`);
  return out.sort();
}

/**
 * Oracle for folding and skipping, built without the automaton: fold the text, drop skip
 * characters while remembering where each kept character came from, brute-force the folded keys.
 */
function foldingOracle(text: string, terms: string[], skip: string): string[] {
  const folded = foldText(text);
  const skipSet = new Set([...skip].flatMap((c) => [c, foldText(c)]));
  skipSet.add('\u200b');
  const kept: string[] = [];
  const from: number[] = [];
  for (let i = 0; i < folded.length; i++) {
    if (skipSet.has(folded[i]!)) continue;
    kept.push(folded[i]!);
    // A styled pair folds to U+200B + letter: the letter's match starts at the pair's first unit.
    from.push(i > 0 && folded[i - 1] === '\u200b' && text.charCodeAt(i - 1) === 0xd835 ? i - 1 : i);
  }
  const keptText = kept.join('');
  const out: string[] = [];
  for (const t of terms) {
    const key = [...foldText(t)].filter((c) => !skipSet.has(c)).join('');
    if (!key) continue;
    for (let i = keptText.indexOf(key); i >= 0; i = keptText.indexOf(key, i + 1)) out.push(`${from[i]}:${i + key.length - 1 < from.length ? from[i + key.length - 1]! + (text.charCodeAt(from[i + key.length - 1]!) === 0xd835 ? 2 : 1) : -1}:${t}`);
  }
  return out.sort();
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const scanKeys = (m: Matcher<string>, text: string) => m.scan(text).map((x) => `${x.start}:${x.end}:${x.term}`).sort();
const matcherOf = (terms: string[], options = {}) => new Matcher(terms.map((term) => ({ term, payload: term })), options);

describe('Matcher', () => {
  it('reports every overlapping and nested match with offsets into the original text', () => {
    const m = matcherOf(['暴力', '暴力执法', '执法', '法']);
    expect(scanKeys(m, '城管暴力执法！')).toEqual(['2:4:暴力', '2:6:暴力执法', '4:6:执法', '5:6:法'].sort());
  });

  it('finds nothing in text without terms and ignores terms that are empty after folding', () => {
    const m = matcherOf(['', '@@', '上访']);
    expect(m.size).toBe(1);
    expect(m.scan('今天天气很好')).toEqual([]);
  });

  it.each([
    // [term, text, expected start:end — offsets in the original text]
    ['暴力执法', '城管暴力執法', '2:6'], // traditional → simplified
    ['abc', 'ＡＢＣ', '0:3'], // full width and case
    ['abc', 'Ⓐⓑⓒ', '0:3'], // enclosed letters
    ['abc', '𝐀𝐛𝒄', '0:6'], // mathematical styled letters: surrogate pairs, original offsets
    ['64', '⑥④', '0:2'], // circled digits
    ['64', '陆肆', '0:2'], // financial numerals
    ['64', '六四', '0:2'], // Chinese numerals
    ['64', '６４', '0:2'], // full-width digits
    ['傻逼', '傻@逼', '0:3'], // interference character
    ['傻逼', '傻 \u200b逼', '0:4'], // spaces and zero-width space
    ['中华人民共和国', '中华·人民—共和国', '0:9'], // punctuation inside a name
    ['Ａ-B', 'xaby', '1:3'], // a term with fold and skip characters of its own
  ])('folds and skips: %s is found in %s at %s', (term, text, span) => {
    const found = scanKeys(matcherOf([term]), text);
    expect(found).toEqual([`${span}:${term}`]);
  });

  it('collapses runs of a repeated character only when asked', () => {
    expect(scanKeys(matcherOf(['傻逼']), '傻傻傻逼')).toEqual(['2:4:傻逼']);
    expect(scanKeys(matcherOf(['傻逼'], { collapseRepeats: true }), '傻傻傻逼')).toEqual(['0:4:傻逼']);
  });

  it('matches exactly when folding and skipping are off', () => {
    const m = matcherOf(['暴力执法', 'abc'], { fold: false, skip: '' });
    expect(scanKeys(m, '暴力執法 ABC 暴力执法 abc')).toEqual(['14:17:abc', '9:13:暴力执法'].sort());
  });

  it('agrees with a brute-force oracle on random texts over a small alphabet (no folding)', () => {
    const rand = seeded(42);
    const alphabet = '舆情暴力执法上访ab';
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let round = 0; round < 50; round++) {
      const terms = [...new Set(Array.from({ length: 30 }, () => pick(1 + Math.floor(rand() * 4))))];
      const text = pick(400);
      const m = matcherOf(terms, { fold: false, skip: '' });
      expect(m.scan(text).map((x) => `${x.start}:${x.term}`).sort()).toEqual(bruteForce(text, terms));
    }
  });

  it('agrees with the folding oracle on random texts full of variants and interference', () => {
    const rand = seeded(7);
    const alphabet = ['暴', '力', '執', '执', '法', 'Ａ', 'a', 'B', '⑥', '六', '陆', '@', ' ', '·', '𝐚', '傻', '逼'];
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let round = 0; round < 40; round++) {
      const terms = [...new Set(Array.from({ length: 25 }, () => pick(2 + Math.floor(rand() * 3))))];
      const text = pick(300);
      const m = matcherOf(terms);
      const mine = m.scan(text).map((x) => `${x.start}:${x.end}:${x.term}`).sort();
      expect(mine).toEqual(foldingOracle(text, terms, DEFAULT_SKIP));
    }
  });

  it('agrees with fastscan on a large random lexicon over real-looking Chinese text', () => {
    const rand = seeded(2024);
    const base = '县委宣传部召开意识形态工作分析研判会群众反映城管暴力执法问题拆迁补偿集体上访食物中毒路面塌陷噪音扰民网络舆情';
    const pick = (n: number) => Array.from({ length: n }, () => base[Math.floor(rand() * base.length)]).join('');
    const terms = [...new Set(Array.from({ length: 3000 }, () => pick(2 + Math.floor(rand() * 4))))];
    const text = pick(50_000);
    const mine = matcherOf(terms, { fold: false, skip: '' }).scan(text).map((x) => `${x.start}:${x.term}`).sort();
    const scanner = new FastScanner(terms);
    const theirs = (scanner.search(text) as [number, string][]).map(([at, word]) => `${at}:${word}`).sort();
    expect(mine.length).toBeGreaterThan(1000);
    expect(mine).toEqual(theirs);
  });
});
