import { HttpCrawler, Configuration, RequestQueue, log as crawleeLog, LogLevel, type HttpCrawlingContext } from 'crawlee';
import { MemoryStorage } from '@crawlee/memory-storage';
import { randomUUID } from 'node:crypto';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import type { PageSource } from '../../core/sources/source.js';
import { decodeHtml } from './decode.js';

/** What a route sees: the decoded page, plus ways to follow links and emit items. */
// Crawl outcomes are reported by our own logger (one line per crawl); crawlee's chatter stays out.
crawleeLog.setLevel(LogLevel.WARNING);

export interface PageContext {
  source: PageSource;
  url: string;
  label: string;
  html: string;
  /** Follows links inside the source's allowed hosts; others are dropped. */
  enqueue(urls: readonly string[], label: string): Promise<void>;
  emit(item: Omit<CollectedItem, 'sourceId' | 'collectedAt'>): Promise<void>;
}

export type Route = (page: PageContext) => Promise<void>;

export interface CrawlFailure {
  url: string;
  error: string;
  /** Stable code of the failure class (`wechat_permission_denied`, `weibo_login_required`, …). */
  code?: string;
  /** What a duty officer should read, in Chinese (登录失效, 触发风控, 接口无权限 …). */
  cause?: string;
  /** The platform refused us (login, risk control, rate limit, permission): back off, do not hammer. */
  blocked?: boolean;
}

export interface CrawlReport {
  sourceId: string;
  startedAt: string;
  finishedAt: string;
  pagesFetched: number;
  itemsEmitted: number;
  failures: CrawlFailure[];
}

export interface CrawlOptions {
  routes: Record<string, Route>;
  startLabel: string;
  onItem(item: CollectedItem): Promise<void>;
  maxRequests: number;
  timeoutSeconds: number;
  now?: () => Date;
}

/**
 * Runs one crawl of one source with crawlee's HttpCrawler and in-memory storage (nothing is written
 * to ./storage). Bodies are taken as raw bytes and decoded by `decodeHtml`, because crawlee only
 * honours the Content-Type charset and many government pages declare GBK in a `<meta>` tag alone;
 * forcing a Node-native encoding (latin1) stops crawlee from transcoding the stream itself.
 */
export async function crawlSource(source: PageSource, options: CrawlOptions): Promise<CrawlReport> {
  const now = options.now ?? (() => new Date());
  const config = new Configuration({ persistStorage: false, storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }) });
  const queue = await RequestQueue.open(`crawl-${source.id}-${randomUUID()}`, { config });
  const allowed = new Set(source.allowedHosts);
  const report: CrawlReport = { sourceId: source.id, startedAt: now().toISOString(), finishedAt: '', pagesFetched: 0, itemsEmitted: 0, failures: [] };

  const crawler = new HttpCrawler(
    {
      requestQueue: queue,
      maxRequestsPerCrawl: options.maxRequests,
      navigationTimeoutSecs: options.timeoutSeconds,
      requestHandlerTimeoutSecs: options.timeoutSeconds * 2,
      maxRequestRetries: 2,
      forceResponseEncoding: 'latin1',
      additionalMimeTypes: ['application/xhtml+xml', 'text/xml', 'application/xml', 'application/rss+xml', 'application/atom+xml'],
      async requestHandler(ctx: HttpCrawlingContext) {
        const label = ctx.request.label ?? options.startLabel;
        const route = options.routes[label];
        if (!route) throw new Error(`no route for label ${label}`);
        const raw = Buffer.isBuffer(ctx.body) ? ctx.body : Buffer.from(ctx.body, 'latin1');
        const { html } = decodeHtml(raw, String(ctx.response.headers['content-type'] ?? ''));
        report.pagesFetched++;
        await route({
          source,
          url: ctx.request.loadedUrl ?? ctx.request.url,
          label,
          html,
          enqueue: async (urls, nextLabel) => {
            const inside = urls.filter((u) => allowed.has(new URL(u).host));
            if (inside.length > 0) await ctx.addRequests(inside.map((u) => ({ url: u, label: nextLabel })));
          },
          emit: async (item) => {
            await options.onItem({ ...item, sourceId: source.id, collectedAt: now().toISOString() });
            report.itemsEmitted++;
          },
        });
      },
      failedRequestHandler({ request }, error) {
        report.failures.push({ url: request.url, error: error.message });
      },
    },
    config,
  );
  try {
    await crawler.run(source.entryPoints.map((url) => ({ url, label: options.startLabel })));
  } finally {
    await queue.drop();
    await crawler.teardown();
  }
  report.finishedAt = now().toISOString();
  return report;
}
