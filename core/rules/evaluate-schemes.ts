import { SCHEME_FIELD_NAMES, type AlertLevel, type SchemeField } from './rule-pack.js';
import type { CompiledScheme, SchemeTermRef } from './rule-set.js';

export type TextField = 'title' | 'text';

/** A scheme word found in a post. `at`/`atEnd` place it on one line: the title, a gap, then the text. */
export interface WordOccurrence {
  term: string;
  field: TextField;
  start: number;
  end: number;
  at: number;
  atEnd: number;
  refs: readonly SchemeTermRef[];
}

export interface MatchedWord {
  term: string;
  field: TextField;
  start: number;
  end: number;
}

/** One word field of a scheme (地域词 …) and whether the post satisfied it. */
export interface SchemeGroup {
  field: Exclude<SchemeField, 'exclude'>;
  /** 地域词 / 主体词 / 人物词 / 事件词 */
  name: string;
  expression: string;
  satisfied: boolean;
  words: MatchedWord[];
}

export interface SchemeExclusion {
  expression: string;
  fired: boolean;
  words: MatchedWord[];
}

/**
 * Why a scheme did or did not fire: `fired`; `excluded` (every group satisfied, but an exclusion
 * fired); `incomplete` (a group is not satisfied); `not-near` (every group satisfied, but never
 * within the proximity window).
 */
export type SchemeOutcome = 'fired' | 'excluded' | 'incomplete' | 'not-near';

export interface SchemeResult {
  packId: string;
  packVersion: number;
  schemeId: string;
  name: string;
  level: AlertLevel;
  domain: string;
  tags: string[];
  outcome: SchemeOutcome;
  fired: boolean;
  groups: SchemeGroup[];
  /** The exclusion checked, present when the scheme has one. */
  exclusion?: SchemeExclusion;
  proximity?: number;
}

/** Longest list of words kept per group in an explanation. */
const MAX_WORDS = 20;
/** A post with more scheme words than this is windowed over its first ones only (quadratic search). */
const MAX_WINDOW_OCCURRENCES = 2000;

function has(bits: Uint32Array, bit: number): boolean {
  return (bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
}

function wordsIn(list: readonly { bit: number; occ: WordOccurrence }[], fieldBits: Uint32Array): MatchedWord[] {
  const out: MatchedWord[] = [];
  for (const { bit, occ } of list) {
    if (!has(fieldBits, bit)) continue;
    out.push({ term: occ.term, field: occ.field, start: occ.start, end: occ.end });
    if (out.length >= MAX_WORDS) break;
  }
  return out;
}

/** Evaluates every scheme at least one of whose words occurs; the others cannot fire and are not listed. */
export function evaluateSchemes(schemes: readonly CompiledScheme[], occurrences: readonly WordOccurrence[]): SchemeResult[] {
  const byScheme = new Map<number, { bit: number; occ: WordOccurrence }[]>();
  for (const occ of occurrences) {
    for (const ref of occ.refs) {
      let list = byScheme.get(ref.scheme);
      if (!list) byScheme.set(ref.scheme, (list = []));
      list.push({ bit: ref.bit, occ });
    }
  }
  const results: SchemeResult[] = [];
  for (const [index, found] of [...byScheme].sort(([a], [b]) => a - b)) {
    const compiled = schemes[index]!;
    const { scheme } = compiled;
    const all = new Uint32Array(compiled.width);
    for (const { bit } of found) all[bit >>> 5]! |= 1 << (bit & 31);
    const positive = compiled.fields.filter((f) => f.field !== 'exclude');
    const exclude = compiled.fields.find((f) => f.field === 'exclude');
    const everywhere = positive.every((f) => f.test(all));

    let window = found;
    let near = everywhere;
    if (everywhere && scheme.proximity !== undefined) {
      near = false;
      const sorted = [...found].sort((a, b) => a.occ.at - b.occ.at).slice(0, MAX_WINDOW_OCCURRENCES);
      const bits = new Uint32Array(compiled.width);
      for (let i = 0; i < sorted.length && !near; i++) {
        bits.fill(0);
        const from = sorted[i]!.occ.at;
        const limit = from + scheme.proximity;
        const inside: typeof sorted = [];
        for (let j = i; j < sorted.length && sorted[j]!.occ.at < limit; j++) {
          if (sorted[j]!.occ.atEnd > limit) continue;
          bits[sorted[j]!.bit >>> 5]! |= 1 << (sorted[j]!.bit & 31);
          inside.push(sorted[j]!);
        }
        if (positive.every((f) => f.test(bits))) {
          near = true;
          window = inside;
        }
      }
    }
    const excluded = exclude ? exclude.test(all) : false;
    const outcome: SchemeOutcome = !everywhere ? 'incomplete' : !near ? 'not-near' : excluded ? 'excluded' : 'fired';
    results.push({
      packId: compiled.packId,
      packVersion: compiled.packVersion,
      schemeId: scheme.id,
      name: scheme.name,
      level: scheme.level,
      domain: scheme.domain,
      tags: scheme.tags,
      outcome,
      fired: outcome === 'fired',
      groups: positive.map((f) => ({
        field: f.field as SchemeGroup['field'],
        name: SCHEME_FIELD_NAMES[f.field],
        expression: f.source,
        satisfied: f.test(near ? windowBits(window, compiled.width) : all),
        words: wordsIn(near ? window : found, f.bits),
      })),
      ...(exclude ? { exclusion: { expression: exclude.source, fired: excluded, words: wordsIn(found, exclude.bits) } } : {}),
      ...(scheme.proximity !== undefined ? { proximity: scheme.proximity } : {}),
    });
  }
  return results;
}

function windowBits(list: readonly { bit: number }[], width: number): Uint32Array {
  const bits = new Uint32Array(width);
  for (const { bit } of list) bits[bit >>> 5]! |= 1 << (bit & 31);
  return bits;
}
