import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { addSourceCookies, authorizeHops } from './browser-credentials.js';
import { CrawlError } from './crawl-error.js';
import type { PageLoader } from './crawl-source.js';
import { USER_AGENT, type FetchResult } from './fetch-page.js';

/** Debian's Chromium, never a downloaded one. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Rendering-only flags: no images are decoded or fetched, no extensions or crash reports. */
const RENDER_FLAGS = ['--blink-settings=imagesEnabled=false', '--disable-extensions', '--disable-breakpad', '--mute-audio', '--disable-dev-shm-usage'];

/**
 * Sub-resources that never change what a page's DOM says: styles, fonts, images, media, documents.
 * Blocked inside Chromium (CDP `Network.setBlockedURLs`), so no request makes a round trip to Node
 * and the HTTP cache stays on for the scripts that do matter.
 */
const BLOCKED_URLS = ['*.css', '*.css?*', '*.woff', '*.woff2', '*.ttf', '*.otf', '*.eot', '*.png', '*.jpg', '*.jpeg', '*.gif', '*.webp', '*.bmp', '*.ico', '*.svg', '*.mp4', '*.mp3', '*.flv', '*.swf', '*.avi', '*.wmv', '*.pdf', '*.doc', '*.docx', '*.xls', '*.xlsx', '*.zip', '*.rar'];

/** What binary bytes look like once Chromium has decoded them as text: NULs, file magic, runs of U+FFFD. */
// eslint-disable-next-line no-control-regex -- NUL and the ZIP magic are exactly what is looked for
const BINARY_TEXT = /\u0000|%PDF-|PK\u0003\u0004|\uFFFD{8,}/;

const PAGE_TYPES = /^(text\/html|application\/xhtml\+xml|text\/plain|text\/xml|application\/xml|$)/i;

export interface BrowserLoaderOptions {
  timeoutSeconds: number;
  /** Pages rendered at once (one reused tab each). */
  maxConcurrency: number;
  /** Keep a full-page screenshot of each rendered page. */
  screenshot: boolean;
  maxPageBytes: number;
  /**
   * A CSS selector per route label whose presence means the page's JavaScript has written its
   * content (a list's rows). Labels without one are read at `load`; when the selector does not
   * show up, the page is read once the network has been idle for 500 ms.
   */
  readySelector?(label: string): string | undefined;
  /**
   * The source's credentials (resolved from env), sent only to its allowed hosts (`host[:port]`):
   * the cookie as browser cookies of those hosts, the authorization header on each request and
   * redirect hop to them, never on a hop to another host (`browser-credentials.ts`).
   */
  credentials?: { cookie?: string; authorization?: string; hosts: readonly string[] };
}

/** Redirects followed for one page, as over HTTP. */
const MAX_REDIRECTS = 5;

/** Longest wait for a list's rows or an idle network after `load`. */
const MAX_SETTLE_MS = 5000;

function navigationError(err: unknown, url: string): CrawlError {
  if (err instanceof CrawlError) return err;
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  if (/ERR_TOO_MANY_REDIRECTS/.test(message)) return new CrawlError('redirect-loop', `${url}: too many redirects`);
  if (/Timeout|ERR_TIMED_OUT/i.test(message)) return new CrawlError('timeout', `${url}: ${message}`);
  if (/Download is starting|ERR_ABORTED/.test(message)) return new CrawlError('not-html', `${url}: not a web page (the browser would download it)`);
  return new CrawlError('unreachable', `${url}: ${message}`);
}

/**
 * Renders pages in one headless Debian Chromium for positions whose lists are written by
 * JavaScript. One browser and one context per crawl run; up to `maxConcurrency` tabs, each reused
 * from page to page (a new tab costs a renderer start). Styles, fonts, images and media are never
 * fetched. A source's cookie and authorization reach its allowed hosts only, hop by hop
 * (`browser-credentials.ts`; no Playwright route continues with headers). Retries, politeness and
 * robots.txt stay with the caller (`crawlSource`).
 */
