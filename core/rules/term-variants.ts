import { pinyin } from 'pinyin-pro';
import type { ResolvedTerm } from './rule-pack.js';

export type VariantKind = 'pinyin' | 'homophone';

export interface TermVariant {
  pattern: string;
  kind: VariantKind;
}

/** Mixed forms (some characters in pinyin) are generated only for short terms: 2^n − 2 patterns. */
const MAX_MIXED_LENGTH = 4;
/** A whole-pinyin spelling shorter than this (e.g. "fa") would match inside ordinary words. */
const MIN_PINYIN_LENGTH = 4;

const HAN = /^[\u3400-\u9fff]$/;

/**
 * The extra patterns of a term that opts in: its pinyin spellings and listed homophones. Case and
 * spaces need no variants: the matcher folds case and skips spaces (`Bao Li Zhi Fa` matches).
 */
export function variantsOf(term: ResolvedTerm): TermVariant[] {
  const out: TermVariant[] = [];
  const seen = new Set([term.term]);
  const push = (pattern: string, kind: VariantKind) => {
    if (seen.has(pattern)) return;
    seen.add(pattern);
    out.push({ pattern, kind });
  };
  for (const h of term.variants?.homophones ?? []) push(h, 'homophone');
  if (!term.variants?.pinyin) return out;

  const chars = [...term.term];
  const syllables = pinyin(term.term, { toneType: 'none', type: 'array', v: true }) as string[];
  if (syllables.length !== chars.length) return out;
  const full = chars.map((c, i) => (HAN.test(c) ? syllables[i]! : c)).join('');
  if (full.length >= MIN_PINYIN_LENGTH && full !== term.term) push(full, 'pinyin');
  const han = chars.map((c) => HAN.test(c));
  if (chars.length <= MAX_MIXED_LENGTH && han.every(Boolean)) {
    for (let mask = 1; mask < (1 << chars.length) - 1; mask++) {
      push(chars.map((c, i) => (mask & (1 << i) ? syllables[i]! : c)).join(''), 'pinyin');
    }
  }
  return out;
}
