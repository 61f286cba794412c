import { describe, expect, it } from 'vitest';
import { Matcher } from '../../../core/rules/matcher.js';

/** Independent oracle: every (start, term) where text.startsWith(term, start). */
function bruteForce(text: string, terms: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) for (const t of terms) if (text.startsWith(t, i)) out.push(`${i}:${t}`);
  return out.sort();
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

describe('Matcher', () => {
  it('reports every overlapping and nested match with offsets into the original text', () => {
    const m = new Matcher(['暴力', '暴力执法', '执法', '法'].map((term) => ({ term, payload: term })));
    const found = m.scan('城管暴力执法！').map((x) => `${x.start}-${x.end}:${x.term}`).sort();
    expect(found).toEqual(['2-4:暴力', '2-6:暴力执法', '4-6:执法', '5-6:法'].sort());
  });

  it('finds nothing in text without terms and ignores empty terms', () => {
    const m = new Matcher([{ term: '', payload: 0 }, { term: '上访', payload: 1 }]);
    expect(m.size).toBe(1);
    expect(m.scan('今天天气很好')).toEqual([]);
  });

  it('agrees with a brute-force oracle on random texts over a small alphabet', () => {
    const rand = seeded(42);
    const alphabet = '舆情暴力执法上访ab';
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    for (let round = 0; round < 50; round++) {
      const terms = [...new Set(Array.from({ length: 30 }, () => pick(1 + Math.floor(rand() * 4))))];
      const text = pick(400);
      const m = new Matcher(terms.map((term) => ({ term, payload: term })));
      expect(m.scan(text).map((x) => `${x.start}:${x.term}`).sort()).toEqual(bruteForce(text, terms));
    }
  });
});
