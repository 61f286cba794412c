import type { Redis } from 'ioredis';
import { CRAWL_ERROR_CLASSES, type CrawlErrorClass } from './crawl-error.js';
import type { CrawlReport } from './crawl-source.js';

/**
 * The health of one position's collection, kept across runs: a source that stopped silently is the
 * failure users fear most, so every run leaves its trace here and the gaps stay visible.
 */
export interface SourceHealth {
  sourceId: string;
  lastAttemptAt?: string;
  lastSuccessAt?: string;
  /** When a run last found an item it had not seen. */
  lastNewItemAt?: string;
  /** Newest publish date seen on the position (for zombie positions). */
  newestPublishedAt?: string;
  consecutiveFailures: number;
  lastError?: { errorClass: CrawlErrorClass; message: string; cause: string; at: string };
  /** Set while the site blocks us: no scheduled run before `until`. */
  backoff?: { until: string; delayMs: number };
  /** From–to ranges not collected because the source failed; the last one is open (`to` absent) while it fails. */
  gaps: { from: string; to?: string; errorClass: CrawlErrorClass }[];
  /** The open source-health alert, while one is raised. */
  alert?: { raisedAt: string; lastReminderAt: string; reminders: number };
  lastRun?: Pick<CrawlReport, 'pagesFetched' | 'pagesUnchanged' | 'detailFetched' | 'detailSkipped' | 'itemsNew' | 'itemsEdited' | 'itemsDeleted' | 'itemsUnchanged'> & { failures: number; finishedAt: string };
}

export interface HealthPolicy {
  /** Consecutive failed runs before an alert is raised (one blip raises nothing). */
  alertAfterFailures: number;
  /** While failing, the alert is repeated this often. */
  remindEveryMinutes: number;
}

export const BACKOFF_START_MS = 15 * 60_000;
export const BACKOFF_MAX_MS = 6 * 3600_000;
const MAX_GAPS = 100;

/** What a run's outcome means for the alert queue. */
export type HealthSignal = 'none' | 'raise' | 'remind' | 'recovered';

export function emptyHealth(sourceId: string): SourceHealth {
  return { sourceId, consecutiveFailures: 0, gaps: [] };
}

/** 15 min, then doubling up to 6 h, while the site keeps blocking. */
export function nextBackoffMs(previousMs: number | undefined): number {
  return previousMs === undefined ? BACKOFF_START_MS : Math.min(previousMs * 2, BACKOFF_MAX_MS);
}

/**
 * Folds one run into the health record. A success resets failures and backoff and closes the open
 * gap; a failure opens a gap from the last success (coverage lost since then), and a block starts
 * or doubles the backoff. The signal says whether to raise, repeat or clear the source-health alert.
 */
export function applyRun(health: SourceHealth, report: Pick<CrawlReport, 'outcome' | 'error' | 'itemsNew' | 'newestPublishedAt' | 'finishedAt' | 'pagesFetched' | 'pagesUnchanged' | 'detailFetched' | 'detailSkipped' | 'itemsEdited' | 'itemsDeleted' | 'itemsUnchanged' | 'failures'>, now: Date, policy: HealthPolicy): { health: SourceHealth; signal: HealthSignal } {
  const at = now.toISOString();
  const next: SourceHealth = {
    ...health,
    gaps: [...health.gaps],
    lastAttemptAt: at,
    lastRun: {
      pagesFetched: report.pagesFetched,
      pagesUnchanged: report.pagesUnchanged,
      detailFetched: report.detailFetched,
      detailSkipped: report.detailSkipped,
      itemsNew: report.itemsNew,
      itemsEdited: report.itemsEdited,
      itemsDeleted: report.itemsDeleted,
      itemsUnchanged: report.itemsUnchanged,
      failures: report.failures.length,
      finishedAt: report.finishedAt || at,
    },
  };
  if (report.newestPublishedAt && (!next.newestPublishedAt || report.newestPublishedAt > next.newestPublishedAt)) next.newestPublishedAt = report.newestPublishedAt;

  if (report.outcome === 'ok') {
    const wasAlerting = health.alert !== undefined;
    next.lastSuccessAt = at;
    if (report.itemsNew > 0) next.lastNewItemAt = at;
    next.consecutiveFailures = 0;
    delete next.backoff;
    delete next.alert;
    const open = next.gaps.at(-1);
    if (open && open.to === undefined) next.gaps[next.gaps.length - 1] = { ...open, to: at };
    return { health: next, signal: wasAlerting ? 'recovered' : 'none' };
  }

  const errorClass = report.error?.errorClass ?? 'internal';
  next.consecutiveFailures = health.consecutiveFailures + 1;
  next.lastError = { errorClass, message: report.error?.message ?? 'the run failed', cause: report.error?.cause ?? CRAWL_ERROR_CLASSES[errorClass].cause, at };
  const open = next.gaps.at(-1);
  if (!open || open.to !== undefined) next.gaps.push({ from: health.lastSuccessAt ?? health.lastAttemptAt ?? at, errorClass });
  if (next.gaps.length > MAX_GAPS) next.gaps.splice(0, next.gaps.length - MAX_GAPS);
  if (errorClass === 'blocked') {
    const delayMs = nextBackoffMs(health.backoff?.delayMs);
    next.backoff = { until: new Date(now.getTime() + delayMs).toISOString(), delayMs };
  } else {
    delete next.backoff;
  }

  let signal: HealthSignal = 'none';
  if (next.consecutiveFailures >= policy.alertAfterFailures) {
    if (!health.alert) {
      next.alert = { raisedAt: at, lastReminderAt: at, reminders: 0 };
      signal = 'raise';
    } else if (now.getTime() - Date.parse(health.alert.lastReminderAt) >= policy.remindEveryMinutes * 60_000) {
      next.alert = { ...health.alert, lastReminderAt: at, reminders: health.alert.reminders + 1 };
      signal = 'remind';
    }
  }
  return { health: next, signal };
}

