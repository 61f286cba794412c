import { createHash } from 'node:crypto';
import { Matcher, type MatcherOptions, type MatcherTerm } from './matcher.js';
import { SCHEME_FIELDS, type AlertLevel, type MonitoringScheme, type RuleCategory, type RulePack, type SchemeField } from './rule-pack.js';
import { termsOf, type SchemeExpression } from './scheme-expression.js';
import { variantsOf, type VariantKind } from './term-variants.js';

/** One lexicon term (or one of its variants) as the matcher reports it. */
export interface LexiconEntry {
  packId: string;
  packVersion: number;
  term: string;
  level: AlertLevel;
  category: RuleCategory;
  domain: string;
  tags: string[];
  suggestion?: string;
  /** Set when the pattern matched was a generated or listed variant of `term`. */
  variant?: VariantKind;
}

/** A bit of a scheme's word set: which scheme, which bit. */
export interface SchemeTermRef {
  scheme: number;
  bit: number;
}

export type RulePayload = { kind: 'lexicon'; entry: LexiconEntry } | { kind: 'scheme'; term: string; refs: SchemeTermRef[] };

/** A test of a field's expression over a bitset of the scheme's words. */
export type BitTest = (bits: Uint32Array) => boolean;

export interface CompiledScheme {
  packId: string;
  packVersion: number;
  scheme: MonitoringScheme;
  /** Bit → word. */
  words: string[];
  /** Number of 32-bit words of a bitset of this scheme. */
  width: number;
  fields: { field: SchemeField; source: string; test: BitTest; bits: Uint32Array }[];
}

export interface RuleSetPack {
  id: string;
  name: string;
  version: number;
  hash: string;
}

/**
 * Every pack compiled together: one matcher over every lexicon term, every variant and every scheme
 * word, so each text is scanned once; schemes then evaluate over the bitset of words found.
 * Immutable: a reload compiles a new one and swaps it whole (see RulesRegistry).
 */
export interface RuleSet {
  /** Hash over the packs' ids, versions and content hashes. */
  version: string;
  packs: RuleSetPack[];
  matcher: Matcher<RulePayload>;
  schemes: CompiledScheme[];
  /** Domain keyword lists contributed by packs. */
  domainKeywords: Record<string, string[]>;
  /** Every lexicon term and scheme word, for the segmenter's user dictionary. */
  words: string[];
  lexiconTermCount: number;
}

function compileTest(expression: SchemeExpression, bitOf: Map<string, number>): BitTest {
  switch (expression.type) {
    case 'term': {
      const bit = bitOf.get(expression.term)!;
      const word = bit >>> 5;
      const mask = 1 << (bit & 31);
      return (bits) => (bits[word]! & mask) !== 0;
    }
    case 'and': {
      const items = expression.items.map((e) => compileTest(e, bitOf));
      return (bits) => items.every((t) => t(bits));
    }
    case 'or': {
      const items = expression.items.map((e) => compileTest(e, bitOf));
      return (bits) => items.some((t) => t(bits));
    }
  }
}

/**
 * Every pattern in the order the matcher numbers them (each pack's terms, each followed by its
 * variants, then the scheme words), made as the matcher reads them. A term's variants share one
 * payload per kind: 65,000 terms with pinyin on have ~490,000 variants, and an entry object each
 * made the rule set hold 254 MB instead of 87 (bench/README.md, issue 4).
 */
function* patternsOf(packs: readonly RulePack[], schemeWords: Map<string, SchemeTermRef[]>): Generator<MatcherTerm<RulePayload>> {
  for (const pack of packs) {
    for (const t of pack.terms) {
      const entry: LexiconEntry = {
        packId: pack.id,
        packVersion: pack.version,
        term: t.term,
        level: t.level,
        category: t.category,
        domain: t.domain,
        tags: t.tags,
        ...(t.suggestion ? { suggestion: t.suggestion } : {}),
      };
      yield { term: t.term, payload: { kind: 'lexicon', entry } };
      const ofKind: Partial<Record<VariantKind, RulePayload>> = {};
      for (const v of variantsOf(t)) yield { term: v.pattern, payload: (ofKind[v.kind] ??= { kind: 'lexicon', entry: { ...entry, variant: v.kind } }) };
    }
  }
  for (const [term, refs] of schemeWords) yield { term, payload: { kind: 'scheme', term, refs } };
}

export function compileRuleSet(packs: readonly RulePack[], options: MatcherOptions = {}): RuleSet {
  let lexiconTermCount = 0;
  const words = new Set<string>();
  for (const pack of packs) {
    for (const t of pack.terms) {
      words.add(t.term);
      lexiconTermCount++;
    }
  }

  const schemes: CompiledScheme[] = [];
  const schemeWords = new Map<string, SchemeTermRef[]>();
  for (const pack of packs) {
    for (const scheme of pack.schemes) {
      const index = schemes.length;
      const bitOf = new Map<string, number>();
      const list: string[] = [];
      for (const field of [...SCHEME_FIELDS, 'exclude'] as const) {
        const f = scheme.fields[field];
        if (!f) continue;
        for (const w of termsOf(f.expression)) {
          if (bitOf.has(w)) continue;
          bitOf.set(w, list.length);
          list.push(w);
          const refs = schemeWords.get(w) ?? [];
          refs.push({ scheme: index, bit: list.length - 1 });
          schemeWords.set(w, refs);
          words.add(w);
        }
      }
      const width = (list.length + 31) >>> 5;
      const fields = ([...SCHEME_FIELDS, 'exclude'] as const).flatMap((field) => {
        const f = scheme.fields[field];
        if (!f) return [];
        const bits = new Uint32Array(width);
        for (const w of termsOf(f.expression)) bits[bitOf.get(w)! >>> 5]! |= 1 << (bitOf.get(w)! & 31);
        return [{ field, source: f.source, test: compileTest(f.expression, bitOf), bits }];
      });
      schemes.push({ packId: pack.id, packVersion: pack.version, scheme, words: list, width, fields });
    }
  }
  const domainKeywords: Record<string, string[]> = {};
  for (const pack of packs) {
    for (const [domain, list] of Object.entries(pack.domains)) domainKeywords[domain] = [...new Set([...(domainKeywords[domain] ?? []), ...list])];
  }
  const packList = packs.map((p) => ({ id: p.id, name: p.name, version: p.version, hash: p.hash }));
  const version = createHash('sha256')
    .update(packList.map((p) => `${p.id}@${p.version}:${p.hash}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  return { version, packs: packList, matcher: new Matcher(patternsOf(packs, schemeWords), options), schemes, domainKeywords, words: [...words], lexiconTermCount };
}
