import { z } from 'zod';
import { ItemKindSchema } from './collected-item.js';
import type { IndexedPost } from './post.js';

/** A comma-separated query-string list or a repeated parameter, as a list. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(item).max(50));

/**
 * What a search for posts can ask. `match` chooses how `q` matches:
 * - `any` (default): every character of `q` present (recall), exact phrases and whole words ranked first;
 * - `phrase`: `q` appears verbatim;
 * - `words`: every space-separated word of `q` is a whole jieba word of the post (exact word search).
 */
export const PostSearchQuerySchema = z.object({
  q: z.string().trim().max(200).optional(),
  match: z.enum(['any', 'phrase', 'words']).default('any'),
  /** Positions (阵地), by source id. */
  sourceIds: list(z.string().min(1).max(100)).optional(),
  kinds: list(ItemKindSchema).optional(),
  domains: list(z.string().min(1).max(50)).optional(),
  categories: list(z.string().min(1).max(50)).optional(),
  sentiments: list(z.enum(['positive', 'neutral', 'negative'])).optional(),
  /** Posts whose level (hits, fired schemes, personal data) is this or higher (1 = red is highest). */
  minLevel: z.coerce.number().int().min(1).max(4).optional(),
  eventId: z.string().min(1).max(100).optional(),
  /** Posts marked deleted (已删除) or reworded since first collected (已修改); several: any of them. */
  changes: list(z.enum(['deleted', 'edited'])).optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  /** Which time `from`/`to` bound: the post's time (published, else collected; default), when it was collected, or published. Reports count by collection time. */
  timeField: z.enum(['at', 'collectedAt', 'publishedAt']).default('at'),
  /** Only 留言 still without an answer. */
  unanswered: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  sort: z.enum(['relevance', 'time']).default('relevance'),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type PostSearchQuery = z.infer<typeof PostSearchQuerySchema>;

/** A highlighted range, in UTF-16 code units of the post's normalised field (`title` or `text`). */
export interface HighlightRange {
  start: number;
  end: number;
}

/** A piece of a snippet: render `text` as text (never as HTML), marked when it matched. */
export interface SnippetPart {
  text: string;
  mark: boolean;
}

export interface PostSearchHit {
  post: Omit<IndexedPost, 'tokens' | 'words' | 'versions' | 'pastDeletions'>;
  score: number | null;
  highlights: { title: HighlightRange[]; text: HighlightRange[] };
  /** Up to ~160 characters of the text around the first highlight. */
  snippet: SnippetPart[];
}

export interface PostSearchResult {
  total: number;
  /** Whether `total` is exact (Elasticsearch counts exactly up to 10,000). */
  totalExact: boolean;
  hits: PostSearchHit[];
}

/**
 * Reads highlight ranges out of a whole-field highlight whose matches are wrapped in `open`/`close`
 * markers. Returns undefined when the result does not reproduce `original` (the field itself held
 * a marker character), so a wrong range is never shown.
 */
export function rangesFromMarkedText(marked: string, original: string, open: string, close: string): HighlightRange[] | undefined {
  const ranges: HighlightRange[] = [];
  let plain = '';
  let start = -1;
  for (const ch of marked) {
    if (ch === open) start = plain.length;
    else if (ch === close) {
      if (start >= 0) {
        const last = ranges[ranges.length - 1];
        if (last && last.end === start) last.end = plain.length;
        else ranges.push({ start, end: plain.length });
      }
      start = -1;
    } else plain += ch;
  }
  return plain === original ? ranges : undefined;
}

/** Cuts a snippet of about `width` characters around the first range, split into marked and plain parts. */
export function snippetOf(text: string, ranges: readonly HighlightRange[], width = 160): SnippetPart[] {
  const first = ranges[0];
  const from = first ? Math.max(0, Math.min(first.start - Math.floor(width / 4), text.length - width)) : 0;
  const to = Math.min(text.length, from + width);
  const parts: SnippetPart[] = [];
  let at = from;
  for (const r of ranges) {
    if (r.end <= from || r.start >= to) continue;
    const s = Math.max(r.start, from);
    const e = Math.min(r.end, to);
    if (s > at) parts.push({ text: text.slice(at, s), mark: false });
    parts.push({ text: text.slice(s, e), mark: true });
    at = e;
  }
  if (at < to) parts.push({ text: text.slice(at, to), mark: false });
  return parts;
}
