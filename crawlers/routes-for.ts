import { resolveCredentials, type PageSource } from '../core/sources/source.js';
import type { SecretHosts } from '../core/config/secret-hosts.js';
import type { CollectedItem } from '../core/posts/collected-item.js';
import { createBrowserLoader } from './shared/browser-loader.js';
import type { CrawlState } from './shared/crawl-state.js';
import { crawlSource, type CrawlReport, type Route } from './shared/crawl-source.js';
import type { EvidenceStore } from './shared/evidence-store.js';
import { messageBoardRoutes } from './message-board/routes.js';
import { rssRoutes } from './rss/routes.js';
import { LIST_ROWS } from './website/extract.js';
import { websiteRoutes } from './website/routes.js';

/** The crawl routes of each kind crawled page by page; every kind starts at its LIST label. */
export const ROUTES_BY_KIND: Record<PageSource['kind'], Record<string, Route>> = {
  website: websiteRoutes,
  'message-board': messageBoardRoutes,
  rss: rssRoutes,
};

/**
 * Per kind, the selector whose presence says a page's JavaScript has written its content, so the
 * browser need not wait for an idle network (website lists: the list rows).
 */
const READY_SELECTORS: Record<PageSource['kind'], (source: PageSource, label: string) => string | undefined> = {
  website: (source, label) => (label === 'LIST' ? (source.profile?.listItem ?? LIST_ROWS) : undefined),
  'message-board': () => undefined,
  rss: () => undefined,
};

/** The route labels rendered in Chromium under each render mode; the others are fetched over HTTP. */
const RENDERED_LABELS: Record<Exclude<PageSource['render'], 'static'>, ReadonlySet<string> | undefined> = {
  browser: undefined,
  'browser-lists': new Set(['LIST']),
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
  /** Where each bound secret may be sent (`secrets.hosts`). */
  secretHosts?: SecretHosts;
}

/**
 * One run of a page source (list → detail) through `crawlSource`, fetched over HTTP or rendered in
 * Chromium: every page with `render: browser`, only list pages with `render: browser-lists` (lists
 * written by JavaScript, detail pages plain HTML). Failures of pages are in the report, never thrown.
 */
export async function crawlPageSource(source: PageSource, options: PageRunOptions): Promise<CrawlReport> {
  const timeoutSeconds = source.crawl.timeoutSeconds ?? options.timeoutSeconds;
  if (source.render === 'static') return crawlSource(source, { ...options, routes: ROUTES_BY_KIND[source.kind], startLabel: 'LIST' });
  const renderedLabels = RENDERED_LABELS[source.render];
  const loader = await createBrowserLoader({
    timeoutSeconds,
    maxConcurrency: Math.max(1, source.crawl.perHostConcurrency),
    screenshot: options.screenshot === true,
    maxPageBytes: source.crawl.maxPageBytes,
    readySelector: (label) => READY_SELECTORS[source.kind](source, label),
    credentials: { ...resolveCredentials(source, process.env, options.secretHosts), hosts: source.allowedHosts },
  });
  return crawlSource(source, { ...options, routes: ROUTES_BY_KIND[source.kind], startLabel: 'LIST', loader, ...(renderedLabels ? { loaderLabels: renderedLabels } : {}) });
}
