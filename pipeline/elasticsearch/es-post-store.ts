import type { Client, estypes } from '@elastic/elasticsearch';
import type { IndexedPost } from '../../core/posts/post.js';
import {
  rangesFromMarkedText,
  snippetOf,
  type PostSearchHit,
  type PostSearchQuery,
  type PostSearchResult,
} from '../../core/posts/post-search.js';
import type { BulkIndexer } from './bulk-indexer.js';
import { translateEsError } from './es-client.js';
import { monthlyPostsIndex } from './indices.js';

/**
 * Where posts live. Port: upsert is durable when it resolves; reads are near-real-time except
 * `get` with the index a write returned. Aggregations for dashboards are left out (their own port).
 */
export interface PostStore {
  /**
   * Writes the post where it already lives (`home`, from the caller's memory or `locate`), or into
   * the monthly index of its time when it is new. Resolves with that index once the document is
   * durably indexed.
   */
  upsert(post: IndexedPost, home?: string): Promise<string>;
  /** The index holding post `id`, if any (near-real-time: a write of the last second may not show). */
  locate(id: string): Promise<string | undefined>;
  /** With `index` (as `upsert` returned) the read is real-time; without, near-real-time over the alias. */
  get(id: string, index?: string): Promise<IndexedPost | undefined>;
  /** Real-time reads of several posts across the alias in one round, in the order of `ids` (missing ones left out). */
  getMany(ids: readonly string[]): Promise<IndexedPost[]>;
  latest(limit: number): Promise<IndexedPost[]>;
  count(): Promise<number>;
  search(query: PostSearchQuery): Promise<PostSearchResult>;
  /** Posts marked deleted per position (删除数) whose deletion was recorded in [from, to). */
  deletionsBySource(from: Date, to: Date): Promise<Record<string, number>>;
  /** Posts collected at or after `since`, newest first, in pages, at most `max` in all (what a rule would have caught). */
  scanSince(since: Date, max: number): AsyncGenerator<PostToScan[]>;
}

/** What re-classifying a stored post needs. */
export type PostToScan = Pick<IndexedPost, 'id' | 'title' | 'text' | 'url' | 'sourceId' | 'kind' | 'collectedAt'>;

const SCAN_FIELDS = ['id', 'title', 'text', 'url', 'sourceId', 'kind', 'collectedAt'];
const SCAN_PAGE = 500;

/** Ids per lookup search (below the 10,000 hits a search may answer). */
const LOOKUPS_PER_SEARCH = 1_000;
const LOOKUP_GATHER_MS = 5;
const OPEN = '\uE000';
const CLOSE = '\uE001';
const LIST_EXCLUDES = ['tokens', 'words', 'versions', 'pastDeletions'];

/**
 * Posts in monthly indices (`<alias>-YYYY.MM`) behind the read alias. Writes go through the shared
 * `BulkIndexer`; the lookup of where an existing post lives is batched into one `ids` query per tick.
 */
export class EsPostStore implements PostStore {
  private lookups = new Map<string, { resolve(index: string | undefined): void; reject(err: Error): void }[]>();
  private lookupScheduled = false;

  constructor(
    private readonly es: Client,
    private readonly alias: string,
    private readonly bulk: BulkIndexer,
  ) {}

  async upsert(post: IndexedPost, home?: string): Promise<string> {
    const index = home ?? monthlyPostsIndex(this.alias, post.at);
    await this.bulk.write({ index, id: post.id, document: post });
    return index;
  }

