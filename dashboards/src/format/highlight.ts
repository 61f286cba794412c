/** A run of text, marked when it lies inside a matched term. Rendered as text nodes only. */
export interface Segment {
  text: string;
  mark: boolean;
  term?: string;
}

/**
 * Splits `text` at the ranges [start, end). Overlapping ranges merge into the earlier, longer one;
 * ranges outside the text are clipped or dropped, so stale offsets never throw.
 */
export function segmentText(text: string, ranges: readonly { start: number; end: number; term?: string }[]): Segment[] {
  const sorted = ranges
    .map((r) => ({ start: Math.max(0, Math.trunc(r.start)), end: Math.min(text.length, Math.trunc(r.end)), term: r.term }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Segment[] = [];
  let pos = 0;
  for (const r of sorted) {
    if (r.start < pos) {
      if (r.end > pos) {
        const last = out[out.length - 1];
        if (last?.mark) last.text += text.slice(pos, r.end);
        pos = r.end;
      }
      continue;
    }
    if (r.start > pos) out.push({ text: text.slice(pos, r.start), mark: false });
    out.push({ text: text.slice(r.start, r.end), mark: true, term: r.term });
    pos = r.end;
  }
  if (pos < text.length) out.push({ text: text.slice(pos), mark: false });
  return out;
}

/**
 * Elasticsearch highlight fragments come back as strings with marker tags. The search API is asked
 * for private-use markers (U+E000 / U+E001) so no crawled text is ever parsed as markup; this turns
 * a fragment back into segments.
 */
export const HL_PRE = '\uE000';
export const HL_POST = '\uE001';

export function segmentFragment(fragment: string, pre = HL_PRE, post = HL_POST): Segment[] {
  const out: Segment[] = [];
  let rest = fragment;
  while (rest.length > 0) {
    const a = rest.indexOf(pre);
    if (a < 0) {
      out.push({ text: rest, mark: false });
      break;
    }
    if (a > 0) out.push({ text: rest.slice(0, a), mark: false });
    const b = rest.indexOf(post, a + pre.length);
    const end = b < 0 ? rest.length : b;
    const marked = rest.slice(a + pre.length, end);
    const last = out[out.length - 1];
    if (last?.mark) last.text += marked;
    else if (marked) out.push({ text: marked, mark: true });
    rest = b < 0 ? '' : rest.slice(b + post.length);
  }
  return out;
}
