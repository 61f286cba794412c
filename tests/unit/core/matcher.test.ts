import FastScanner from 'fastscan';
import TSCharacters from 'opencc-js/dict/TSCharacters';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SKIP, Matcher, type MatcherOptions } from '../../../core/rules/matcher.js';
import { foldText } from '../../../core/rules/fold.js';
import { ARTICLES, COMMENTS, MESSAGES } from '../../fixtures/demo-site/content.js';
import { jiebaLexicon } from '../../../bench/corpora.js';

/** Independent oracle: every (start, term) where text.startsWith(term, start). */
function bruteForce(text: string, terms: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) for (const t of terms) if (text.startsWith(t, i)) out.push(`${i}:${t}`);
  return out.sort();
}

/**
 * Reference for folding, skipping and collapsing, built without any automaton: fold the text
 * (a styled surrogate pair is one character), drop skip characters and repeats while remembering
 * where each kept character came from, then look up every substring of the kept text in a map of
 * term keys. Returns `start:end:term` with offsets into the original text.
 */
function reference(text: string, terms: string[], options: MatcherOptions = {}): string[] {
  const fold = options.fold ?? true;
  const skipSet = new Set([...(options.skip ?? DEFAULT_SKIP)].flatMap((c) => (fold ? [c, foldText(c)] : [c])));
  const collapse = options.collapseRepeats ?? false;
  const units = (s: string) => {
    const out: { ch: string; from: number; to: number }[] = [];
    for (let i = 0; i < s.length; i++) {
      const pair = fold && s.charCodeAt(i) === 0xd835 && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      const folded = fold ? foldText(s.slice(i, i + (pair ? 2 : 1))) : s[i]!;
      out.push({ ch: pair ? folded[1]! : folded, from: i, to: i + (pair ? 2 : 1) });
      if (pair) i++;
    }
    const kept: typeof out = [];
    for (const u of out) {
      if (skipSet.has(u.ch)) continue;
      if (collapse && kept.length > 0 && kept[kept.length - 1]!.ch === u.ch) continue;
      kept.push(u);
    }
    return kept;
  };
  const byKey = new Map<string, string[]>();
  let longest = 0;
  for (const t of terms) {
    const key = units(t).map((u) => u.ch).join('');
    if (!key) continue;
    longest = Math.max(longest, key.length);
    byKey.set(key, [...(byKey.get(key) ?? []), t]);
  }
  const kept = units(text);
  const keptText = kept.map((u) => u.ch).join('');
  const out: string[] = [];
  for (let i = 0; i < kept.length; i++) {
    for (let len = 1; len <= longest && i + len <= kept.length; len++) {
      for (const t of byKey.get(keptText.slice(i, i + len)) ?? []) out.push(`${kept[i]!.from}:${kept[i + len - 1]!.to}:${t}`);
    }
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
const matcherOf = (terms: string[], options: MatcherOptions = {}) => new Matcher(terms.map((term) => ({ term, payload: term })), options);

/** Real Chinese text: the demo unit's articles (from real unit reports), comments and messages. */
const realText = [
  ...ARTICLES.flatMap((a) => [a.title, ...a.paragraphs]),
  ...COMMENTS.map((c) => c.text),
  ...MESSAGES.flatMap((m) => [m.title, m.text]),
].join('\n');


/** Simplified → one traditional form, from OpenCC's table (to disguise real text as posters do). */
const toTraditional = (() => {
  const map = new Map<string, string>();
  for (const pair of TSCharacters.split('|')) {
    const [trad, simp] = pair.split(' ');
    if (trad && simp && trad.length === 1 && simp.length === 1 && !map.has(simp)) map.set(simp, trad);
  }
  return map;
})();

/** Disguises real text the way evasive posts do: traditional characters, full width, interference, styled letters. */
function disguise(text: string, rand: () => number): string {
  let out = '';
  for (const ch of text) {
    const r = rand();
    if (r < 0.15 && toTraditional.has(ch)) out += toTraditional.get(ch);
    else if (r < 0.2 && ch >= '!' && ch <= '~') out += String.fromCharCode(ch.charCodeAt(0) + 0xfee0);
    else out += ch;
    const noise = rand();
    if (noise < 0.03) out += '@';
    else if (noise < 0.05) out += '\u200b';
    else if (noise < 0.06) out += ' ';
    else if (noise < 0.065) out += ch; // a doubled character, for the collapse option
    else if (noise < 0.068) out += '😀';
  }
  return out;
}

describe('Matcher', () => {
  it('reports every overlapping and nested match with offsets into the original text', () => {
    const m = matcherOf(['暴力', '暴力执法', '执法', '法']);
    expect(scanKeys(m, '城管暴力执法！')).toEqual(['2:4:暴力', '2:6:暴力执法', '4:6:执法', '5:6:法'].sort());
  });

  it('reports in order of end offset, longer terms first at one end', () => {
    const m = matcherOf(['人', '国人', '中国', '中国人', '中国人民', '民']);
    expect(m.scan('中国人民').map((x) => `${x.start}:${x.end}:${x.term}`)).toEqual(['0:2:中国', '0:3:中国人', '1:3:国人', '2:3:人', '0:4:中国人民', '3:4:民']);
  });

  it('reports every term that shares a key, each with its own payload', () => {
    const m = new Matcher([
      { term: '上访', payload: 'a' },
      { term: '上访', payload: 'b' },
      { term: '上 访', payload: 'c' },
    ]);
    expect(m.scan('集体上訪').map((x) => `${x.start}:${x.end}:${x.term}:${x.payload}`).sort()).toEqual(['2:4:上 访:c', '2:4:上访:a', '2:4:上访:b']);
  });

  it('reports every hit of a text with more hits than its buffer keeps, and scans normally afterwards', () => {
    const m = matcherOf(['啊', '啊啊'], { fold: false, skip: '' });
    const many = m.scan('啊'.repeat(70_000));
    expect(many.length).toBe(70_000 + 69_999);
    expect(many.slice(-2)).toEqual([
      { start: 69_998, end: 70_000, term: '啊啊', payload: '啊啊' },
      { start: 69_999, end: 70_000, term: '啊', payload: '啊' },
    ]);
    expect(scanKeys(m, '哦啊啊')).toEqual(['1:2:啊', '1:3:啊啊', '2:3:啊']);
  });

  it('hands forEachMatch the matches of scan, in the same order, and refuses a scan from inside it', () => {
    const m = matcherOf(['暴力', '暴力执法', '执法', '法']);
    const visited: string[] = [];
    m.forEachMatch('城管暴力執法！暴力', (start, end, term, payload) => visited.push(`${start}:${end}:${term}:${payload}`));
    expect(visited).toEqual(m.scan('城管暴力執法！暴力').map((x) => `${x.start}:${x.end}:${x.term}:${x.payload}`));
    expect(() => m.forEachMatch('暴力', () => m.scan('执法'))).toThrow(/inside its own forEachMatch/);
    // A visitor that throws leaves no huge hit buffer behind.
    const a = matcherOf(['啊'], { fold: false, skip: '' });
    const small = a.stats.bytes;
    const failing = () => {
      throw new Error('visitor failed');
    };
    expect(() => a.forEachMatch('啊'.repeat(100_000), failing)).toThrow('visitor failed');
    expect(a.stats.bytes).toBe(small);
    expect(scanKeys(m, '执法')).toEqual(['0:2:执法', '1:2:法']);
  });

  it('finds nothing in empty text, in text without terms, and with no terms at all', () => {
    const m = matcherOf(['', '@@', '上访']);
    expect(m.size).toBe(1);
    expect(m.scan('')).toEqual([]);
    expect(m.scan('今天天气很好')).toEqual([]);
    expect(matcherOf([]).scan('上访')).toEqual([]);
    expect(matcherOf(['@']).size).toBe(0);
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
    ['𝐚b', 'AB', '0:2'], // a styled letter inside the term
    ['𠀀字', '😀𠀀字😀', '2:5'], // astral characters are matched unit by unit
    ['😀', '笑😀😀', '1:3'], // an astral term, found twice
    ['字', '𠀀字', '2:3'], // a BMP term right after an astral character
  ])('folds and skips: %s is found in %s at %s', (term, text, span) => {
    const found = scanKeys(matcherOf([term]), text);
    expect(found[0]).toEqual(`${span}:${term}`);
    expect(found).toEqual(reference(text, [term]));
  });

  it('keeps a lone styled high surrogate as a character of its own', () => {
    const lone = '\ud835';
    expect(scanKeys(matcherOf([`a${lone}b`]), `xa${lone}b`)).toEqual([`1:4:a${lone}b`]);
    expect(scanKeys(matcherOf(['ab']), `a${lone}b`)).toEqual([]);
    expect(scanKeys(matcherOf(['ab']), `a${lone}`)).toEqual([]);
  });

  it('collapses runs of a repeated character only when asked', () => {
    expect(scanKeys(matcherOf(['傻逼']), '傻傻傻逼')).toEqual(['2:4:傻逼']);
    expect(scanKeys(matcherOf(['傻逼'], { collapseRepeats: true }), '傻傻傻逼')).toEqual(['0:4:傻逼']);
    expect(scanKeys(matcherOf(['傻逼'], { collapseRepeats: true }), '傻@傻 逼逼')).toEqual(['0:5:傻逼']);
    // A term with a doubled character is matched by its collapsed key.
    expect(scanKeys(matcherOf(['哈哈大笑'], { collapseRepeats: true }), '哈大笑 哈哈哈哈大笑')).toEqual(['0:3:哈哈大笑', '4:10:哈哈大笑']);
  });

  it('matches exactly when folding and skipping are off', () => {
    const m = matcherOf(['暴力执法', 'abc'], { fold: false, skip: '' });
    expect(scanKeys(m, '暴力執法 ABC 暴力执法 abc')).toEqual(['14:17:abc', '9:13:暴力执法'].sort());
    expect(scanKeys(matcherOf(['𝐚'], { fold: false, skip: '' }), 'a𝐚')).toEqual(['1:3:𝐚']);
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

  it('agrees with the brute-force oracle when terms nest deeply (prefixes and suffixes of each other)', () => {
    const terms = Array.from({ length: 12 }, (_, i) => '啊'.repeat(i + 1)).concat(['啊哦', '哦啊', '哦']);
    const text = '啊'.repeat(30) + '哦' + '啊'.repeat(5) + '哦哦';
    const m = matcherOf(terms, { fold: false, skip: '' });
    expect(m.scan(text).map((x) => `${x.start}:${x.term}`).sort()).toEqual(bruteForce(text, terms));
  });

  it.each([
    ['fold and skip', {}],
    ['fold, skip and collapse', { collapseRepeats: true }],
    ['collapse without fold', { fold: false, skip: '@', collapseRepeats: true }],
    ['a custom skip set', { skip: '*·' }],
  ] as [string, MatcherOptions][])('agrees with the reference on random texts full of variants and interference: %s', (_name, options) => {
    const rand = seeded(7);
    const alphabet = ['暴', '力', '執', '执', '法', 'Ａ', 'a', 'B', '⑥', '六', '陆', '@', ' ', '·', '*', '𝐚', '傻', '逼', '😀', '\u200b', '\ud835'];
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let round = 0; round < 40; round++) {
      const terms = [...new Set(Array.from({ length: 25 }, () => pick(1 + Math.floor(rand() * 4))))];
      const text = pick(300);
      const m = matcherOf(terms, options);
      expect(scanKeys(m, text)).toEqual(reference(text, terms, options));
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

  it('agrees with fastscan when every state has many children (dense lexicons over wide alphabets)', () => {
    const rand = seeded(11);
    const chars = Array.from({ length: 150 }, (_, i) => String.fromCharCode(0x4e00 + i * 37));
    // Every pair of 150 characters (22,500 terms), plus random longer terms over 3,000 characters.
    const terms = chars.flatMap((a) => chars.map((b) => a + b));
    const wide = (n: number) => Array.from({ length: n }, () => String.fromCharCode(0x4e00 + Math.floor(rand() * 3000))).join('');
    terms.push(...Array.from({ length: 5000 }, () => wide(2 + Math.floor(rand() * 5))));
    const text = Array.from({ length: 20_000 }, () => (rand() < 0.5 ? chars[Math.floor(rand() * chars.length)] : wide(1))).join('');
    const unique = [...new Set(terms)];
    const mine = matcherOf(unique, { fold: false, skip: '' }).scan(text).map((x) => `${x.start}:${x.term}`).sort();
    const theirs = new FastScanner(unique).search(text).map(([at, word]) => `${at}:${word}`).sort();
    expect(mine.length).toBeGreaterThan(4000);
    expect(mine).toEqual(theirs);
  });

  describe('on real text with 65,000 words of jieba’s dictionary', () => {
    const words = [...new Set(jiebaLexicon(65_000))];

    it('agrees with fastscan (folding and skipping off), through scan and forEachMatch alike', () => {
      const matcher = matcherOf(words, { fold: false, skip: '' });
      const mine = matcher.scan(realText).map((x) => `${x.start}:${x.term}`).sort();
      const visited: string[] = [];
      matcher.forEachMatch(realText, (start, _end, term) => visited.push(`${start}:${term}`));
      expect(visited.sort()).toEqual(mine);
      const theirs = new FastScanner(words).search(realText).map(([at, word]) => `${at}:${word}`).sort();
      expect(mine.length).toBeGreaterThan(1000);
      expect(mine).toEqual(theirs);
    });

    it.each([
      ['fold and skip', {}],
      ['fold, skip and collapse', { collapseRepeats: true }],
    ] as [string, MatcherOptions][])('agrees with the reference on disguised real text: %s', (_name, options) => {
      const text = disguise(realText, seeded(99));
      const mine = scanKeys(matcherOf(words, options), text);
      // The disguise must not defeat the matcher: it finds what fastscan finds in the plain text.
      expect(mine.length).toBeGreaterThanOrEqual(new FastScanner(words).search(realText).length * 0.95);
      expect(mine).toEqual(reference(text, words, options));
    });
  });
});
