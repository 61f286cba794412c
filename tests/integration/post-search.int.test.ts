import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { isolation } from '../support/isolation.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { PostSearchQuerySchema } from '../../core/posts/post-search.js';
import type { IndexedPost } from '../../core/posts/post.js';
import { InvalidInputError } from '../../core/errors.js';

function post(id: string, over: Partial<IndexedPost> = {}): IndexedPost {
  const text = over.text ?? '今天天气很好';
  return {
    id,
    sourceId: 'demo-website',
    kind: 'comment',
    url: `http://127.0.0.1/${id}`,
    title: '',
    text,
    collectedAt: '2026-11-20T08:00:00.000Z',
    at: '2026-11-20T08:00:00.000Z',
    contentHash: `h-${id}`,
    tokens: text.split('').join(' '),
    words: [],
    keywords: [],
    hits: [],
    terms: [],
    categories: [],
    indexedAt: '2026-11-20T08:00:01.000Z',
    ...over,
  };
}

describe('posts in monthly indices behind a read alias, searched with highlights and filters', () => {
  const iso = isolation();
  const es = new Client({ node: iso.esUrl });
  const names = indexNames(iso.indexPrefix);
  const bulk = new BulkIndexer(es, { flushMs: 5 });
  const store = new EsPostStore(es, names.posts, bulk);
  const search = (q: Record<string, unknown>) => store.search(PostSearchQuerySchema.parse(q));

  beforeAll(async () => {
    await ensureIndices(es, names);
    await Promise.all([
      store.upsert(
        post('p-oct', {
          title: '城管暴力执法引发不满',
          text: '网友反映城关镇城管在菜市场暴力执法<script>alert(1)</script>，请县里调查。',
          tokens: '网友 反映 城关镇 城管 在 菜市场 暴力执法 < script > alert ( 1 ) < / script > ， 请 县里 调查 。',
          at: '2026-10-05T08:00:00.000Z',
          level: 2,
          terms: ['暴力执法'],
          categories: ['敏感词'],
        }),
      ),
      store.upsert(post('p-nov', { text: '暴力和执法是两回事，不要混为一谈', tokens: '暴力 和 执法 是 两回事 ， 不要 混为一谈', sourceId: 'demo-board', kind: 'message' })),
      store.upsert(post('p-other', { text: '县教育局发布秋季招生通知', tokens: '县 教育局 发布 秋季 招生 通知', kind: 'article' })),
    ]);
    await es.indices.refresh({ index: names.posts });
  });

  afterAll(async () => {
    await es.close();
    await iso.cleanup();
  });

  it('writes each post to the index of its month and reads all of them through the alias', async () => {
    const oct = await es.count({ index: `${names.posts}-2026.10` });
    const nov = await es.count({ index: `${names.posts}-2026.11` });
    expect([oct.count, nov.count]).toEqual([1, 2]);
    expect(await store.count()).toBe(3);
    const alias = await es.indices.getAlias({ name: names.posts });
    expect(Object.keys(alias)).toEqual(expect.arrayContaining([`${names.posts}-2026.10`, `${names.posts}-2026.11`]));
  });

  it('keeps an edited post in the index it first went to, whether the caller remembers it or not', async () => {
    // Edited years later: written where it lives (looked up by id), not into the month of the edit.
    // (Not the current month: ensureIndices creates that one at start.)
    const found = await store.locate('p-oct');
    expect(found).toBe(`${names.posts}-2026.10`);
    expect(await store.locate('never-written')).toBeUndefined();
    const where = await store.upsert(post('p-oct', { text: '已编辑', at: '2031-01-02T00:00:00.000Z', collectedAt: '2031-01-02T00:00:00.000Z' }), found);
    expect(where).toBe(`${names.posts}-2026.10`);
    const again = await store.upsert(post('p-oct', { text: '再次编辑', at: '2031-01-03T00:00:00.000Z' }), where);
    expect(again).toBe(where);
    expect(await es.indices.exists({ index: `${names.posts}-2031.01` })).toBe(false);
    expect((await store.get('p-oct', where))?.text).toBe('再次编辑');
    // Restore the searchable text for the other tests.
    await store.upsert(
      post('p-oct', {
        title: '城管暴力执法引发不满',
        text: '网友反映城关镇城管在菜市场暴力执法<script>alert(1)</script>，请县里调查。',
        tokens: '网友 反映 城关镇 城管 在 菜市场 暴力执法 < script > alert ( 1 ) < / script > ， 请 县里 调查 。',
        at: '2026-10-05T08:00:00.000Z',
        level: 2,
        terms: ['暴力执法'],
        categories: ['敏感词'],
      }),
      where,
    );
    await es.indices.refresh({ index: names.posts });
    expect(await store.count()).toBe(3);
  });

  it('finds every character (recall), ranks the exact phrase first, and highlights it as offsets', async () => {
    const res = await search({ q: '暴力执法' });
    expect(res.hits.map((h) => h.post.id)).toEqual(['p-oct', 'p-nov']);
    const top = res.hits[0]!;
    expect(top.highlights.text.map((r) => top.post.text.slice(r.start, r.end))).toEqual(['暴力执法']);
    expect(top.highlights.title.map((r) => top.post.title.slice(r.start, r.end))).toEqual(['暴力执法']);
    // Hostile markup stays plain text inside the snippet parts; nothing is turned into HTML.
    expect(top.snippet.map((p) => p.text).join('')).toContain('<script>alert(1)</script>');
    expect(top.snippet.filter((p) => p.mark).map((p) => p.text)).toEqual(['暴力执法']);
    expect((top.post as Record<string, unknown>).tokens).toBeUndefined();
  });

  it('phrase mode wants the verbatim text; words mode wants whole jieba words', async () => {
    expect((await search({ q: '暴力执法', match: 'phrase' })).hits.map((h) => h.post.id)).toEqual(['p-oct']);
    expect((await search({ q: '执法', match: 'words' })).hits.map((h) => h.post.id)).toEqual(['p-nov']);
    expect((await search({ q: '暴力执法', match: 'words' })).hits.map((h) => h.post.id)).toEqual(['p-oct']);
  });

  it.each([
    // [filters, expected ids]
    [{ sourceIds: 'demo-board' }, ['p-nov']],
    [{ kinds: 'article,message' }, ['p-nov', 'p-other']],
    [{ minLevel: '2' }, ['p-oct']],
    [{ categories: '敏感词' }, ['p-oct']],
    [{ from: '2026-11-01T00:00:00Z' }, ['p-nov', 'p-other']],
    [{ to: '2026-11-01T00:00:00Z' }, ['p-oct']],
    [{ sentiments: 'negative' }, []],
  ])('filters %j', async (filters, ids) => {
    const res = await search({ ...filters, sort: 'time' });
    expect(res.hits.map((h) => h.post.id).sort()).toEqual([...ids].sort());
    expect(res.total).toBe(ids.length);
  });

  it('a document Elasticsearch rejects fails alone with InvalidInputError; its batch mates are indexed', async () => {
    const results = await Promise.allSettled([
      store.upsert(post('good-1')),
      // `level` is a byte: Elasticsearch refuses the document (mapper_parsing_exception).
      store.upsert({ ...post('poison'), level: 'red' as unknown as 1 }),
      store.upsert(post('good-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason as InvalidInputError;
    expect(reason).toBeInstanceOf(InvalidInputError);
    expect(reason.code).toBe('document_rejected');
  });

  it('moves a pre-monthly concrete posts index into monthly indices behind the alias, losing nothing', async () => {
    const legacy = indexNames(`${iso.indexPrefix}-legacy`);
    await es.indices.create({ index: legacy.posts });
    await es.index({ index: legacy.posts, id: 'old-1', document: { id: 'old-1', text: '旧帖文', collectedAt: '2026-09-03T00:00:00.000Z' }, refresh: true });
    await es.index({ index: legacy.posts, id: 'old-2', document: { id: 'old-2', text: '旧帖文二', publishedAt: '2026-08-01T00:00:00.000Z', collectedAt: '2026-09-03T00:00:00.000Z' }, refresh: true });
    await ensureIndices(es, legacy);
    await es.indices.refresh({ index: legacy.posts });
    expect(await es.indices.existsAlias({ name: legacy.posts })).toBe(true);
    const moved = await es.search<{ at: string }>({ index: legacy.posts, query: { ids: { values: ['old-1', 'old-2'] } } });
    expect(moved.hits.hits.map((h) => [h._id, h._index]).sort()).toEqual([
      ['old-1', `${legacy.posts}-2026.09`],
      ['old-2', `${legacy.posts}-2026.08`],
    ]);
    expect(moved.hits.hits.find((h) => h._id === 'old-2')?._source?.at).toBe('2026-08-01T00:00:00.000Z');

    const empty = indexNames(`${iso.indexPrefix}-empty`);
    await es.indices.create({ index: empty.posts });
    await ensureIndices(es, empty);
    expect(await es.indices.existsAlias({ name: empty.posts })).toBe(true);
    // Starting again over the migrated layout changes nothing.
    await ensureIndices(es, legacy);
    expect((await es.count({ index: legacy.posts })).count).toBe(2);
  });
});
