import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, Scalar, type Document } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { firstInvalidUtf8 } from '../text/utf8.js';
import { FOLD_TABLE, STYLED_HIGH_SURROGATE, foldStyledLow } from './fold.js';
import { DEFAULT_SKIP } from './matcher.js';
import { parseSchemeExpression, SchemeSyntaxError, termsOf, type SchemeExpression } from './scheme-expression.js';

/** 预警等级: 1 = 一级红 (highest) … 4 = 四级蓝. */
export const AlertLevelSchema = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)], { error: (issue) => `a level is 1, 2, 3 or 4 (1 = 一级红 … 4 = 四级蓝), not ${JSON.stringify(issue.input)}` });
export type AlertLevel = z.infer<typeof AlertLevelSchema>;

/**
 * Lexicon categories: 敏感词; 错敏词 and 严重表述错误 (wrong names and titles of the state, organs and
 * leaders, outdated formulations; they carry the correct form as a suggestion); 负面 (negative
 * opinion); 涉密 (secrecy terms: 涉密信息不上网); 自定义 (the unit's own lists).
 */
export const RuleCategorySchema = z.enum(['敏感词', '错敏词', '严重表述错误', '负面', '涉密', '自定义']);
export type RuleCategory = z.infer<typeof RuleCategorySchema>;

/** Extra patterns for a term that people write to dodge filters; all go into the one automaton. */
export const TermVariantsSchema = z
  .object({
    /** Generate pinyin spellings: the whole term (baolizhifa) and, for terms of up to 4 characters, mixed forms (暴力zhifa). */
    pinyin: z.boolean().default(false),
    /** Listed homophone or look-alike spellings (报力执法). */
    homophones: z.array(z.string().trim().min(1)).default([]),
  })
  .strict();

export const LexiconTermSchema = z
  .object({
    term: z.string().trim().min(1),
    /** Defaults to the pack's `level`. */
    level: AlertLevelSchema.optional(),
    /** Defaults to the pack's `category`. */
    category: RuleCategorySchema.optional(),
    /** Defaults to the pack's `domain`. */
    domain: z.string().trim().min(1).optional(),
    /** For 错敏词 / 严重表述错误: the correct form, shown as the suggestion. */
    suggestion: z.string().optional(),
    tags: z.array(z.string()).default([]),
    variants: TermVariantsSchema.optional(),
  })
  .strict();

/** A term is an object, or a bare string taking every default from its pack. */
const TermEntrySchema = z.preprocess((v) => (typeof v === 'string' ? { term: v } : v), LexiconTermSchema);

const ExpressionSchema = z.string().trim().min(1);

/**
 * 监测方案: every present word field must be satisfied (地域词 AND 主体词 AND 人物词 AND 事件词), and
 * the exclusion (排除词) must not fire anywhere in the post. With `proximity`, the positive fields
 * must all be satisfied by words inside one window of that many characters.
 */
export const MonitoringSchemeSchema = z
  .object({
    id: z.string().max(200).regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
    name: z.string().min(1),
    level: AlertLevelSchema,
    domain: z.string().trim().min(1).optional(),
    tags: z.array(z.string()).default([]),
    /** 地域词 */
    region: ExpressionSchema.optional(),
    /** 主体词 */
    subject: ExpressionSchema.optional(),
    /** 人物词 */
    person: ExpressionSchema.optional(),
    /** 事件词 */
    event: ExpressionSchema.optional(),
    /** 排除词 */
    exclude: ExpressionSchema.optional(),
    /** Characters within which the positive fields must co-occur; absent = anywhere in the post. */
    proximity: z.number().int().min(1).max(10_000).optional(),
  })
  .strict()
  .refine((s) => s.region || s.subject || s.person || s.event, { message: 'a scheme needs at least one of region, subject, person, event' });

export const RulePackSchema = z
  .object({
    id: z.string().max(200).regex(/^[a-z0-9-]+$/, 'id: lower-case letters, digits and dashes'),
    name: z.string().min(1),
    version: z.number().int().positive(),
    description: z.string().optional(),
    /** Default category of the pack's terms. */
    category: RuleCategorySchema.default('自定义'),
    /** Default domain of the pack's terms and schemes. */
    domain: z.string().default('政治'),
    /** Default level of the pack's terms. */
    level: AlertLevelSchema.optional(),
    terms: z.array(TermEntrySchema).default([]),
    schemes: z.array(MonitoringSchemeSchema).default([]),
    /** Keyword lists per domain (领域), merged over every pack; they extend the built-in lists. */
    domains: z.record(z.string().trim().min(1), z.array(z.string().trim().min(1))).default({}),
  })
  .strict()
  .superRefine((pack, ctx) => {
    if (pack.terms.length === 0 && pack.schemes.length === 0 && Object.keys(pack.domains).length === 0) {
      ctx.addIssue({ code: 'custom', message: 'a pack needs terms, schemes or domains', path: ['terms'] });
    }
    pack.terms.forEach((t, i) => {
      if (!t.level && !pack.level) ctx.addIssue({ code: 'custom', message: 'a level (1–4) on the term or on the pack', path: ['terms', i, 'level'] });
    });
    const ids = new Set<string>();
    pack.schemes.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', message: `scheme id "${s.id}" is used twice`, path: ['schemes', i, 'id'] });
      ids.add(s.id);
    });
  });

