import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { InvalidInputError } from '../errors.js';

function lineOf(doc: Document, text: string, keys: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let range: [number, number, number] | undefined;
  for (const key of keys) {
    if (isMap(node) || isSeq(node)) {
      const next = (node as { get(k: unknown, keepScalar: boolean): unknown }).get(key, true);
      if (next === undefined) break;
      node = next;
      const r = (node as { range?: [number, number, number] }).range;
      if (r) range = r;
    } else break;
  }
  if (!range) return undefined;
  return text.slice(0, range[0]).split('\n').length;
}

/**
 * Reads a YAML file and validates it with `schema`; a problem names the file, the line and the field
 * (`config/roster.yaml:12: people.2.channels: …`), so a unit's admin can fix it without reading code.
 */
export function loadYamlFile<S extends z.ZodType>(schema: S, file: string, code = 'config_invalid', syntaxCode = code): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`${file}: cannot read (${(err as Error).message})`, code);
  }
  return parseYamlText(schema, text, file, code, syntaxCode);
}

/** A file as an admin finds it: relative to the working directory when inside it, else absolute. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Validates YAML text with `schema`. A syntax error is `syntaxCode` (default `code`); a schema
 * problem is `code`, each issue with the line it is on.
 */
export function parseYamlText<S extends z.ZodType>(schema: S, text: string, file: string, code = 'config_invalid', syntaxCode = code): z.infer<S> {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    throw new InvalidInputError(`${shown(file)}${line ? `:${line}` : ''}: YAML: ${err.message.split('\n')[0]}`, syntaxCode);
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    const why = result.error.issues
      .map((i) => {
        const line = lineOf(doc, text, i.path);
        return `${shown(file)}${line ? `:${line}` : ''}: ${i.path.join('.') || '(root)'}: ${i.message}`;
      })
      .join('; ');
    throw new InvalidInputError(why, code, result.error.issues);
  }
  return result.data;
}
