import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';

export const SourceKindSchema = z.enum(['website', 'message-board']);
export type SourceKind = z.infer<typeof SourceKindSchema>;

/** A position (阵地): an outlet the unit owns, with who answers for it (谁主管谁负责). */
export const SourceSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  kind: SourceKindSchema,
  name: z.string().min(1),
  owner: z.object({ section: z.string().min(1), person: z.string().min(1) }),
  /** List pages the crawl starts from. */
  entryPoints: z.array(z.string().url()).min(1),
  /** Hosts the crawler may fetch; defaults to the entry points' hosts. */
  allowedHosts: z.array(z.string()).default([]),
  everySeconds: z.number().int().min(5).optional(),
  render: z.enum(['static', 'browser']).default('static'),
  enabled: z.boolean().default(true),
});
export type Source = z.infer<typeof SourceSchema>;

const SourcesFileSchema = z.object({ sources: z.array(SourceSchema) });

/**
 * Reads a sources YAML file. `${NAME}` placeholders are replaced from `vars` first, so a file can
 * point at a host chosen at start (the demo site) and credentials can stay in env.
 */
export function loadSources(file: string, vars: Record<string, string> = {}): Source[] {
  const text = readFileSync(file, 'utf8').replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => {
    const value = vars[name] ?? process.env[name];
    if (value === undefined) throw new InvalidInputError(`${file}: \${${name}} is not set`, 'source_variable_missing');
    return value;
  });
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new InvalidInputError(`${file}: ${err.message.split('\n')[0]}`, 'sources_yaml');
    throw err;
  }
  const result = SourcesFileSchema.safeParse(doc);
  if (!result.success) {
    const msg = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidInputError(`${file}: ${msg}`, 'sources_invalid');
  }
  const ids = new Set<string>();
  return result.data.sources.map((s) => {
    if (ids.has(s.id)) throw new InvalidInputError(`${file}: source id "${s.id}" is used twice`, 'sources_invalid');
    ids.add(s.id);
    return { ...s, allowedHosts: s.allowedHosts.length > 0 ? s.allowedHosts : [...new Set(s.entryPoints.map((u) => new URL(u).host))] };
  });
}
