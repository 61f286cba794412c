import type { Classification, PostClassifier } from './classify-post.js';

/**
 * One JSON Lines record in, one out, in order, for the `classify` command. A line may be a post
 * object (`text`, or `content` / `body`; optional `title` and `id`) or a bare JSON string. A line
 * that is not JSON, or has no text, yields an error record for that line; nothing is skipped, so
 * output line n always answers input line n.
 */
export type LineResult =
  | ({ line: number; id?: string | number; ok: true } & Classification)
  | { line: number; id?: string | number; ok: false; error: { code: 'invalid_json' | 'invalid_post'; message: string } };

/** Longest text classified per field; longer texts are cut (and say so) rather than stall the stream. */
export const MAX_FIELD_LENGTH = 1_000_000;

function idOf(value: unknown): string | number | undefined {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? value : undefined;
}

export function classifyLine(classifier: PostClassifier, raw: string, line: number): LineResult {
  const trimmed = raw.replace(/^\uFEFF/, '').trim();
  if (trimmed.length === 0) return { line, ok: false, error: { code: 'invalid_post', message: 'empty line' } };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { line, ok: false, error: { code: 'invalid_json', message: (err as Error).message } };
  }
  if (typeof value === 'string') return { line, ok: true, ...classifier.classify({ text: value.slice(0, MAX_FIELD_LENGTH) }) };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, ok: false, error: { code: 'invalid_post', message: 'a line must be a JSON object with "text" (or a JSON string)' } };
  }
  const post = value as Record<string, unknown>;
  const id = idOf(post.id);
  const text = [post.text, post.content, post.body].find((v) => typeof v === 'string') as string | undefined;
  const title = post.title;
  if (text === undefined) return { line, ...(id !== undefined ? { id } : {}), ok: false, error: { code: 'invalid_post', message: 'missing "text" (a string)' } };
  if (title !== undefined && title !== null && typeof title !== 'string') {
    return { line, ...(id !== undefined ? { id } : {}), ok: false, error: { code: 'invalid_post', message: '"title" must be a string' } };
  }
  const result = classifier.classify({ text: text.slice(0, MAX_FIELD_LENGTH), ...(typeof title === 'string' ? { title: title.slice(0, MAX_FIELD_LENGTH) } : {}) });
  return { line, ...(id !== undefined ? { id } : {}), ok: true, ...result };
}
