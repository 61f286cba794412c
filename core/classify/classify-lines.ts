import { firstInvalidUtf8 } from '../text/utf8.js';
import type { Classification, PostClassifier } from './classify-post.js';

/**
 * One JSON Lines record in, one out, in order, for the `classify` command. A line may be a post
 * object (`text`, or `content` / `body`; optional `title` and `id`) or a bare JSON string. A line
 * that is not UTF-8, not JSON, or has no text, yields an error record for that line; nothing is
 * skipped, so output line n always answers input line n.
 */
export type LineErrorCode = 'invalid_encoding' | 'invalid_json' | 'invalid_post';

export type LineResult =
  | ({ line: number; id?: string | number; ok: true; truncated?: true } & Classification)
  | { line: number; id?: string | number; ok: false; error: { code: LineErrorCode; message: string } };

/** Longest text classified per field; longer texts are cut (the result says `truncated: true`) rather than stall the stream. */
export const MAX_FIELD_LENGTH = 1_000_000;

function idOf(value: unknown): string | number | undefined {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? value : undefined;
}

/**
 * The source text of the top-level `"id"` number of a JSON object line (the last one, as JSON.parse
 * keeps), or undefined. Used for integer ids past 2^53 (platform ids), which a number would round.
 */
function rawIdNumber(json: string): string | undefined {
  let depth = 0;
  let found: string | undefined;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      const start = i;
      for (i++; i < json.length && json[i] !== '"'; i++) if (json[i] === '\\') i++;
      if (depth !== 1 || json.slice(start, i + 1) !== '"id"') continue;
      const value = /^\s*:\s*(-?\d+)(?=\s*[,}])/.exec(json.slice(i + 1, i + 64));
      if (value) found = value[1];
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return found;
}

/** The line's id; an integer too large for a number is given back as its digits, in a string. */
function lineIdOf(post: Record<string, unknown>, json: string): string | number | undefined {
  const id = idOf(post.id);
  if (typeof id !== 'number' || Number.isSafeInteger(id) || !Number.isInteger(id)) return id;
  return rawIdNumber(json) ?? id;
}

/** `text` cut to {@link MAX_FIELD_LENGTH} units, never between the two halves of a surrogate pair. */
function cut(text: string): string {
  if (text.length <= MAX_FIELD_LENGTH) return text;
  const high = text.charCodeAt(MAX_FIELD_LENGTH - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? MAX_FIELD_LENGTH - 1 : MAX_FIELD_LENGTH);
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function classifyLine(classifier: PostClassifier, raw: string, line: number): LineResult {
  const trimmed = raw.replace(/^\uFEFF/, '').trim();
  if (trimmed.length === 0) return { line, ok: false, error: { code: 'invalid_post', message: 'empty line' } };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { line, ok: false, error: { code: 'invalid_json', message: (err as Error).message } };
  }
  if (typeof value === 'string') {
    return { line, ok: true, ...(value.length > MAX_FIELD_LENGTH ? { truncated: true as const } : {}), ...classifier.classify({ text: cut(value) }) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, ok: false, error: { code: 'invalid_post', message: `a line must be a JSON object with "text" (or a JSON string), not ${typeName(value)}` } };
  }
  const post = value as Record<string, unknown>;
  const id = lineIdOf(post, trimmed);
  const withId = id !== undefined ? { id } : {};
  const text = [post.text, post.content, post.body].find((v) => typeof v === 'string') as string | undefined;
  const title = post.title;
  if (text === undefined) {
    const given = (['text', 'content', 'body'] as const).find((k) => post[k] !== undefined && post[k] !== null);
    const message = given ? `"${given}" must be a string, not ${typeName(post[given])}` : 'missing "text" (a string)';
    return { line, ...withId, ok: false, error: { code: 'invalid_post', message } };
  }
  if (title !== undefined && title !== null && typeof title !== 'string') {
    return { line, ...withId, ok: false, error: { code: 'invalid_post', message: `"title" must be a string, not ${typeName(title)}` } };
  }
  const truncated = text.length > MAX_FIELD_LENGTH || (typeof title === 'string' && title.length > MAX_FIELD_LENGTH);
  const result = classifier.classify({ text: cut(text), ...(typeof title === 'string' ? { title: cut(title) } : {}) });
  return { line, ...withId, ok: true, ...(truncated ? { truncated: true as const } : {}), ...result };
}

const utf8 = new TextDecoder('utf-8');
let gb18030: TextDecoder | undefined;

/** A line's bytes as text; a line that is not UTF-8 is an error (never decoded with replacement characters). */
export function decodeLine(bytes: Uint8Array): { text: string } | { error: { code: 'invalid_encoding'; message: string } } {
  const bad = firstInvalidUtf8(bytes);
  if (bad < 0) return { text: utf8.decode(bytes) };
  let hint = '';
  try {
    gb18030 ??= new TextDecoder('gb18030', { fatal: true });
    gb18030.decode(bytes);
    hint = '; it reads as GB18030/GBK: convert the input to UTF-8 first (iconv -f GB18030 -t UTF-8)';
  } catch {
    // Neither encoding: say only where UTF-8 breaks.
  }
  return { error: { code: 'invalid_encoding', message: `not UTF-8: invalid byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at byte ${bad + 1} of the line${hint}` } };
}

/** {@link classifyLine} over a line's raw bytes (without its line end). */
export function classifyLineBytes(classifier: PostClassifier, bytes: Uint8Array, line: number): LineResult {
  const decoded = decodeLine(bytes);
  if ('error' in decoded) {
    // The id is usually ASCII even where the text is not: keep it when it reads cleanly.
    let id: string | number | undefined;
    try {
      const value: unknown = JSON.parse(utf8.decode(bytes));
      id = value && typeof value === 'object' ? idOf((value as Record<string, unknown>).id) : undefined;
    } catch {
      id = undefined;
    }
    return { line, ...(id !== undefined && !String(id).includes('\uFFFD') ? { id } : {}), ok: false, error: decoded.error };
  }
  return classifyLine(classifier, decoded.text, line);
}

/**
 * The lines of a byte stream: split at LF only (a CR ends a line only right before its LF), so a
 * bare CR inside a record never splits it; a last line without LF still counts, an empty tail does not.
 */
export async function* splitLines(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  let pending: Buffer[] = [];
  const line = (tail: Buffer) => {
    const all = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    return all.length > 0 && all[all.length - 1] === 0x0d ? all.subarray(0, all.length - 1) : all;
  };
  for await (const chunk of input) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      yield line(buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > 0) pending.push(buf);
  }
  if (pending.length > 0) yield line(Buffer.alloc(0));
}
