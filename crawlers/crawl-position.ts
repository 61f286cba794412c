import type { CollectedItem } from '../core/posts/collected-item.js';
import { InvalidInputError } from '../core/errors.js';
import { assertSecretBindings } from '../core/config/secret-hosts.js';
import { isPageSource, sourceSentSecrets, type Source, type WechatMpSource, type WeiboSource } from '../core/sources/source.js';
import type { Collector } from './collector.js';
import { crawlPageSource, type PageRunOptions } from './routes-for.js';
import { decideRunOutcome, emptyReport, itemContentHash, type CrawlReport } from './shared/crawl-source.js';
import { emitDeletions } from './shared/crawl-state.js';
import { postIdOf } from '../pipeline/ingest/normalize.js';

/** The collectors of kinds read through a platform's API; built once per process (they hold token caches). */
export interface ApiCollectors {
  'wechat-mp'?: Collector<WechatMpSource>;
  weibo?: Collector<WeiboSource>;
}

export interface CrawlPositionOptions extends PageRunOptions {
  onItem(item: CollectedItem): Promise<void>;
  maxRequests: number;
  timeoutSeconds: number;
  collectors: ApiCollectors;
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The source was last written through the API (`StoredSource.origin`): every secret it names must
   * have a binding in `secrets.hosts` (one named before bindings existed is refused at use too).
   */
  requireSecretBindings?: boolean;
  now?: () => Date;
}

/**
 * One crawl of one position, whatever its kind: page kinds through the crawl runner with their
 * routes, API kinds through their collector. Always ends with a report; what went wrong is in its
 * failures.
 *
 * @throws InvalidInputError for a push source, which is never crawled
 */
export async function crawlPosition(source: Source, options: CrawlPositionOptions): Promise<CrawlReport> {
  const now = options.now ?? (() => new Date());
  // Refused before any request, as a bound secret bound elsewhere is (`secret_host_not_allowed`: the run fails, class `config`).
  if (options.requireSecretBindings) assertSecretBindings(`阵地 ${source.id}`, sourceSentSecrets(source), options.secretHosts ?? {});
  if (isPageSource(source)) {
    return crawlPageSource(source, { ...options, now });
  }
  if (source.kind === 'push') throw new InvalidInputError(`source ${source.id} receives items at POST /api/ingest; it is not crawled`, 'source_not_crawled');
  const report: CrawlReport = emptyReport(source.id, now().toISOString());
  /** Post ids of the items seen this run, by platform id, for deletion by scope. */
  const seen = new Map<string, string>();
  const ctx = {
    timeoutSeconds: options.timeoutSeconds,
    now,
    env: options.env ?? process.env,
    secretHosts: options.secretHosts ?? {},
    emit: async (item: Omit<CollectedItem, 'sourceId' | 'collectedAt'>) => {
      // The same change tracking as page kinds: only new or edited items go on.
      const id = postIdOf({ sourceId: source.id, kind: item.kind, url: item.url, ...(item.platformId ? { platformId: item.platformId } : {}) });
      const hash = itemContentHash(item);
      if (item.platformId) seen.set(item.platformId, id);
      const before = (await options.state.items([id])).get(id);
      if (item.publishedAt && (!report.newestPublishedAt || item.publishedAt > report.newestPublishedAt)) report.newestPublishedAt = item.publishedAt;
      if (before && before.hash === hash && !before.deletedAt) {
        report.itemsUnchanged++;
        return;
      }
      await options.onItem({ ...item, sourceId: source.id, collectedAt: now().toISOString(), change: before ? 'edited' : 'new', contentHash: hash, ...(before ? { previousHash: before.hash } : {}) });
      await options.state.saveItems(new Map([[id, { hash, url: item.url, kind: item.kind, ...(item.platformId ? { platformId: item.platformId } : {}), ...(item.parentRef ? { parentRef: item.parentRef } : {}), ...(item.title ? { title: item.title } : {}) }]]));
      report.itemsEmitted++;
      if (before) report.itemsEdited++;
      else report.itemsNew++;
    },
  };
  const outcome =
    source.kind === 'wechat-mp'
      ? await options.collectors['wechat-mp']?.(source, ctx)
      : await options.collectors.weibo?.(source, ctx);
  if (outcome) {
    report.pagesFetched = outcome.requests;
    report.failures.push(...outcome.failures);
    for (const scope of outcome.completeScopes ?? []) await signalDeletedInScope(scope.scope, scope.platformIds.flatMap((p) => seen.get(p) ?? []), source.id, options, report, now);
  } else {
    report.failures.push({ url: '', error: `no collector for kind ${source.kind} in this process`, code: 'collector_missing', cause: `本进程未配置“${source.kind}”类阵地的采集器` });
  }
  report.finishedAt = now().toISOString();
  // An API crawl that yielded nothing and failed is a failed run; a refusal (blocked) always is.
  const result = decideRunOutcome(1, [report.failures.length > 0 && report.itemsEmitted === 0 ? report.failures[0]! : 'ok'], report.failures);
  report.outcome = result.outcome;
  if (result.error) report.error = result.error;
  return report;
}

/**
 * Compares a complete listing with the one remembered from the last run (kept in the crawl state
 * under `api-scope:<scope>`): an item missing now is emitted once as `deleted`.
 */
async function signalDeletedInScope(scope: string, ids: string[], sourceId: string, options: CrawlPositionOptions, report: CrawlReport, now: () => Date): Promise<void> {
  const key = `api-scope:${scope}`;
  const at = now().toISOString();
  const before = (await options.state.pages([key])).get(key);
  const gone = (before?.itemIds ?? []).filter((id) => !ids.includes(id));
  if (gone.length > 0) {
    const deleted = await emitDeletions(options.state, gone, sourceId, at, options.onItem);
    report.itemsDeleted += deleted;
    report.itemsEmitted += deleted;
  }
  // The new listing is remembered only after its deletions are handed over: remembered first, a
  // crash in between would lose them for good (the next run's "before" would lack the gone ids).
  await options.state.savePage(key, { label: 'API-SCOPE', fetchedAt: at, itemIds: ids });
}
