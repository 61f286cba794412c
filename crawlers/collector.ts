import type { CollectedItem } from '../core/posts/collected-item.js';
import type { Source } from '../core/sources/source.js';
import type { CrawlFailure } from './shared/crawl-source.js';

/**
 * A kind collected through a platform's API (WeChat official account, Weibo) rather than page by
 * page. A collector never throws for what the platform answers: a refused login, risk control, a
 * rate limit or a missing permission is a failure in its outcome, with a stable `code`, a Chinese
 * `cause` and `blocked: true`, so that source health records it instead of an empty crawl.
 */
export interface CollectContext {
  emit(item: Omit<CollectedItem, 'sourceId' | 'collectedAt'>): Promise<void>;
  /** Per-request timeout. */
  timeoutSeconds: number;
  now(): Date;
  /** Where credentials named by `…Env` fields are read (process.env in production). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface CollectOutcome {
  /** HTTP requests made. */
  requests: number;
  failures: CrawlFailure[];
}

export type Collector<S extends Source = Source> = (source: S, ctx: CollectContext) => Promise<CollectOutcome>;
