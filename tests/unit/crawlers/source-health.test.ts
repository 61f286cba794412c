import { describe, expect, it } from 'vitest';
import { applyRun, BACKOFF_MAX_MS, BACKOFF_START_MS, crawlStalledSince, decideCrawlStart, describeHealth, emptyHealth, nextBackoffMs, type SourceHealth } from '../../../crawlers/shared/source-health.js';
import { decideRunOutcome } from '../../../crawlers/shared/crawl-source.js';
import type { CrawlErrorClass } from '../../../crawlers/shared/crawl-error.js';

const policy = { alertAfterFailures: 3, remindEveryMinutes: 60 };
const base = { itemsNew: 0, finishedAt: '', pagesFetched: 1, pagesUnchanged: 0, detailFetched: 0, detailSkipped: 0, itemsEdited: 0, itemsDeleted: 0, itemsUnchanged: 0, failures: [] };
const ok = (itemsNew = 0) => ({ ...base, outcome: 'ok' as const, itemsNew });
const failed = (errorClass: CrawlErrorClass) => ({ ...base, outcome: 'failed' as const, error: { errorClass, message: `${errorClass} happened` } });
const at = (minutes: number) => new Date(Date.UTC(2024, 4, 1, 0, minutes));

describe('applyRun: health, backoff, gaps and the source-health alert', () => {
  it('one blip raises nothing; the third failure in a row raises; reminders follow hourly; recovery clears', () => {
    let h: SourceHealth = applyRun(emptyHealth('s'), ok(2), at(0), policy).health;
    const signals: string[] = [];
    for (const minute of [10, 20, 30, 50, 95, 100]) {
      const r = applyRun(h, failed('unreachable'), at(minute), policy);
      signals.push(r.signal);
      h = r.health;
    }
    // failures 1, 2 → none; 3 → raise; 4 (20 min later) → none; 5 (65 min after raise) → remind; 6 → none
    expect(signals).toEqual(['none', 'none', 'raise', 'none', 'remind', 'none']);
    expect(h.consecutiveFailures).toBe(6);
    expect(h.lastError?.cause).toContain('无法连接');
    expect(h.gaps).toEqual([{ from: at(0).toISOString(), errorClass: 'unreachable' }]);

    const back = applyRun(h, ok(), at(120), policy);
    expect(back.signal).toBe('recovered');
    expect(back.health.consecutiveFailures).toBe(0);
    expect(back.health.alert).toBeUndefined();
    expect(back.health.gaps).toEqual([{ from: at(0).toISOString(), to: at(120).toISOString(), errorClass: 'unreachable' }]);
  });

  it('a failure and a success alternating never raise an alert', () => {
    let h = emptyHealth('s');
    for (let i = 0; i < 10; i++) {
      const r = applyRun(h, i % 2 ? ok() : failed('timeout'), at(i), policy);
      expect(r.signal).toBe('none');
      h = r.health;
    }
  });

  it.each([
    [undefined, BACKOFF_START_MS],
    [BACKOFF_START_MS, 2 * BACKOFF_START_MS],
    [4 * 3600_000, BACKOFF_MAX_MS],
    [BACKOFF_MAX_MS, BACKOFF_MAX_MS],
  ])('backoff after %s ms is %s ms (15 min doubling to 6 h)', (previous, expected) => {
    expect(nextBackoffMs(previous)).toBe(expected);
  });

  it('a block starts the backoff and a success resets it', () => {
    const blocked = applyRun(emptyHealth('s'), failed('blocked'), at(0), policy).health;
    expect(blocked.backoff).toEqual({ until: at(15).toISOString(), delayMs: BACKOFF_START_MS });
    const again = applyRun(blocked, failed('blocked'), at(16), policy).health;
    expect(again.backoff?.delayMs).toBe(2 * BACKOFF_START_MS);
    expect(applyRun(again, ok(), at(60), policy).health.backoff).toBeUndefined();
  });

  it('counts the last new item and the newest publish date', () => {
    const h = applyRun(emptyHealth('s'), { ...ok(3), newestPublishedAt: '2024-04-20T10:00:00+08:00' }, at(0), policy).health;
    expect(h.lastNewItemAt).toBe(at(0).toISOString());
    expect(h.newestPublishedAt).toBe('2024-04-20T10:00:00+08:00');
  });
});

describe('decideCrawlStart', () => {
  const blocked = { ...emptyHealth('s'), backoff: { until: at(15).toISOString(), delayMs: BACKOFF_START_MS } };
  it.each([
    ['no health yet', undefined, at(0), false, 'run'],
    ['backing off, scheduled', blocked, at(5), false, 'backoff'],
    ['backing off, crawl now by a user', blocked, at(5), true, 'run'],
    ['backoff over', blocked, at(16), false, 'run'],
  ] as const)('%s → %s', (_case, health, now, manual, expected) => {
    expect(decideCrawlStart(health, now, manual)).toBe(expected);
  });
});

