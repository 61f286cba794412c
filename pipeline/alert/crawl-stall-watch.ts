import type { Logger } from 'pino';
import type { Source } from '../../core/sources/source.js';
import { localClock, localDate } from '../../core/time/zoned-time.js';
import { crawlStalledSince, type SourceHealth } from '../../crawlers/shared/source-health.js';
import type { Queues, SourceHealthJob } from '../queues.js';
import { STALLED } from './source-health-alert.js';

export interface CrawlStallWatchDeps {
  registry: { list(): Promise<{ source: Source }[]> };
  health: { all(): Promise<SourceHealth[]> };
  queues: Pick<Queues, 'alert'>;
  defaultEverySeconds: number;
  /** No alert before this long without a run, however short a position's interval. */
  minGraceMs: number;
  /** How often the positions are looked at (default one minute). */
  everyMs?: number;
  timeZone: string;
  now(): Date;
  log: Logger;
}

/**
 * 采集停滞: a failing run raises its source-health alert, but a run that never comes raises nothing
 * by itself (the crawler process is down, its schedule was lost, a queue is stuck). Run by the worker
 * role, this looks at every position collected on an interval once a minute and raises a source-health
 * alert for one whose runs stopped coming (`crawlStalledSince`): one alert per stall, keyed by the
 * last run, so looking again adds nothing until runs resume and stop again.
 */
export function startCrawlStallWatch(deps: CrawlStallWatchDeps): { checkOnce(): Promise<string[]>; close(): void } {
  const watchingSince = deps.now();
  async function checkOnce(): Promise<string[]> {
    const [stored, healths] = await Promise.all([deps.registry.list(), deps.health.all()]);
    const healthOf = new Map(healths.map((h) => [h.sourceId, h]));
    const stalled: string[] = [];
    const now = deps.now();
    for (const { source } of stored) {
      const health = healthOf.get(source.id);
      const since = crawlStalledSince(source, health, now, { defaultEverySeconds: deps.defaultEverySeconds, minGraceMs: deps.minGraceMs, watchingSince });
      if (!since) continue;
      stalled.push(source.id);
      const last = health?.lastAttemptAt ? `最近一次采集在 ${localDate(new Date(since), deps.timeZone)} ${localClock(new Date(since), deps.timeZone)}` : '启动以来未采集';
      const job: SourceHealthJob = {
        sourceId: source.id,
        sourceName: source.name,
        owner: source.owner,
        signal: 'raise',
        consecutiveFailures: health?.consecutiveFailures ?? 0,
        errorClass: STALLED,
        cause: `${last}，应每 ${source.everySeconds ?? deps.defaultEverySeconds} 秒一次；请检查采集进程与队列`,
        since,
        at: now.toISOString(),
      };
      await deps.queues.alert.add('source-health', job, { jobId: `crawl-stall-${source.id}-${Date.parse(since)}` });
    }
    if (stalled.length > 0) deps.log.error({ stalled }, 'collection stalled: no run came for positions collected on an interval');
    return stalled;
  }
  const timer = setInterval(() => {
    checkOnce().catch((err: Error) => deps.log.warn({ err: err.message }, 'collection stall check failed; tried again in a minute'));
  }, deps.everyMs ?? 60_000);
  timer.unref();
  return { checkOnce, close: () => clearInterval(timer) };
}
