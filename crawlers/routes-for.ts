import type { SourceKind } from '../core/sources/source.js';
import type { Route } from './shared/crawl-source.js';
import { messageBoardRoutes } from './message-board/routes.js';
import { websiteRoutes } from './website/routes.js';

/** The crawl routes of each source kind; every kind starts at its LIST label. */
export const ROUTES_BY_KIND: Record<SourceKind, Record<string, Route>> = {
  website: websiteRoutes,
  'message-board': messageBoardRoutes,
};
