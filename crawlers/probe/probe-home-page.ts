import type { Probe } from '../../core/inspection/website-measurements.js';
import { toCrawlError } from '../shared/crawl-error.js';
import { fetchPage } from '../shared/fetch-page.js';

/**
 * One availability probe as the inspector runs it: GET the home page, following redirects, the
 * whole body within `timeoutMs` (a page still loading at 15 s is 打不开). Never throws: a failure is
 * the probe's outcome, classed like a crawl failure (`timeout`, `unreachable`, `server-error` …).
 */
export async function probeHomePage(url: string, options: { timeoutMs: number; now: () => Date; headers?: Record<string, string> }): Promise<Probe> {
  const at = options.now().toISOString();
  const started = performance.now();
  try {
    const res = await fetchPage(url, { timeoutMs: options.timeoutMs, maxBytes: 5 * 1024 * 1024, expect: 'page', ...(options.headers ? { headers: options.headers } : {}) });
    const durationMs = Math.round(performance.now() - started);
    return { at, ok: true, status: res.status === 'ok' ? res.httpStatus : 304, durationMs };
  } catch (err) {
    const e = toCrawlError(err);
    return { at, ok: false, errorClass: e.errorClass, ...(e.status !== undefined ? { status: e.status } : {}), durationMs: Math.round(performance.now() - started) };
  }
}
