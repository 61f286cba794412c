import { PlatformFailure } from './failure.js';

/** Largest answer read from a platform API or article page. */
export const MAX_ANSWER_BYTES = 10 * 1024 * 1024;

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Final URL after redirects (those are followed only when `redirect: 'follow'`). */
  url: string;
  body: Buffer;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  redirect?: 'follow' | 'manual';
  /**
   * How the request is named in errors: never the URL itself, which may carry an access token or
   * a secret in its query string.
   */
  describe: string;
}

/**
 * One HTTP exchange with a platform, bounded in time and size. Network errors and timeouts become a
 * transient {@link PlatformFailure}; HTTP status codes are left to the caller, which knows what
 * the platform means by them.
 */
export async function httpRequest(url: string, req: HttpRequest): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method ?? 'GET',
      headers: { 'User-Agent': 'Mozilla/5.0 (compatible; Qianshao/0.1; +position-monitoring)', ...req.headers },
      ...(req.body !== undefined ? { body: req.body } : {}),
      redirect: req.redirect ?? 'follow',
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${req.timeoutMs} ms` : (e.cause?.code ?? e.message);
    throw new PlatformFailure(`${req.describe}: ${why}`, 'network_error', `网络异常，无法连接平台接口（${why}）`, false, true);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw new PlatformFailure(`${req.describe}: answer of ${declared} bytes is over the ${MAX_ANSWER_BYTES}-byte limit`, 'answer_too_large', '平台返回内容过大，已拒绝读取', false);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (err) {
        throw new PlatformFailure(`${req.describe}: answer broke off (${(err as Error).message})`, 'network_error', '网络异常，平台返回内容不完整', false, true);
      }
      if (step.done) break;
      size += step.value.length;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel();
        throw new PlatformFailure(`${req.describe}: answer is over the ${MAX_ANSWER_BYTES}-byte limit`, 'answer_too_large', '平台返回内容过大，已拒绝读取', false);
      }
      chunks.push(Buffer.from(step.value));
    }
  }
  return { status: res.status, headers: res.headers, url: res.url || url, body: Buffer.concat(chunks) };
}

/**
 * The JSON of an answer.
 *
 * @throws PlatformFailure (`answer_not_json`) naming the request and the start of what came instead
 */
export function jsonOf(answer: HttpAnswer, describe: string): unknown {
  const text = answer.body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const start = text.slice(0, 80).replace(/\s+/g, ' ');
    throw new PlatformFailure(`${describe}: HTTP ${answer.status}, answer is not JSON ("${start}")`, 'answer_not_json', `平台接口返回了无法识别的内容（HTTP ${answer.status}）`, false);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
