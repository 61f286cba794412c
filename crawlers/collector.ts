import type { CollectedItem } from '../core/posts/collected-item.js';
import type { Source } from '../core/sources/source.js';
import type { SecretHosts } from '../core/config/secret-hosts.js';
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
  /** Where each bound secret may be sent (`secrets.hosts`); a collector refuses to send one elsewhere. */
  secretHosts: SecretHosts;
}

/**
 * A listing the collector read to its end this run (every published article, every comment of one
 * post): an item listed under the same scope in an earlier run and missing now was deleted from
 * the position. A listing cut short (a page cap, a failure) is not reported as complete.
 */
export interface CompleteScope {
  /** Stable name of the listing, e.g. `articles` or `comments:weibo:5101234567890101`. */
  scope: string;
  /** Platform ids of the items emitted (or found unchanged) under it. */
  platformIds: string[];
}

export interface CollectOutcome {
  /** HTTP requests made. */
  requests: number;
  failures: CrawlFailure[];
  completeScopes?: CompleteScope[];
}

export type Collector<S extends Source = Source> = (source: S, ctx: CollectContext) => Promise<CollectOutcome>;
