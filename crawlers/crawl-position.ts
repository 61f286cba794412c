import type { CollectedItem } from '../core/posts/collected-item.js';
import { InvalidInputError } from '../core/errors.js';
import { isPageSource, type Source, type WechatMpSource, type WeiboSource } from '../core/sources/source.js';
import type { Collector } from './collector.js';
import { ROUTES_BY_KIND } from './routes-for.js';
import { crawlSource, type CrawlReport } from './shared/crawl-source.js';

/** The collectors of kinds read through a platform's API; built once per process (they hold token caches). */
export interface ApiCollectors {
  'wechat-mp'?: Collector<WechatMpSource>;
  weibo?: Collector<WeiboSource>;
}

export interface CrawlPositionOptions {
  onItem(item: CollectedItem): Promise<void>;
  maxRequests: number;
  timeoutSeconds: number;
  collectors: ApiCollectors;
  env?: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
}

/**
 * One crawl of one position, whatever its kind: page kinds through the crawlee runner with their
 * routes, API kinds through their collector. Always ends with a report; what went wrong is in its
 * failures.
 *
 * @throws InvalidInputError for a push source, which is never crawled
 */
export async function crawlPosition(source: Source, options: CrawlPositionOptions): Promise<CrawlReport> {
  const now = options.now ?? (() => new Date());
  if (isPageSource(source)) {
    return crawlSource(source, { routes: ROUTES_BY_KIND[source.kind], startLabel: 'LIST', maxRequests: options.maxRequests, timeoutSeconds: options.timeoutSeconds, onItem: options.onItem, now });
  }
  if (source.kind === 'push') throw new InvalidInputError(`source ${source.id} receives items at POST /api/ingest; it is not crawled`, 'source_not_crawled');
  const report: CrawlReport = { sourceId: source.id, startedAt: now().toISOString(), finishedAt: '', pagesFetched: 0, itemsEmitted: 0, failures: [] };
  const ctx = {
    timeoutSeconds: options.timeoutSeconds,
    now,
    env: options.env ?? process.env,
    emit: async (item: Omit<CollectedItem, 'sourceId' | 'collectedAt'>) => {
      await options.onItem({ ...item, sourceId: source.id, collectedAt: now().toISOString() });
      report.itemsEmitted++;
    },
  };
  const outcome =
    source.kind === 'wechat-mp'
      ? await options.collectors['wechat-mp']?.(source, ctx)
      : await options.collectors.weibo?.(source, ctx);
  if (outcome) {
    report.pagesFetched = outcome.requests;
    report.failures.push(...outcome.failures);
  } else {
    report.failures.push({ url: '', error: `no collector for kind ${source.kind} in this process`, code: 'collector_missing', cause: `本进程未配置“${source.kind}”类阵地的采集器` });
  }
  report.finishedAt = now().toISOString();
  return report;
}
