import { describe, expect, it } from 'vitest';
import { Matcher, type MatcherTerm } from '../../../core/rules/matcher.js';
import { validateRulePack, type RulePack } from '../../../core/rules/rule-pack.js';
import { compileRuleSet, type LexiconEntry, type RulePayload } from '../../../core/rules/rule-set.js';
import { variantsOf } from '../../../core/rules/term-variants.js';
import { jiebaLexicon } from '../../../bench/corpora.js';


/**
 * The rule set's lexicon spelled out pattern by pattern, every variant with an entry object of its
 * own: how compileRuleSet built the matcher before it generated the patterns as the matcher reads
 * them and let a term's variants share one payload per kind.
 */
function spelledOutMatcher(packs: readonly RulePack[]): Matcher<RulePayload> {
  const patterns: MatcherTerm<RulePayload>[] = [];
  for (const pack of packs) {
    for (const t of pack.terms) {
      const entry: LexiconEntry = { packId: pack.id, packVersion: pack.version, term: t.term, level: t.level, category: t.category, domain: t.domain, tags: t.tags, ...(t.suggestion ? { suggestion: t.suggestion } : {}) };
      patterns.push({ term: t.term, payload: { kind: 'lexicon', entry } });
      for (const v of variantsOf(t)) patterns.push({ term: v.pattern, payload: { kind: 'lexicon', entry: { ...entry, variant: v.kind } } });
    }
  }
  return new Matcher(patterns);
}

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a rule set with pinyin variants', () => {
  const words = [...new Set(jiebaLexicon(4000))];
  // Two packs, every term with pinyin on; some with homophones, a suggestion, their own level and tags.
  const packs = [0, 1].map((p) =>
    validateRulePack({
      id: `pinyin-${p}`,
      name: `拼音词库${p}`,
      version: 3 + p,
      level: 3,
      category: '敏感词',
      terms: words
        .filter((_, i) => i % 2 === p)
        .map((term, i) => ({
          term,
          variants: { pinyin: true, homophones: i % 7 === 0 ? [`${term.slice(1)}${term[0]}`] : [] },
          ...(i % 5 === 0 ? { level: 2 as const, tags: ['拼音'], suggestion: `${term}（正）` } : {}),
        })),
    }),
  );
  const set = compileRuleSet(packs);
  const spelledOut = spelledOutMatcher(packs);

  // Texts made of the patterns themselves (whole pinyin, mixed forms, homophones), as posters write
  // them: run together, spaced, capitalised, among ordinary words.
  const rand = random(4);
  const patterns = packs.flatMap((p) => p.terms.flatMap((t) => [t.term, ...variantsOf(t).map((v) => v.pattern)]));
  const texts = Array.from({ length: 300 }, () => {
    let text = '';
    for (let k = 0; k < 12; k++) {
      const pattern = patterns[Math.floor(rand() * patterns.length)]!;
      const r = rand();
      text += r < 0.2 ? pattern.toUpperCase() : r < 0.35 ? [...pattern].join(' ') : pattern;
      text += rand() < 0.5 ? '' : rand() < 0.5 ? '，然后' : ' ';
    }
    return text;
  });

  it('compiles every pattern, the same ones in the same order as spelled out one by one', () => {
    expect(set.matcher.size).toBe(spelledOut.size);
    expect(set.matcher.size).toBeGreaterThan(8 * words.length);
    expect(set.lexiconTermCount).toBe(words.length);
  });

  it('finds the same hits, with the same entries and variant kinds, as the lexicon spelled out one pattern at a time', () => {
    let hits = 0;
    const kinds = new Set<string | undefined>();
    for (const text of texts) {
      const mine = set.matcher.scan(text);
      expect(mine).toEqual(spelledOut.scan(text));
      hits += mine.length;
      for (const m of mine) if (m.payload.kind === 'lexicon') kinds.add(m.payload.entry.variant);
    }
    expect(hits).toBeGreaterThan(3000);
    expect(kinds).toEqual(new Set([undefined, 'pinyin', 'homophone']));
  });
});