describe('crawlStalledSince: runs that stop coming (采集停滞)', () => {
  const t0 = new Date('2026-12-08T00:00:00.000Z');
  const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
  const policy = { defaultEverySeconds: 60, minGraceMs: 15 * 60_000, watchingSince: t0 };
  const board = { enabled: true, kind: 'message-board', everySeconds: 600 };
  const ranAt = (minutes: number): SourceHealth => ({ ...emptyHealth('b'), lastAttemptAt: at(minutes).toISOString() });

  it('stalls after three intervals without a run, and not before', () => {
    expect(crawlStalledSince(board, ranAt(0), at(29), policy)).toBeUndefined();
    expect(crawlStalledSince(board, ranAt(0), at(31), policy)).toBe(at(0).toISOString());
    // A short interval still waits the minimum grace.
    expect(crawlStalledSince({ ...board, everySeconds: undefined }, ranAt(0), at(14), policy)).toBeUndefined();
    expect(crawlStalledSince({ ...board, everySeconds: undefined }, ranAt(0), at(16), policy)).toBe(at(0).toISOString());
  });

  it('gives a watch that just started one grace period, even after a long outage of the whole product; a position never run counts from then', () => {
    const restarted = { ...policy, watchingSince: at(24 * 60) };
    expect(crawlStalledSince(board, ranAt(0), at(24 * 60 + 20), restarted)).toBeUndefined();
    expect(crawlStalledSince(board, ranAt(0), at(24 * 60 + 31), restarted)).toBe(at(0).toISOString());
    expect(crawlStalledSince(board, undefined, at(31), policy)).toBe(t0.toISOString());
  });

  it('says nothing of positions not collected on an interval, or waiting out a backoff', () => {
    expect(crawlStalledSince({ ...board, kind: 'push' }, undefined, at(600), policy)).toBeUndefined();
    expect(crawlStalledSince({ ...board, enabled: false }, ranAt(0), at(600), policy)).toBeUndefined();
    expect(crawlStalledSince({ ...board, cron: '0 8 * * *' }, ranAt(0), at(600), policy)).toBeUndefined();
    const blocked = { ...ranAt(0), backoff: { until: at(120).toISOString(), delayMs: 7_200_000 } };
    expect(crawlStalledSince(board, blocked, at(60), policy)).toBeUndefined();
    expect(crawlStalledSince(board, blocked, at(121), policy)).toBe(at(0).toISOString());
  });
});

describe('describeHealth', () => {
  const now = new Date('2024-06-01T00:00:00Z');
  const healthy = { ...emptyHealth('s'), lastAttemptAt: '2024-05-31T23:00:00Z', lastSuccessAt: '2024-05-31T23:00:00Z' };
  it.each<[string, SourceHealth, number, string, boolean]>([
    ['never crawled', emptyHealth('s'), 14, 'never-run', false],
    ['fresh content', { ...healthy, newestPublishedAt: '2024-05-30T10:00:00+08:00' }, 14, 'ok', false],
    ['nothing new for 15 days', { ...healthy, newestPublishedAt: '2024-05-17T00:00:00+08:00' }, 14, 'zombie', true],
    ['12 days where the locality uses 10', { ...healthy, newestPublishedAt: '2024-05-20T00:00:00+08:00' }, 10, 'zombie', true],
    ['12 days with the default 14', { ...healthy, newestPublishedAt: '2024-05-20T00:00:00+08:00' }, 14, 'ok', false],
    ['no dated content at all', healthy, 14, 'zombie', true],
    ['failing', { ...healthy, consecutiveFailures: 2, lastError: { errorClass: 'timeout', message: 'm', cause: '网站响应超时', at: '' }, newestPublishedAt: '2024-05-30T00:00:00Z' }, 14, 'failing', false],
  ])('%s → %s', (_case, health, zombieDays, status, zombie) => {
    const view = describeHealth(health, now, zombieDays);
    expect(view.status).toBe(status);
    expect(view.zombie).toBe(zombie);
    expect(view.summary).toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('decideRunOutcome', () => {
  const f = (errorClass: CrawlErrorClass, label = 'LIST') => ({ url: 'http://x/', label, errorClass, error: errorClass });
  it.each([
    ['every entry point read', 2, ['ok', 'ok'], [], 'ok', undefined],
    ['one of two entry points down', 2, ['ok', f('timeout')], [f('timeout')], 'ok', undefined],
    ['every entry point down', 1, [f('unreachable')], [f('unreachable')], 'failed', 'unreachable'],
    ['only detail pages failed', 1, ['ok'], [f('parse', 'DETAIL')], 'ok', undefined],
    ['a detail page blocked us', 1, ['ok'], [f('blocked', 'DETAIL')], 'failed', 'blocked'],
  ] as const)('%s → %s', (_case, entries, results, failures, outcome, errorClass) => {
    const r = decideRunOutcome(entries, [...results], [...failures]);
    expect(r.outcome).toBe(outcome);
    expect(r.error?.errorClass).toBe(errorClass);
  });
});
