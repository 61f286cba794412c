import { Router } from 'express';
import { PostSearchQuerySchema } from '../../core/posts/post-search.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { requirePermission } from '../authorize.js';
import { parseBody } from '../parse-body.js';

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
  return router;
}