export type RulePackInput = z.input<typeof RulePackSchema>;
type ParsedPack = z.infer<typeof RulePackSchema>;

export const SCHEME_FIELDS = ['region', 'subject', 'person', 'event'] as const;
export type SchemeField = (typeof SCHEME_FIELDS)[number] | 'exclude';
export const SCHEME_FIELD_NAMES: Record<SchemeField, string> = { region: '地域词', subject: '主体词', person: '人物词', event: '事件词', exclude: '排除词' };

export interface ResolvedTerm {
  term: string;
  level: AlertLevel;
  category: RuleCategory;
  domain: string;
  tags: string[];
  suggestion?: string;
  variants?: { pinyin: boolean; homophones: string[] };
}

export interface MonitoringScheme {
  id: string;
  name: string;
  level: AlertLevel;
  domain: string;
  tags: string[];
  fields: Partial<Record<SchemeField, { source: string; expression: SchemeExpression }>>;
  proximity?: number;
}

/** A validated pack with every default resolved, its expressions parsed, and a hash of its content. */
export interface RulePack {
  id: string;
  name: string;
  version: number;
  /** sha256 (first 16 hex) of the pack's canonical JSON: changes whenever what it matches changes. */
  hash: string;
  category: RuleCategory;
  domain: string;
  terms: ResolvedTerm[];
  schemes: MonitoringScheme[];
  domains: Record<string, string[]>;
}

/** A problem in a rule pack, located as precisely as the source allows. */
export interface RuleProblem {
  file: string;
  /** 1-based line in the YAML. */
  line?: number;
  /** 1-based column in the YAML (UTF-16 code units, as editors count). */
  column?: number;
  /** Dotted path of the field, e.g. `schemes.0.region`. */
  field: string;
  message: string;
  /** For a syntax error in a scheme's expression: the scheme (rule), its word field, and the offset in the expression (from 0). */
  scheme?: { id: string; field: SchemeField; position: number };
}

/** Where in the YAML a field (or a character of a field's text) is; undefined when the pack did not come from YAML. */
export type ProblemLocator = (fieldPath: readonly PropertyKey[], offsetInValue?: number, atKey?: boolean) => { line: number; column: number } | undefined;

