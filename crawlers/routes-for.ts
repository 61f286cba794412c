import type { PageSource } from '../core/sources/source.js';
import type { Route } from './shared/crawl-source.js';
import { messageBoardRoutes } from './message-board/routes.js';
import { rssRoutes } from './rss/routes.js';
import { websiteRoutes } from './website/routes.js';

/** The crawl routes of each kind crawled page by page; every kind starts at its LIST label. */
export const ROUTES_BY_KIND: Record<PageSource['kind'], Record<string, Route>> = {
  website: websiteRoutes,
  'message-board': messageBoardRoutes,
  rss: rssRoutes,
};
