import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';

/** 预警等级: 1 = 一级红 (highest) … 4 = 四级蓝. */
export const AlertLevelSchema = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);
export type AlertLevel = z.infer<typeof AlertLevelSchema>;

export const RuleCategorySchema = z.enum(['敏感词', '错敏词', '负面', '涉密', '自定义']);

export const LexiconTermSchema = z.object({
  term: z.string().trim().min(1),
  level: AlertLevelSchema,
  /** For 错敏词: the correct form, shown as the suggestion. */
  suggestion: z.string().optional(),
  tags: z.array(z.string()).default([]),
});

export const RulePackSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'id: lower-case letters, digits and dashes'),
  name: z.string().min(1),
  version: z.number().int().positive(),
  category: RuleCategorySchema,
  domain: z.string().default('政治'),
  terms: z.array(LexiconTermSchema).min(1),
});
export type RulePack = z.infer<typeof RulePackSchema>;
export type LexiconTerm = z.infer<typeof LexiconTermSchema>;

/** Parses one pack; errors name the file, the line when YAML is broken, and the field. */
export function parseRulePack(text: string, file: string): RulePack {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      throw new InvalidInputError(`${file}${line ? `:${line}` : ''}: ${err.message.split('\n')[0]}`, 'rule_pack_yaml');
    }
    throw err;
  }
  const result = RulePackSchema.safeParse(doc);
  if (!result.success) {
    const msg = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidInputError(`${file}: ${msg}`, 'rule_pack_invalid', result.error.issues);
  }
  return result.data;
}

export function loadRulePacks(dir: string): RulePack[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  const packs = files.map((f) => parseRulePack(readFileSync(path.join(dir, f), 'utf8'), f));
  const seen = new Set<string>();
  for (const pack of packs) {
    if (seen.has(pack.id)) throw new InvalidInputError(`rule pack id "${pack.id}" is used twice in ${dir}`, 'rule_pack_duplicate');
    seen.add(pack.id);
  }
  return packs;
}
