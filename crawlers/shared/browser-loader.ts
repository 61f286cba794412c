import { Configuration, PlaywrightCrawler, RequestQueue, log as crawleeLog, LogLevel } from 'crawlee';
import { MemoryStorage } from '@crawlee/memory-storage';
import { chromium, type Route as PlaywrightRoute } from 'playwright-core';
import { randomUUID } from 'node:crypto';
import { CrawlError } from './crawl-error.js';
import type { PageLoader } from './crawl-source.js';
import type { FetchResult } from './fetch-page.js';

crawleeLog.setLevel(LogLevel.WARNING);

/** Debian's Chromium, never a downloaded one. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface BrowserLoaderOptions {
  timeoutSeconds: number;
  maxConcurrency: number;
  /** Keep a full-page screenshot of each rendered page. */
  screenshot: boolean;
  maxPageBytes: number;
}

type Pending = { resolve(r: FetchResult & { screenshot?: Buffer }): void; reject(e: unknown): void };

/**
 * Renders pages in headless Chromium through crawlee's PlaywrightCrawler, for positions whose lists
 * are written by JavaScript. The crawler runs kept alive; each `load` adds one request and waits for
 * its rendered HTML, so the same frontier, state and routes serve both render modes. Images, fonts
 * and media are not downloaded. Retries are left to the caller.
 */
export async function createBrowserLoader(options: BrowserLoaderOptions): Promise<PageLoader> {
  const config = new Configuration({ persistStorage: false, storageClient: new MemoryStorage({ persistStorage: false, writeMetadata: false }) });
  const queue = await RequestQueue.open(`render-${randomUUID()}`, { config });
  const pending = new Map<string, Pending>();
  const crawler = new PlaywrightCrawler(
    {
      requestQueue: queue,
      keepAlive: true,
      maxRequestRetries: 0,
      maxConcurrency: options.maxConcurrency,
      // The frontier already limits what is asked for; crawlee's autoscaling would only shrink it on a busy machine.
      minConcurrency: options.maxConcurrency,
      navigationTimeoutSecs: options.timeoutSeconds,
      requestHandlerTimeoutSecs: options.timeoutSeconds * 2,
      useSessionPool: false,
      browserPoolOptions: { useFingerprints: false },
      launchContext: { launcher: chromium, launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true } },
      preNavigationHooks: [
        async ({ page }) => {
          await page.route('**/*', (route: PlaywrightRoute) => (['image', 'font', 'media'].includes(route.request().resourceType()) ? route.abort() : route.continue()));
        },
      ],
      async requestHandler({ request, page, response }) {
        const waiter = pending.get(request.uniqueKey);
        if (!waiter) return;
        pending.delete(request.uniqueKey);
        try {
          const status = response?.status() ?? 200;
          if (status === 403 || status === 429) throw new CrawlError('blocked', `${request.url}: ${status}`, status);
          if (status === 404 || status === 410) throw new CrawlError('gone', `${request.url}: ${status}`, status);
          if (status >= 500) throw new CrawlError('server-error', `${request.url}: ${status}`, status);
          // Lists are often filled by XHR after `load`: wait for the network to settle there; detail pages are read at `load`.
          if (request.userData.label !== 'DETAIL') await page.waitForLoadState('networkidle', { timeout: Math.min(5000, options.timeoutSeconds * 1000) }).catch(() => undefined);
          const html = await page.content();
          const body = Buffer.from(html, 'utf8');
          if (body.length > options.maxPageBytes) throw new CrawlError('too-large', `${request.url}: rendered page larger than ${options.maxPageBytes} bytes`);
          const screenshot = options.screenshot ? await page.screenshot({ fullPage: true, type: 'png' }) : undefined;
          waiter.resolve({ status: 'ok', url: page.url(), httpStatus: status, body, contentType: 'text/html; charset=utf-8', validators: {}, ...(screenshot ? { screenshot } : {}) });
        } catch (err) {
          waiter.reject(err);
        }
      },
      failedRequestHandler({ request }, error) {
        const waiter = pending.get(request.uniqueKey);
        pending.delete(request.uniqueKey);
        waiter?.reject(/timeout/i.test(error.message) ? new CrawlError('timeout', `${request.url}: ${error.message}`) : new CrawlError('unreachable', `${request.url}: ${error.message}`));
      },
    },
    config,
  );
  const running = crawler.run().catch(() => undefined);

  return {
    load(url, label) {
      const uniqueKey = randomUUID();
      return new Promise((resolve, reject) => {
        pending.set(uniqueKey, { resolve, reject });
        crawler.addRequests([{ url, uniqueKey, userData: { label } }]).catch((err: unknown) => {
          pending.delete(uniqueKey);
          reject(err);
        });
      });
    },
    async close() {
      for (const [, waiter] of pending) waiter.reject(new CrawlError('internal', 'the browser was closed'));
      pending.clear();
      crawler.stop();
      await crawler.teardown();
      await running;
      await queue.drop().catch(() => undefined);
    },
  };
}
