import type { Client, estypes } from '@elastic/elasticsearch';
import type { IndexedPost } from '../../core/posts/post.js';
import { translateEsError } from './es-client.js';

/** Where posts live. Port: search facets and aggregations for dashboards come with the search issue. */
export interface PostStore {
  upsert(post: IndexedPost): Promise<void>;
  get(id: string): Promise<IndexedPost | undefined>;
  latest(limit: number): Promise<IndexedPost[]>;
  count(): Promise<number>;
  /** Posts collected at or after `since`, newest first, in pages, at most `max` in all (what a rule would have caught). */
  scanSince(since: Date, max: number): AsyncGenerator<PostToScan[]>;
}

/** What re-classifying a stored post needs. */
export type PostToScan = Pick<IndexedPost, 'id' | 'title' | 'text' | 'url' | 'sourceId' | 'kind' | 'collectedAt'>;

const SCAN_FIELDS = ['id', 'title', 'text', 'url', 'sourceId', 'kind', 'collectedAt'];
const SCAN_PAGE = 500;

export class EsPostStore implements PostStore {
  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async upsert(post: IndexedPost): Promise<void> {
    try {
      await this.es.index({ index: this.index, id: post.id, document: post });
    } catch (err) {
      throw translateEsError(err, `index post ${post.id}`);
    }
  }

  async get(id: string): Promise<IndexedPost | undefined> {
    try {
      const res = await this.es.get<IndexedPost>({ index: this.index, id }, { ignore: [404] });
      return res.found ? res._source : undefined;
    } catch (err) {
      throw translateEsError(err, `get post ${id}`);
    }
  }

  async latest(limit: number): Promise<IndexedPost[]> {
    try {
      const res = await this.es.search<IndexedPost>({ index: this.index, size: limit, sort: [{ collectedAt: 'desc' }] });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list posts');
    }
  }

  async count(): Promise<number> {
    try {
      return (await this.es.count({ index: this.index })).count;
    } catch (err) {
      throw translateEsError(err, 'count posts');
    }
  }

  async *scanSince(since: Date, max: number): AsyncGenerator<PostToScan[]> {
    let after: estypes.SortResults | undefined;
    let seen = 0;
    while (seen < max) {
      let hits: estypes.SearchHit<PostToScan>[];
      try {
        const res = await this.es.search<PostToScan>({
          index: this.index,
          size: Math.min(SCAN_PAGE, max - seen),
          _source: SCAN_FIELDS,
          query: { range: { collectedAt: { gte: since.toISOString() } } },
          sort: [{ collectedAt: 'desc' }, { id: 'asc' }],
          ...(after ? { search_after: after } : {}),
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
}
