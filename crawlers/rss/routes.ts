import type { Route } from '../shared/crawl-source.js';
import { extractFeed } from './extract.js';

/** A feed is its own list: every item is emitted from it, no detail page is fetched. */
export const rssRoutes: Record<'LIST', Route> = {
  async LIST(page) {
    const feed = extractFeed(page.html, page.url);
    for (const item of feed.items) await page.emit(item);
  },
};
