import { describe, expect, it } from 'vitest';
import { PostSearchQuerySchema, rangesFromMarkedText, snippetOf } from '../../../core/posts/post-search.js';
import { monthlyPostsIndex } from '../../../pipeline/elasticsearch/indices.js';

const O = '\uE000';
const C = '\uE001';

describe('highlights as offsets', () => {
  it('reads ranges out of a whole-field highlight and merges adjacent ones', () => {
    const text = '城管暴力执法<script>alert(1)</script>暴力';
    const marked = `城管${O}暴${C}${O}力${C}${O}执法${C}<script>alert(1)</script>${O}暴力${C}`;
    expect(rangesFromMarkedText(marked, text, O, C)).toEqual([
      { start: 2, end: 6 },
      { start: 31, end: 33 },
    ]);
  });

  it('refuses ranges when the field itself held a marker character', () => {
    expect(rangesFromMarkedText(`a${O}b${C}`, `a${O}b`, O, C)).toBeUndefined();
  });

  it('counts offsets in UTF-16 units like JavaScript strings (astral characters)', () => {
    const text = '😀暴力执法';
    const r = rangesFromMarkedText(`😀${O}暴力执法${C}`, text, O, C)!;
    expect(text.slice(r[0]!.start, r[0]!.end)).toBe('暴力执法');
  });

  it('cuts a snippet around the first highlight into plain and marked parts', () => {
    const text = `${'前'.repeat(100)}暴力执法${'后'.repeat(100)}`;
    const parts = snippetOf(text, [{ start: 100, end: 104 }], 40);
    expect(parts.map((p) => p.text).join('')).toHaveLength(40);
    expect(parts.filter((p) => p.mark).map((p) => p.text)).toEqual(['暴力执法']);
  });
});

describe('search query', () => {
  it('takes comma-separated filters and defaults', () => {
    expect(PostSearchQuerySchema.parse({ q: ' 暴力执法 ', sourceIds: 'a,b', minLevel: '2' })).toMatchObject({
      q: '暴力执法',
      match: 'any',
      sourceIds: ['a', 'b'],
      minLevel: 2,
      limit: 20,
      offset: 0,
    });
  });

  it.each([
    [{ limit: '1000' }, 'limit'],
    [{ from: 'yesterday' }, 'from'],
    [{ sentiments: 'angry' }, 'sentiments'],
    [{ match: 'regex' }, 'match'],
  ])('rejects %j naming %s', (query, field) => {
    const r = PostSearchQuerySchema.safeParse(query);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path[0]).toBe(field);
  });
});

describe('monthly indices', () => {
  it('names the index by the UTC month of the post time', () => {
    expect(monthlyPostsIndex('qs-posts', '2026-11-30T23:59:59+08:00')).toBe('qs-posts-2026.11');
    expect(monthlyPostsIndex('qs-posts', '2026-12-01T00:00:00Z')).toBe('qs-posts-2026.12');
  });
});