export type StartDecision = 'run' | 'backoff';

/** A scheduled run waits out the backoff; a manual "crawl now" is the user's call and runs. */
export function decideCrawlStart(health: SourceHealth | undefined, now: Date, manual: boolean): StartDecision {
  if (manual || !health?.backoff) return 'run';
  return Date.parse(health.backoff.until) > now.getTime() ? 'backoff' : 'run';
}

/**
 * Since when a position's scheduled collection has stopped coming: its last run (or, never run, when
 * watching began), once no run started for three of its intervals, and at least `minGraceMs`, after
 * both the last run and the start of watching.
 * `undefined` while runs come, and for positions not collected on an interval: push and disabled
 * ones, those on a cron pattern, and one waiting out a block's backoff.
 */
export function crawlStalledSince(
  source: { enabled: boolean; kind: string; everySeconds?: number; cron?: string },
  health: SourceHealth | undefined,
  now: Date,
  policy: { defaultEverySeconds: number; minGraceMs: number; watchingSince: Date },
): string | undefined {
  if (!source.enabled || source.kind === 'push' || source.cron) return undefined;
  if (health?.backoff && Date.parse(health.backoff.until) > now.getTime()) return undefined;
  const grace = Math.max(3 * (source.everySeconds ?? policy.defaultEverySeconds) * 1000, policy.minGraceMs);
  const last = health?.lastAttemptAt ?? policy.watchingSince.toISOString();
  // A watch just started (the product was down) gives the crawler one grace period before it speaks.
  return now.getTime() - Math.max(Date.parse(last), policy.watchingSince.getTime()) > grace ? last : undefined;
}

export type SourceStatus = 'never-run' | 'ok' | 'failing' | 'backoff' | 'zombie';

export interface HealthView extends SourceHealth {
  status: SourceStatus;
  /** No new post for `zombieDays` (by publish date, else by first sight). */
  zombie: boolean;
  zombieDays: number;
  /** Human summary in Chinese for the positions-health view. */
  summary: string;
}

/** How the dashboard shows a source's health at `now`. */
export function describeHealth(health: SourceHealth, now: Date, zombieDays: number): HealthView {
  const newest = health.newestPublishedAt ?? health.lastNewItemAt;
  const zombie = health.lastSuccessAt !== undefined && (newest === undefined || now.getTime() - Date.parse(newest) > zombieDays * 86_400_000);
  let status: SourceStatus;
  let summary: string;
  if (!health.lastAttemptAt) {
    status = 'never-run';
    summary = '尚未采集';
  } else if (health.backoff && Date.parse(health.backoff.until) > now.getTime()) {
    status = 'backoff';
    summary = `被网站拦截，暂停采集至 ${health.backoff.until}（已连续失败 ${health.consecutiveFailures} 次）`;
  } else if (health.consecutiveFailures > 0) {
    status = 'failing';
    summary = `连续失败 ${health.consecutiveFailures} 次：${health.lastError?.cause ?? '原因未知'}`;
  } else if (zombie) {
    status = 'zombie';
    summary = newest ? `超过 ${zombieDays} 天未更新（最新内容 ${newest.slice(0, 10)}），疑似僵尸阵地` : `未发现任何带日期的内容，疑似僵尸阵地`;
  } else {
    status = 'ok';
    summary = '采集正常';
  }
  return { ...health, status, zombie, zombieDays, summary };
}

/** Port for health records; the adapter keeps one JSON value per source in a Redis hash. */
export interface SourceHealthStore {
  get(sourceId: string): Promise<SourceHealth | undefined>;
  all(): Promise<SourceHealth[]>;
  save(health: SourceHealth): Promise<void>;
}

export class RedisSourceHealthStore implements SourceHealthStore {
  private readonly key: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:sources:health`;
  }
  async get(sourceId: string): Promise<SourceHealth | undefined> {
    const raw = await this.redis.hget(this.key, sourceId);
    return raw ? (JSON.parse(raw) as SourceHealth) : undefined;
  }
  async all(): Promise<SourceHealth[]> {
    return Object.values(await this.redis.hgetall(this.key)).map((v) => JSON.parse(v) as SourceHealth);
  }
  async save(health: SourceHealth): Promise<void> {
    await this.redis.hset(this.key, health.sourceId, JSON.stringify(health));
  }
}
