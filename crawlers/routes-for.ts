import type { PageSource } from '../core/sources/source.js';
import type { CollectedItem } from '../core/posts/collected-item.js';
import { createBrowserLoader } from './shared/browser-loader.js';
import type { CrawlState } from './shared/crawl-state.js';
import { crawlSource, type CrawlReport, type Route } from './shared/crawl-source.js';
import type { EvidenceStore } from './shared/evidence-store.js';
import { messageBoardRoutes } from './message-board/routes.js';
import { rssRoutes } from './rss/routes.js';
import { websiteRoutes } from './website/routes.js';

/** The crawl routes of each kind crawled page by page; every kind starts at its LIST label. */
export const ROUTES_BY_KIND: Record<PageSource['kind'], Record<string, Route>> = {
  website: websiteRoutes,
  'message-board': messageBoardRoutes,
  rss: rssRoutes,
};

/** What a page kind's crawl gets for one run. */
export interface PageRunOptions {
  state: CrawlState;
  evidence?: EvidenceStore;
  /** Page cap when the source sets none. */
  maxRequests: number;
  timeoutSeconds: number;
  now?: () => Date;
  /** Keep screenshots of browser-rendered pages. */
  screenshot?: boolean;
  onItem(item: CollectedItem): Promise<void>;
}

/**
 * One run of a page source (list → detail) through `crawlSource`, fetched over HTTP or, with
 * `render: browser`, rendered in Chromium. Failures of pages are in the report, never thrown.
 */
export async function crawlPageSource(source: PageSource, options: PageRunOptions): Promise<CrawlReport> {
  const timeoutSeconds = source.crawl.timeoutSeconds ?? options.timeoutSeconds;
  const loader =
    source.render === 'browser'
      ? await createBrowserLoader({ timeoutSeconds, maxConcurrency: Math.max(1, source.crawl.perHostConcurrency), screenshot: options.screenshot === true, maxPageBytes: source.crawl.maxPageBytes })
      : undefined;
  return crawlSource(source, { ...options, routes: ROUTES_BY_KIND[source.kind], startLabel: 'LIST', ...(loader ? { loader } : {}) });
}
