import { CrawlError } from './crawl-error.js';

export const USER_AGENT = 'Mozilla/5.0 (compatible; QianshaoBot/0.1; position monitoring of the unit\'s own sites)';

/** Validators from the last fetch of a URL, sent back for a conditional GET. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
  validators?: Validators;
  /** `page` refuses binary bodies; `file` (attachments) takes any bytes. */
  expect: 'page' | 'file';
  maxRedirects?: number;
  headers?: Record<string, string>;
}

export type FetchResult =
  | { status: 'not-modified'; url: string }
  | { status: 'ok'; url: string; httpStatus: number; body: Buffer; contentType: string; validators: Validators };

const PAGE_TYPES = /^(text\/|application\/(xhtml\+xml|xml|rss\+xml|atom\+xml|json|ld\+json|javascript)|$)/i;
/** Short pages with these words are a block page, not content (验证码, 访问过于频繁, WAF pages). */
const CAPTCHA = /验证码|滑动验证|人机验证|安全验证|访问过于频繁|访问频率过快|请求过于频繁|访问被拒绝|captcha|are you a robot|access denied/i;

/** True when decoded page text reads as a block or verification page rather than content. */
export function looksLikeBlockPage(text: string): boolean {
  return text.length < 20_000 && CAPTCHA.test(text);
}

function looksBinary(head: Buffer): boolean {
  if (head.length === 0) return false;
  const magic = head.subarray(0, 4).toString('latin1');
  if (magic.startsWith('%PDF') || magic === 'PK\u0003\u0004' || magic === '\u00d0\u00cf\u0011\u00e0' || magic.startsWith('GIF8') || magic.startsWith('\u0089PNG') || magic.startsWith('\u00ff\u00d8\u00ff')) return true;
  const sample = head.subarray(0, 1024);
  return sample.includes(0) && !(sample[0] === 0xff && sample[1] === 0xfe) && !(sample[0] === 0xfe && sample[1] === 0xff);
}

async function readCapped(res: Response, maxBytes: number, url: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new CrawlError('too-large', `${url}: ${declared} bytes declared, more than the ${maxBytes}-byte limit`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new CrawlError('too-large', `${url}: cut off after ${maxBytes} bytes (the page is larger than the limit)`);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, size);
}

function networkError(err: unknown, url: string, timeoutMs: number): CrawlError {
  if (err instanceof CrawlError) return err;
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new CrawlError('timeout', `${url}: no complete answer within ${timeoutMs} ms`, undefined, { cause: err });
  const code = e?.cause?.code ?? '';
  return new CrawlError('unreachable', `${url}: ${code || e?.cause?.message || e?.message || String(err)}`, undefined, { cause: err });
}

/**
 * One HTTP GET as a polite crawler does it: conditional (ETag / Last-Modified), a timeout that covers
 * the whole body (slow-drip servers included), a byte cap that cuts huge bodies off, redirects
 * followed by hand so loops and long chains end with an error, and the block signals (403, 429, a
 * captcha page) told apart from other failures.
 *
 * @throws CrawlError with the class that decides retry and backoff
 */
export async function fetchPage(url: string, options: FetchOptions): Promise<FetchResult> {
  const maxRedirects = options.maxRedirects ?? 5;
  const signal = AbortSignal.timeout(options.timeoutMs);
  const visited = new Set<string>();
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      visited.add(current);
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: options.expect === 'page' ? 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5' : '*/*', 'accept-language': 'zh-CN,zh;q=0.9', ...options.headers };
      // A redirect to another origin does not take the source's credentials along (as browsers do).
      if (hop > 0 && new URL(current).origin !== new URL(url).origin) {
        for (const name of Object.keys(headers)) if (/^(cookie|authorization)$/i.test(name)) delete headers[name];
      }
      if (hop === 0 && options.validators?.etag) headers['if-none-match'] = options.validators.etag;
      if (hop === 0 && options.validators?.lastModified) headers['if-modified-since'] = options.validators.lastModified;
      const res = await fetch(current, { headers, redirect: 'manual', signal });
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await res.body?.cancel().catch(() => undefined);
        const location = res.headers.get('location');
        if (!location) throw new CrawlError('http-error', `${current}: ${res.status} without a Location`, res.status);
        const next = new URL(location, current).toString();
        if (visited.has(next)) throw new CrawlError('redirect-loop', `${url}: redirect loop through ${next}`, res.status);
        if (hop + 1 > maxRedirects) throw new CrawlError('redirect-loop', `${url}: more than ${maxRedirects} redirects`, res.status);
        if (!/^https?:$/.test(new URL(next).protocol)) throw new CrawlError('http-error', `${current}: redirect to ${new URL(next).protocol} refused`, res.status);
        current = next;
        continue;
      }
      if (res.status === 304) {
        await res.body?.cancel().catch(() => undefined);
        return { status: 'not-modified', url: current };
      }
      if (res.status === 403 || res.status === 429) {
        await res.body?.cancel().catch(() => undefined);
        throw new CrawlError('blocked', `${current}: ${res.status}${res.headers.get('retry-after') ? ` (Retry-After ${res.headers.get('retry-after')})` : ''}`, res.status);
      }
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel().catch(() => undefined);
        throw new CrawlError('gone', `${current}: ${res.status}`, res.status);
      }
      if (res.status >= 500) {
        await res.body?.cancel().catch(() => undefined);
        throw new CrawlError('server-error', `${current}: ${res.status}`, res.status);
      }
      if (res.status !== 200 && res.status !== 203) {
        await res.body?.cancel().catch(() => undefined);
        throw new CrawlError('http-error', `${current}: ${res.status}`, res.status);
      }
      const contentType = res.headers.get('content-type') ?? '';
      if (options.expect === 'page' && !PAGE_TYPES.test(contentType.trim())) {
        await res.body?.cancel().catch(() => undefined);
        throw new CrawlError('not-html', `${current}: ${contentType} is not a web page`);
      }
      const body = await readCapped(res, options.maxBytes, current);
      if (options.expect === 'page') {
        if (looksBinary(body)) throw new CrawlError('not-html', `${current}: binary content${contentType ? ` sent as ${contentType}` : ''}`);
      }
      const validators: Validators = {};
      const etag = res.headers.get('etag');
      const lastModified = res.headers.get('last-modified');
      if (etag) validators.etag = etag;
      if (lastModified) validators.lastModified = lastModified;
      return { status: 'ok', url: current, httpStatus: res.status, body, contentType, validators };
    }
  } catch (err) {
    throw networkError(err, current, options.timeoutMs);
  }
}
