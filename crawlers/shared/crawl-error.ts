import { QianshaoError } from '../../core/errors.js';

/**
 * Why a page or a whole crawl failed. The class decides retry and backoff; the Chinese cause is what
 * the positions-health view shows to staff.
 */
export const CRAWL_ERROR_CLASSES = {
  unreachable: { cause: '无法连接网站（网络不通、域名无法解析或连接被拒绝）', retryable: true },
  timeout: { cause: '网站响应超时', retryable: true },
  blocked: { cause: '被网站拦截或限流（403/429 或出现验证码），已暂停采集并逐步延长重试间隔', retryable: false },
  'server-error': { cause: '网站服务器出错（5xx）', retryable: true },
  gone: { cause: '页面不存在或已删除（404/410）', retryable: false },
  'http-error': { cause: '网站返回了异常状态码', retryable: false },
  'too-large': { cause: '页面超过大小上限，已截断并放弃', retryable: false },
  'redirect-loop': { cause: '页面重定向过多或形成循环', retryable: false },
  'not-html': { cause: '返回的不是网页（二进制或未知类型内容）', retryable: false },
  decode: { cause: '页面字符编码无法识别', retryable: false },
  parse: { cause: '页面结构无法识别，未能提取内容', retryable: false },
  robots: { cause: '网站 robots.txt 不允许采集该地址', retryable: false },
  'off-site': { cause: '栏目地址被重定向到阵地以外的网站，未作为本阵地内容采集（请核对栏目地址）', retryable: false },
  config: { cause: '阵地配置有误', retryable: false },
  credentials: { cause: '阵地凭据缺失（环境变量未设置）', retryable: false },
  internal: { cause: '采集程序内部错误', retryable: true },
  superseded: { cause: '本次采集失去了阵地的运行锁（进程停顿过久或连接中断），已由另一次采集接替：本次的采集状态未保存，已采集的内容照常送入处理', retryable: false },
} as const;
export type CrawlErrorClass = keyof typeof CRAWL_ERROR_CLASSES;

export class CrawlError extends QianshaoError {
  readonly httpStatus = 502;
  readonly code: CrawlErrorClass;
  readonly retryable: boolean;
  constructor(
    readonly errorClass: CrawlErrorClass,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = errorClass;
    this.retryable = CRAWL_ERROR_CLASSES[errorClass].retryable;
  }

  get humanCause(): string {
    return CRAWL_ERROR_CLASSES[this.errorClass].cause;
  }
}

/** Any thrown value as a CrawlError (an extractor's Error is a parse failure). */
export function toCrawlError(err: unknown): CrawlError {
  if (err instanceof CrawlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && /unknown charset|cannot decode/i.test(message)) return new CrawlError('decode', message, undefined, { cause: err });
  if (err instanceof Error && err.name === 'TimeoutError') return new CrawlError('timeout', message, undefined, { cause: err });
  if (err instanceof QianshaoError && err.code === 'credentials_missing') return new CrawlError('credentials', message, undefined, { cause: err });
  if (err instanceof QianshaoError && err.code === 'secret_host_not_allowed') return new CrawlError('config', message, undefined, { cause: err });
  return new CrawlError(err instanceof Error && !(err instanceof TypeError || err instanceof RangeError) ? 'parse' : 'internal', message, undefined, { cause: err });
}