  /** Batched with every other lookup of the next few milliseconds into one `ids` query. */
  locate(id: string): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.lookups.get(id) ?? [];
      waiting.push({ resolve, reject });
      this.lookups.set(id, waiting);
      if (!this.lookupScheduled) {
        this.lookupScheduled = true;
        // A few milliseconds gather the lookups of every job in flight into one query.
        setTimeout(() => void this.runLookups(), LOOKUP_GATHER_MS);
      }
    });
  }

  private async runLookups(): Promise<void> {
    const batch = this.lookups;
    this.lookups = new Map();
    this.lookupScheduled = false;
    const ids = [...batch.keys()];
    // A search answers at most 10,000 hits: many lookups gathered at once (a backlog after Redis lost its records) go in rounds.
    for (let i = 0; i < ids.length; i += LOOKUPS_PER_SEARCH) {
      const round = ids.slice(i, i + LOOKUPS_PER_SEARCH);
      try {
        const res = await this.es.search({ index: this.alias, size: round.length, _source: false, query: { ids: { values: round } }, ignore_unavailable: true, allow_no_indices: true });
        const found = new Map(res.hits.hits.map((h) => [h._id!, h._index]));
        for (const id of round) for (const w of batch.get(id)!) w.resolve(found.get(id));
      } catch (err) {
        const translated = translateEsError(err, `look up ${round.length} posts`);
        for (const id of round) for (const w of batch.get(id)!) w.reject(translated);
      }
    }
  }

  async get(id: string, index?: string): Promise<IndexedPost | undefined> {
    try {
      if (index) {
        const res = await this.es.get<IndexedPost>({ index, id }, { ignore: [404] });
        return res.found ? res._source : undefined;
      }
      return (await this.getMany([id]))[0];
    } catch (err) {
      throw translateEsError(err, `get post ${id}`);
    }
  }

  async getMany(ids: readonly string[]): Promise<IndexedPost[]> {
    if (ids.length === 0) return [];
    try {
      // A real-time read across the alias's monthly indices: a search would miss a post written in the last second.
      const aliases = (await this.es.indices.getAlias({ name: this.alias }, { ignore: [404] })) as Record<string, unknown>;
      const indices = 'error' in aliases ? [] : Object.keys(aliases);
      if (indices.length === 0) return [];
      const res = await this.es.mget<IndexedPost>({ docs: ids.flatMap((id) => indices.map((index) => ({ _index: index, _id: id }))) });
      const found = new Map<string, IndexedPost>();
      for (const doc of res.docs) if ('found' in doc && doc.found && doc._source && !found.has(doc._id)) found.set(doc._id, doc._source);
      return ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
    } catch (err) {
      throw translateEsError(err, `get ${ids.length} posts`);
    }
  }

  async latest(limit: number): Promise<IndexedPost[]> {
    try {
      const res = await this.es.search<IndexedPost>({
        index: this.alias,
        size: limit,
        sort: [{ collectedAt: 'desc' }],
        _source: { excludes: ['tokens'] },
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list posts');
    }
  }

  async count(): Promise<number> {
    try {
      return (await this.es.count({ index: this.alias, ignore_unavailable: true, allow_no_indices: true })).count;
    } catch (err) {
      throw translateEsError(err, 'count posts');
    }
  }

  async deletionsBySource(from: Date, to: Date): Promise<Record<string, number>> {
    try {
      const res = await this.es.search<unknown, Record<string, estypes.AggregationsStringTermsAggregate>>({
        index: this.alias,
        size: 0,
        query: { range: { 'deleted.at': { gte: from.toISOString(), lt: to.toISOString() } } },
        aggs: { bySource: { terms: { field: 'sourceId', size: 1000 } } },
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      const buckets = res.aggregations?.bySource?.buckets;
      return Object.fromEntries((Array.isArray(buckets) ? buckets : []).map((b) => [String(b.key), b.doc_count]));
    } catch (err) {
      throw translateEsError(err, 'count deleted posts per position');
    }
  }

  async *scanSince(since: Date, max: number): AsyncGenerator<PostToScan[]> {
    let after: estypes.SortResults | undefined;
    let seen = 0;
    while (seen < max) {
      let hits: estypes.SearchHit<PostToScan>[];
      try {
        const res = await this.es.search<PostToScan>({
          index: this.alias,
          size: Math.min(SCAN_PAGE, max - seen),
          _source: SCAN_FIELDS,
          query: { range: { collectedAt: { gte: since.toISOString() } } },
          sort: [{ collectedAt: 'desc' }, { id: 'asc' }],
          ...(after ? { search_after: after } : {}),
          ignore_unavailable: true,
          allow_no_indices: true,
        });
        hits = res.hits.hits;
      } catch (err) {
        throw translateEsError(err, 'scan recent posts');
      }
      if (hits.length === 0) return;
      seen += hits.length;
      after = hits[hits.length - 1]!.sort;
      yield hits.flatMap((h) => (h._source ? [h._source] : []));
      if (!after) return;
    }
  }

  async search(query: PostSearchQuery): Promise<PostSearchResult> {
    const { must, should, highlightQuery } = textClauses(query);
    const filter = filterClauses(query);
    const field = (extra: object = {}) => ({ number_of_fragments: 0, ...extra, ...(highlightQuery ? { highlight_query: highlightQuery } : {}) });
    try {
      const res = await this.es.search<IndexedPost>({
        index: this.alias,
        from: query.offset,
        size: query.limit,
        track_total_hits: 10_000,
        query: { bool: { must, should, filter } },
        sort: query.sort === 'time' || !query.q ? [{ at: 'desc' }, { id: 'asc' }] : ['_score', { at: 'desc' }],
        _source: { excludes: LIST_EXCLUDES },
        ...(highlightQuery
          ? { highlight: { type: 'unified', pre_tags: [OPEN], post_tags: [CLOSE], fields: { title: field(), text: field() } } }
          : {}),
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      const total = res.hits.total;
      const hits = res.hits.hits.flatMap((h): PostSearchHit[] => {
        const post = h._source;
        if (!post) return [];
        const title = rangesFromMarkedText(h.highlight?.title?.[0] ?? post.title, post.title, OPEN, CLOSE) ?? [];
        const text = rangesFromMarkedText(h.highlight?.text?.[0] ?? post.text, post.text, OPEN, CLOSE) ?? [];
        return [{ post, score: h._score ?? null, highlights: { title, text }, snippet: snippetOf(post.text, text) }];
      });
      return {
        total: typeof total === 'number' ? total : (total?.value ?? hits.length),
        totalExact: typeof total === 'number' || total?.relation !== 'gte',
        hits,
      };
    } catch (err) {
      throw translateEsError(err, 'search posts');
    }
  }
}

type QueryContainer = estypes.QueryDslQueryContainer;

/** How `q` matches (see `PostSearchQuerySchema`) and what is highlighted: phrases of the query, never single characters. */
function textClauses(query: PostSearchQuery): { must: QueryContainer[]; should: QueryContainer[]; highlightQuery?: QueryContainer } {
  const q = query.q?.trim();
  if (!q) return { must: [], should: [] };
  const words = q.split(/\s+/).filter(Boolean);
  const phrases: QueryContainer = {
    bool: { should: words.flatMap((w) => [{ match_phrase: { title: w } }, { match_phrase: { text: w } }]) },
  };
  switch (query.match) {
    case 'phrase':
      return {
        must: [{ multi_match: { query: q, type: 'phrase', fields: ['title^2', 'text', 'reply.text'] } }],
        should: [],
        highlightQuery: { bool: { should: [{ match_phrase: { title: q } }, { match_phrase: { text: q } }] } },
      };
    case 'words':
      return { must: [{ match: { tokens: { query: q, operator: 'and' } } }], should: [], highlightQuery: phrases };
    case 'any':
      return {
        must: [{ multi_match: { query: q, fields: ['title^2', 'text', 'reply.text'], operator: 'and' } }],
        should: [
          { multi_match: { query: q, type: 'phrase', fields: ['title^3', 'text^2'], boost: 3 } },
          { match: { tokens: { query: q, boost: 2 } } },
        ],
        highlightQuery: phrases,
      };
  }
}

function filterClauses(query: PostSearchQuery): QueryContainer[] {
  const filter: QueryContainer[] = [];
  if (query.sourceIds?.length) filter.push({ terms: { sourceId: query.sourceIds } });
  if (query.kinds?.length) filter.push({ terms: { kind: query.kinds } });
  if (query.domains?.length) filter.push({ terms: { domain: query.domains } });
  if (query.categories?.length) filter.push({ terms: { categories: query.categories } });
  if (query.sentiments?.length) filter.push({ terms: { 'sentiment.label': query.sentiments } });
  if (query.minLevel !== undefined) filter.push({ range: { level: { lte: query.minLevel } } });
  if (query.eventId) filter.push({ term: { eventId: query.eventId } });
  if (query.changes?.length) {
    const field = { deleted: 'deleted.at', edited: 'editedAt' } as const;
    filter.push({ bool: { should: query.changes.map((c) => ({ exists: { field: field[c] } })), minimum_should_match: 1 } });
  }
  if (query.from || query.to) filter.push({ range: { [query.timeField ?? 'at']: { ...(query.from ? { gte: query.from } : {}), ...(query.to ? { lt: query.to } : {}) } } });
  if (query.unanswered) filter.push({ bool: { must_not: [{ exists: { field: 'reply.text' } }] } });
  return filter;
}
