import { DomainClassifier, DOMAIN_WEIGHTS, type DomainResult } from '../domain/classify-domain.js';
import { detectPrivacy, type PrivacyFinding } from '../privacy/detect-privacy.js';
import { evaluateSchemes, type SchemeResult, type TextField, type WordOccurrence } from '../rules/evaluate-schemes.js';
import type { AlertLevel, RuleCategory } from '../rules/rule-pack.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { VariantKind } from '../rules/term-variants.js';
import type { Sentiment, SentimentAnalyzer } from '../sentiment/analyze-sentiment.js';

export interface ClassifyInput {
  title?: string;
  text: string;
}

/** A lexicon term found in a post; offsets are UTF-16 units into the given `title` or `text`. */
export interface RuleHit {
  term: string;
  /** The text as written (a folded, interrupted or pinyin form of `term`). */
  matched: string;
  field: TextField;
  start: number;
  end: number;
  packId: string;
  packVersion: number;
  category: RuleCategory;
  level: AlertLevel;
  domain: string;
  tags: string[];
  suggestion?: string;
  variant?: VariantKind;
}

export interface PrivacyHit extends PrivacyFinding {
  field: TextField;
}

/** What made the result's level: the first rule, scheme or finding at that level. */
export interface LevelReason {
  kind: 'term' | 'scheme' | 'privacy';
  /** The term, the scheme id, or the finding's kind. */
  ref: string;
  packId?: string;
}

/** Everything classification says about one post, with the evidence for each part. */
export interface Classification {
  hits: RuleHit[];
  /** Distinct canonical terms hit. */
  terms: string[];
  /** Distinct categories hit. */
  categories: string[];
  /** Highest level among lexicon hits (1 = red), absent when none. */
  maxLevel?: AlertLevel;
  /** Every scheme at least one of whose words occurred, fired or not, with why. */
  schemes: SchemeResult[];
  privacy: PrivacyHit[];
  sentiment: Sentiment;
  domain: DomainResult;
  /** Highest level among lexicon hits, fired schemes and privacy findings; absent when none. */
  level?: AlertLevel;
  levelReason?: LevelReason;
  /** The rule set's version the post was classified with. */
  rulesVersion: string;
}

export interface PostClassifier {
  readonly ruleSet: RuleSet;
  classify(input: ClassifyInput): Classification;
}

/** Title and text are scanned separately; schemes see them as one line with the title first. */
const FIELD_GAP = 1;

export function createPostClassifier(ruleSet: RuleSet, deps: { sentiment: SentimentAnalyzer }): PostClassifier {
  const domains = new DomainClassifier(ruleSet.domainKeywords);
  return {
    ruleSet,
    classify(input) {
      const title = input.title ?? '';
      const text = input.text;
      const hits: RuleHit[] = [];
      const occurrences: WordOccurrence[] = [];
      for (const field of ['title', 'text'] as const) {
        const value = field === 'title' ? title : text;
        if (value.length === 0) continue;
        const base = field === 'title' ? 0 : title.length + FIELD_GAP;
        ruleSet.matcher.forEachMatch(value, (start, end, _term, p) => {
          if (p.kind === 'lexicon') {
            const e = p.entry;
            hits.push({
              term: e.term,
              matched: value.slice(start, end),
              field,
              start,
              end,
              packId: e.packId,
              packVersion: e.packVersion,
              category: e.category,
              level: e.level,
              domain: e.domain,
              tags: e.tags,
              ...(e.suggestion ? { suggestion: e.suggestion } : {}),
              ...(e.variant ? { variant: e.variant } : {}),
            });
          } else {
            occurrences.push({ term: p.term, field, start, end, at: base + start, atEnd: base + end, refs: p.refs });
          }
        });
      }
      const schemes = evaluateSchemes(ruleSet.schemes, occurrences);
      const privacy: PrivacyHit[] = [
        ...detectPrivacy(title).map((f) => ({ ...f, field: 'title' as const })),
        ...detectPrivacy(text).map((f) => ({ ...f, field: 'text' as const })),
      ];
      const whole = title ? `${title}\n${text}` : text;
      const sentiment = deps.sentiment.analyze(whole);
      const fired = schemes.filter((s) => s.fired);
      const domain = domains.classify(whole, [
        ...hits.map((h) => ({ domain: h.domain, weight: DOMAIN_WEIGHTS.term })),
        ...fired.map((s) => ({ domain: s.domain, weight: DOMAIN_WEIGHTS.scheme })),
      ]);

      let level: AlertLevel | undefined;
      let levelReason: LevelReason | undefined;
      const consider = (l: AlertLevel, reason: LevelReason) => {
        if (level === undefined || l < level) {
          level = l;
          levelReason = reason;
        }
      };
      let maxLevel: AlertLevel | undefined;
      for (const h of hits) {
        if (maxLevel === undefined || h.level < maxLevel) maxLevel = h.level;
        consider(h.level, { kind: 'term', ref: h.term, packId: h.packId });
      }
      for (const s of fired) consider(s.level, { kind: 'scheme', ref: s.schemeId, packId: s.packId });
      for (const f of privacy) consider(f.level, { kind: 'privacy', ref: f.kind });

      return {
        hits,
        terms: [...new Set(hits.map((h) => h.term))],
        categories: [...new Set(hits.map((h) => h.category))],
        ...(maxLevel !== undefined ? { maxLevel } : {}),
        schemes,
        privacy,
        sentiment,
        domain,
        ...(level !== undefined ? { level, levelReason: levelReason! } : {}),
        rulesVersion: ruleSet.version,
      };
    },
  };
}