export async function createBrowserLoader(options: BrowserLoaderOptions): Promise<PageLoader> {
  const timeoutMs = options.timeoutSeconds * 1000;
  const credentials = options.credentials && options.credentials.hosts.length > 0 ? options.credentials : undefined;
  const authorizedHosts = new Set(credentials?.hosts);
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let starting: Promise<BrowserContext> | undefined;
  const idle: Page[] = [];
  let open = 0;
  const waiting: ((page: Page) => void)[] = [];
  let closed = false;

  async function start(): Promise<BrowserContext> {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS, ...RENDER_FLAGS], headless: true, timeout: timeoutMs });
    context = await browser.newContext({ userAgent: USER_AGENT, locale: 'zh-CN', serviceWorkers: 'block', acceptDownloads: false, viewport: { width: 1280, height: 900 } });
    if (credentials?.cookie) await addSourceCookies(context, credentials.cookie, credentials.hosts);
    return context;
  }

  async function newTab(): Promise<Page> {
    starting ??= start();
    const ctx = await starting;
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setBlockedURLs', { urls: BLOCKED_URLS });
    // Blocked URLs never reach the Fetch stage: only requests that are made can pause.
    if (credentials?.authorization) await authorizeHops(cdp, credentials.authorization, authorizedHosts);
    page.setDefaultTimeout(timeoutMs);
    return page;
  }

  async function acquire(): Promise<Page> {
    const page = idle.pop();
    if (page) return page;
    if (open < Math.max(1, options.maxConcurrency)) {
      open++;
      try {
        return await newTab();
      } catch (err) {
        open--;
        throw err;
      }
    }
    return new Promise((resolve) => waiting.push(resolve));
  }

  function release(page: Page, healthy: boolean): void {
    if (!healthy || closed) {
      open--;
      page.close().catch(() => undefined);
      // A waiter gets a fresh tab in place of the one closed.
      const next = waiting.shift();
      if (next && !closed)
        acquire()
          .then(next)
          .catch(() => undefined);
      return;
    }
    const next = waiting.shift();
    if (next) next(page);
    else idle.push(page);
  }

  async function render(page: Page, url: string, label: string): Promise<FetchResult & { screenshot?: Buffer }> {
    // Chromium follows 20 redirects and then hangs on its error page: loops are cut off here, as over HTTP.
    let onRequest: ((request: Request) => void) | undefined;
    const loop = new Promise<never>((_, reject) => {
      const seen = new Set([url]);
      onRequest = (request) => {
        if (!request.isNavigationRequest() || request.frame() !== page.mainFrame() || !request.redirectedFrom()) return;
        if (seen.has(request.url())) reject(new CrawlError('redirect-loop', `${url}: redirect loop through ${request.url()}`));
        else if (seen.size > MAX_REDIRECTS) reject(new CrawlError('redirect-loop', `${url}: more than ${MAX_REDIRECTS} redirects`));
        seen.add(request.url());
      };
      page.on('request', onRequest);
    });
    const navigation = page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    navigation.catch(() => undefined);
    const response = await Promise.race([navigation, loop])
      .catch((err: unknown) => {
        throw navigationError(err, url);
      })
      .finally(() => onRequest && page.off('request', onRequest));
    const status = response?.status() ?? 200;
    if (status === 403 || status === 429) throw new CrawlError('blocked', `${url}: ${status}`, status);
    if (status === 404 || status === 410) throw new CrawlError('gone', `${url}: ${status}`, status);
    if (status >= 500) throw new CrawlError('server-error', `${url}: ${status}`, status);
    if (status >= 400) throw new CrawlError('http-error', `${url}: ${status}`, status);
    const contentType = response?.headers()['content-type'] ?? '';
    if (!PAGE_TYPES.test(contentType.trim())) throw new CrawlError('not-html', `${url}: ${contentType} is not a web page`);
    const declared = Number(response?.headers()['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > options.maxPageBytes) throw new CrawlError('too-large', `${url}: ${declared} bytes declared, more than the ${options.maxPageBytes}-byte limit`);
    const selector = options.readySelector?.(label);
    if (selector) {
      // Rows already there (or written at parse time) are taken at once; XHR-filled lists are waited for.
      await Promise.race([page.waitForSelector(selector, { state: 'attached', timeout: MAX_SETTLE_MS }), page.waitForLoadState('networkidle', { timeout: MAX_SETTLE_MS })]).catch(() => undefined);
    }
    const html = await page.content();
    // Binary bytes sent as text/html (a PDF, an archive) render as garbage text, not as a page.
    if (BINARY_TEXT.test(html.slice(0, 4096))) throw new CrawlError('not-html', `${url}: binary content sent as ${contentType || 'a web page'}`);
    const body = Buffer.from(html, 'utf8');
    if (body.length > options.maxPageBytes) throw new CrawlError('too-large', `${url}: rendered page larger than ${options.maxPageBytes} bytes`);
    const screenshot = options.screenshot ? await page.screenshot({ fullPage: true, type: 'png' }) : undefined;
    return { status: 'ok', url: page.url(), httpStatus: status, body, contentType: 'text/html; charset=utf-8', validators: {}, ...(screenshot ? { screenshot } : {}) };
  }

  return {
    async load(url, label) {
      if (closed) throw new CrawlError('internal', 'the browser was closed');
      const page = await acquire().catch((err: unknown) => {
        throw new CrawlError('internal', `Chromium could not be started: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      });
      let healthy = false;
      try {
        const result = await render(page, url, label);
        healthy = true;
        return result;
      } catch (err) {
        // A page that answered with an HTTP error leaves a usable tab; anything else gets a fresh one.
        healthy = err instanceof CrawlError && ['blocked', 'gone', 'server-error', 'http-error', 'not-html', 'too-large'].includes(err.errorClass) && !page.isClosed();
        throw err;
      } finally {
        release(page, healthy);
      }
    },
    async close() {
      closed = true;
      await starting?.catch(() => undefined);
      for (const page of idle.splice(0)) await page.close().catch(() => undefined);
      await context?.close().catch(() => undefined);
      await browser?.close().catch(() => undefined);
    },
  };
}
