import { parse, stringify } from 'yaml';

/** The editable shape of a rule pack (core/rules/rule-pack.ts); unknown keys survive a round trip. */
export interface TermRow {
  term: string;
  level?: number;
  category?: string;
  suggestion?: string;
  [key: string]: unknown;
}
export interface SchemeRow {
  id: string;
  name: string;
  level: number;
  region?: string;
  subject?: string;
  person?: string;
  event?: string;
  exclude?: string;
  proximity?: number;
  [key: string]: unknown;
}
export interface PackForm {
  id: string;
  name: string;
  version: number;
  description?: string;
  category?: string;
  domain?: string;
  level?: number;
  terms: TermRow[];
  schemes: SchemeRow[];
  [key: string]: unknown;
}

export function emptyPack(): PackForm {
  return { id: 'new-pack', name: '新规则包', version: 1, category: '敏感词', domain: '政治', level: 3, terms: [{ term: '' }], schemes: [] };
}

/** Form → YAML; empty optional fields are left out so the YAML stays what a person would write. */
export function packToYaml(form: PackForm): string {
  const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '' && v !== null));
  const doc: Record<string, unknown> = clean({ ...form, terms: undefined, schemes: undefined, hash: undefined, file: undefined });
  const terms = form.terms.filter((t) => t.term.trim()).map((t) => clean(t));
  if (terms.length) doc.terms = terms;
  const schemes = form.schemes.filter((s) => s.id.trim()).map((s) => clean(s));
  if (schemes.length) doc.schemes = schemes;
  for (const key of ['domains'] as const) if (doc[key] && Object.keys(doc[key] as object).length === 0) delete doc[key];
  return stringify(doc, { lineWidth: 0 });
}

/** YAML → form, or an error message when the text is not a YAML mapping (the server names lines). */
export function yamlToPack(text: string): PackForm | string {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0]! : 'YAML 格式有误';
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'YAML 顶层应为键值映射';
  const d = doc as Record<string, unknown>;
  const terms = Array.isArray(d.terms) ? d.terms.map((t) => (typeof t === 'string' ? { term: t } : (t as TermRow))) : [];
  const schemes = Array.isArray(d.schemes) ? (d.schemes as SchemeRow[]) : [];
  return { ...(d as PackForm), terms, schemes };
}
