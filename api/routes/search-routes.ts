import { Router } from 'express';
import { z } from 'zod';
import { PostSearchQuerySchema } from '../../core/posts/post-search.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { requirePermission } from '../authorize.js';
import { parseBody } from '../parse-body.js';
import { NotFoundError } from '../../core/errors.js';
import type { RouteDoc } from '../openapi/openapi.js';

/** A post id: 32 hex digits (any other id names no post). */
const POST_ID = /^[0-9a-f]{32}$/;

/**
 * `GET /api/posts/search`: full-text search with filters. Highlights come back as offsets into
 * the post's `title`/`text` and as a snippet of `{ text, mark }` parts: the dashboard renders
 * both as text, so nothing a crawled page said is ever interpreted as HTML.
 */
export function searchRoutes(deps: { posts: PostStore }): Router {
  const router = Router();
  router.get('/posts/search', requirePermission('search.read'), async (req, res) => {
    const query = parseBody(PostSearchQuerySchema, req.query);
    res.json(await deps.posts.search(query));
  });
  // One post whole: its deletion mark and earlier wordings (原文 vs 修改后), all as text for the dashboard.
  router.get('/posts/:id', requirePermission('search.read'), async (req, res) => {
    const id = String(req.params.id ?? '');
    if (!POST_ID.test(id)) throw new NotFoundError(`帖文不存在 (post ${id.slice(0, 80)} does not exist)`);
    const post = await deps.posts.get(id);
    if (!post) throw new NotFoundError(`帖文不存在 (post ${id} does not exist)`);
    const { tokens: _tokens, words: _words, ...rest } = post;
    res.json({ post: rest });
  });
  return router;
}

export const searchRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/posts/search', tag: 'posts', summary: '全文检索帖文（筛选、排序、高亮）', query: PostSearchQuerySchema },
  { method: 'get', path: '/posts/:id', tag: 'posts', summary: '帖文全文（删除标记与历次修改）', params: z.object({ id: z.string().regex(POST_ID) }) },
];