export function formatProblem(p: RuleProblem): string {
  return `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

export class RulePackError extends InvalidInputError {
  constructor(readonly problems: RuleProblem[]) {
    super(problems.map(formatProblem).join('\n'), 'rule_pack_invalid', problems);
  }
}

/**
 * Locates a field in the YAML: the nearest node along its path that exists (a missing field points
 * at its parent). A key the schema does not know points at the key itself. With `offsetInValue`, a
 * single-line scalar is located to that character of its (trimmed) value.
 */
function locatorOf(text: string, doc: Document, counter: LineCounter): ProblemLocator {
  return (fieldPath, offsetInValue, atKey) => {
    for (let n = fieldPath.length; n >= 0; n--) {
      const at = fieldPath.slice(0, n) as (string | number)[];
      let node: unknown = n === 0 || (atKey && n === fieldPath.length) ? undefined : doc.getIn(at, true);
      if (n === 0) node = doc.contents;
      if (!isNode(node) && n > 0) {
        // The last step may name a key whose value is missing or empty: point at the key.
        const parent = n === 1 ? doc.contents : doc.getIn(at.slice(0, -1), true);
        if (isMap(parent)) node = parent.items.find((pair) => isScalar(pair.key) && pair.key.value === at[n - 1])?.key;
      }
      if (!isNode(node) || !node.range) continue;
      let offset = node.range[0];
      if (offsetInValue !== undefined && n === fieldPath.length && isScalar(node) && typeof node.value === 'string') {
        offset = offsetInScalar(text, node, offsetInValue) ?? offset;
      }
      const { line, col } = counter.linePos(offset);
      return { line, column: col };
    }
    return undefined;
  };
}

/** The source offset of a character of a plain or quoted one-line scalar's trimmed value; undefined when escapes or folding make it ambiguous. */
function offsetInScalar(text: string, node: Scalar, position: number): number | undefined {
  const value = String(node.value);
  const trimmed = value.trim();
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
  if (!quoted && node.type !== Scalar.PLAIN) return undefined;
  const base = node.range![0] + (quoted ? 1 : 0) + (value.length - value.trimStart().length);
  return text.slice(base, base + position) === trimmed.slice(0, position) && !text.slice(base, base + position).includes('\n') ? base + position : undefined;
}

function hashOf(pack: Omit<RulePack, 'hash'>): string {
  const canonical = JSON.stringify(pack, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

const SKIPPED = new Set([...DEFAULT_SKIP].map((c) => FOLD_TABLE[c.charCodeAt(0)]!));

/**
 * The form the matcher looks a word up in (folded, interference characters dropped, as
 * {@link Matcher} keys it with its default options): an empty key never matches anything, and two
 * terms with one key match the same text.
 */
export function matchKeyOf(word: string): string {
  let key = '';
  for (let i = 0; i < word.length; i++) {
    let c = word.charCodeAt(i);
    const low = word.charCodeAt(i + 1);
    if (c === STYLED_HIGH_SURROGATE && low >= 0xdc00 && low <= 0xdfff) {
      c = foldStyledLow(low);
      i++;
    }
    const f = FOLD_TABLE[c]!;
    if (!SKIPPED.has(f)) key += String.fromCharCode(f);
  }
  return key;
}

/** A word in quotes, its invisible characters written as escapes (a zero-width term reads "\u200b", not ""). */
const invisible = (c: number) => c < 0x20 || (c >= 0x7f && c <= 0xa0) || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) || c === 0x2060 || c === 0xfeff;
const shown = (word: string) => `"${[...word].map((c) => (invisible(c.charCodeAt(0)) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')}"`;

const NOTHING_TO_MATCH = 'never matches: nothing is left once folded (spaces, zero-width characters and the punctuation the matcher skips)';

function resolve(pack: ParsedPack, file: string, locate: ProblemLocator, warnings: RuleProblem[]): RulePack {
  const problems: RuleProblem[] = [];
  const termAt = new Map<string, number>();
  pack.terms.forEach((t, i) => {
    const key = matchKeyOf(t.term);
    const where = ['terms', i, 'term'];
    if (key.length === 0) warnings.push({ file, ...locate(where), field: where.join('.'), message: `term ${shown(t.term)} ${NOTHING_TO_MATCH}` });
    else if (termAt.has(key)) {
      const j = termAt.get(key)!;
      warnings.push({ file, ...locate(where), field: where.join('.'), message: `term ${shown(t.term)} matches the same text as terms.${j} ${shown(pack.terms[j]!.term)}: each occurrence is reported once per copy` });
    } else termAt.set(key, i);
    t.variants?.homophones.forEach((h, k) => {
      const at = ['terms', i, 'variants', 'homophones', k];
      if (matchKeyOf(h).length === 0) warnings.push({ file, ...locate(at), field: at.join('.'), message: `homophone ${shown(h)} of ${shown(t.term)} ${NOTHING_TO_MATCH}` });
    });
  });
  const terms: ResolvedTerm[] = pack.terms.map((t) => ({
    term: t.term,
    level: t.level ?? pack.level!,
    category: t.category ?? pack.category,
    domain: t.domain ?? pack.domain,
    tags: t.tags,
    ...(t.suggestion ? { suggestion: t.suggestion } : {}),
    ...(t.variants ? { variants: t.variants } : {}),
  }));
  const schemes: MonitoringScheme[] = pack.schemes.map((s, i) => {
    const fields: MonitoringScheme['fields'] = {};
    for (const field of [...SCHEME_FIELDS, 'exclude'] as const) {
      const source = s[field];
      if (!source) continue;
      try {
        const expression = parseSchemeExpression(source);
        fields[field] = { source, expression };
        for (const word of termsOf(expression).filter((w) => matchKeyOf(w).length === 0)) {
          const where = ['schemes', i, field];
          warnings.push({ file, ...locate(where), field: where.join('.'), message: `scheme "${s.id}", ${SCHEME_FIELD_NAMES[field]}: word ${shown(word)} ${NOTHING_TO_MATCH}` });
        }
      } catch (err) {
        if (!(err instanceof SchemeSyntaxError)) throw err;
        const where = ['schemes', i, field];
        problems.push({
          file,
          ...locate(where, err.position),
          field: where.join('.'),
          message: `scheme "${s.id}", ${SCHEME_FIELD_NAMES[field]} "${source}": ${err.message}`,
          scheme: { id: s.id, field, position: err.position },
        });
      }
    }
    return { id: s.id, name: s.name, level: s.level, domain: s.domain ?? pack.domain, tags: s.tags, fields, ...(s.proximity ? { proximity: s.proximity } : {}) };
  });
  if (problems.length > 0) throw new RulePackError(problems);
  const resolved = { id: pack.id, name: pack.name, version: pack.version, category: pack.category, domain: pack.domain, terms, schemes, domains: pack.domains };
  return { ...resolved, hash: hashOf(resolved) };
}

/** Validates a pack given as an object (e.g. from an API body); errors name the field. */
export function validateRulePack(doc: unknown, file = '(pack)', locate: ProblemLocator = () => undefined, warnings: RuleProblem[] = []): RulePack {
  const result = RulePackSchema.safeParse(doc);
  if (!result.success) {
    throw new RulePackError(
      result.error.issues.map((i) => {
        // An unknown key is located at the key itself, not at the map holding it.
        const unknownKey = i.code === 'unrecognized_keys' && i.keys.length > 0;
        const at = unknownKey ? [...i.path, i.keys[0]!] : i.path;
        return { file, ...locate(at, undefined, unknownKey), field: at.map(String).join('.') || '(root)', message: i.message };
      }),
    );
  }
  return resolve(result.data, file, locate, warnings);
}

/** Parses one pack from YAML; errors name the file, the line and the field; `warnings` receives what loads but can never match (see {@link RulePackCheck}). */
export function parseRulePack(text: string, file: string, warnings: RuleProblem[] = []): RulePack {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new RulePackError(
      doc.errors.map((e) => {
        const { line, col } = e.linePos?.[0] ?? counter.linePos(e.pos[0]);
        return { file, line, column: col, field: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  return validateRulePack(doc.toJS(), file, locatorOf(text, doc, counter), warnings);
}

export interface RulePackCheck {
  packs: RulePack[];
  problems: RuleProblem[];
  /** The file text of each valid pack, by pack id. */
  texts: Record<string, string>;
  /**
   * What loads but does not do what it says: a term or scheme word that can never match, two terms
   * of one pack matching the same text. Not problems: a pack from elsewhere with one such entry
   * still classifies with the rest.
   */
  warnings: RuleProblem[];
}

/** Reads every `*.yaml` / `*.yml` in `dir` and reports every problem, not just the first. */
export function checkRulePacks(dir: string): RulePackCheck {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  } catch (err) {
    return { packs: [], problems: [{ file: dir, field: '', message: `cannot read the folder: ${(err as Error).message}` }], texts: {}, warnings: [] };
  }
  const packs: RulePack[] = [];
  const problems: RuleProblem[] = [];
  const warnings: RuleProblem[] = [];
  const seen = new Map<string, string>();
  const texts: Record<string, string> = {};
  for (const f of files) {
    try {
      const bytes = readFileSync(path.join(dir, f));
      const bad = firstInvalidUtf8(bytes);
      if (bad >= 0) {
        // Decoding with replacement characters would load terms that never match.
        const before = bytes.subarray(0, bad);
        const line = before.filter((b) => b === 0x0a).length + 1;
        const column = bad - before.lastIndexOf(0x0a);
        problems.push({ file: f, line, column, field: '', message: `not UTF-8 (invalid byte 0x${bytes[bad]!.toString(16).padStart(2, '0')}): save the file as UTF-8 (a GBK file: iconv -f GB18030 -t UTF-8)` });
        continue;
      }
      const text = bytes.toString('utf8');
      const pack = parseRulePack(text, f, warnings);
      texts[pack.id] ??= text;
      const other = seen.get(pack.id);
      if (other) problems.push({ file: f, field: 'id', message: `rule pack id "${pack.id}" is also used by ${other}` });
      else seen.set(pack.id, f);
      packs.push(pack);
    } catch (err) {
      if (err instanceof RulePackError) problems.push(...err.problems);
      else problems.push({ file: f, field: '', message: (err as Error).message });
    }
  }
  if (files.length === 0) problems.push({ file: dir, field: '', message: 'no rule packs (*.yaml) in this folder' });
  return { packs, problems, texts, warnings };
}

/** Loads every pack of a folder or throws one {@link RulePackError} listing every problem. */
export function loadRulePacks(dir: string): RulePack[] {
  const { packs, problems } = checkRulePacks(dir);
  if (problems.length > 0) throw new RulePackError(problems);
  return packs;
}

/**
 * The YAML with the value of its top-level `version:` replaced by `version`; every other character
 * (comments, layout) is kept. Used when a saved pack takes the version number the store gives it.
 */
export function setPackVersion(text: string, version: number): string {
  const doc = parseDocument(text);
  const pair = isMap(doc.contents) ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'version') : undefined;
  if (!pair || !isNode(pair.value) || !pair.value.range) throw new InvalidInputError('version: a pack needs a top-level version', 'rule_pack_invalid');
  const [start, end] = pair.value.range;
  return `${text.slice(0, start)}${version}${text.slice(end)}`;
}

/** Line and column of a field in a pack's YAML (see {@link ProblemLocator}). */
export function locateInYaml(text: string, fieldPath: readonly PropertyKey[]): { line: number; column: number } | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  return locatorOf(text, doc, counter)(fieldPath);
}
