import type { PageMemory } from './crawl-state.js';

/**
 * The crawl frontier's two decisions, each with a named reason that the crawl report counts:
 * whether a discovered link is taken at all (scope, caps and traps), and whether a taken detail
 * page is fetched again (list-page diffing).
 */

export type EnqueueDecision =
  | 'take'
  | 'seen'
  | 'off-host'
  | 'not-http'
  | 'too-deep'
  | 'over-page-cap'
  | 'trap-long-url'
  | 'trap-repeating-path'
  | 'trap-query-explosion'
  | 'trap-calendar';

export interface FrontierLimits {
  allowedHosts: ReadonlySet<string>;
  maxDepth: number;
  maxPages: number;
}

/** Distinct query strings accepted on one path (a search or calendar widget can make millions). */
export const MAX_QUERIES_PER_PATH = 25;
/** Calendar-like URLs (a date in the path or query) accepted per path shape. */
export const MAX_CALENDAR_PAGES = 40;
const MAX_URL_LENGTH = 512;
const CALENDAR = /([?&](date|day|month|year|ym|rq|time)=)|\/(calendar|rili|rl)\b/i;

export class Frontier {
  private readonly seen = new Set<string>();
  private readonly queriesPerPath = new Map<string, number>();
  private readonly calendarPerShape = new Map<string, number>();
  taken = 0;

  constructor(private readonly limits: FrontierLimits) {}

  /** Decides and, on `take`, remembers the URL. */
  consider(raw: string, depth: number): EnqueueDecision {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'not-http';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'not-http';
    url.hash = '';
    const key = url.toString();
    if (this.seen.has(key)) return 'seen';
    if (!this.limits.allowedHosts.has(url.host)) return 'off-host';
    if (depth > this.limits.maxDepth) return 'too-deep';
    if (this.taken >= this.limits.maxPages) return 'over-page-cap';
    if (key.length > MAX_URL_LENGTH) return 'trap-long-url';
    const segments = url.pathname.split('/').filter(Boolean);
    if (segments.length > 15 || hasRepeatingRun(segments)) return 'trap-repeating-path';
    const path = `${url.host}${url.pathname}`;
    if (CALENDAR.test(key)) {
      const shape = path.replace(/\d+/g, '0');
      const n = (this.calendarPerShape.get(shape) ?? 0) + 1;
      if (n > MAX_CALENDAR_PAGES) return 'trap-calendar';
      this.calendarPerShape.set(shape, n);
    }
    if (url.search) {
      const n = (this.queriesPerPath.get(path) ?? 0) + 1;
      if (n > MAX_QUERIES_PER_PATH) return 'trap-query-explosion';
      this.queriesPerPath.set(path, n);
    }
    this.seen.add(key);
    this.taken++;
    return 'take';
  }

  /** Marks a URL as handled without counting it (a redirect target). */
  markSeen(url: string): boolean {
    if (this.seen.has(url)) return false;
    this.seen.add(url);
    return true;
  }
}

/** `/a/b/a/b/a/b/`: a relative link that resolves one level deeper every time. */
function hasRepeatingRun(segments: readonly string[]): boolean {
  for (let size = 1; size <= 3; size++) {
    for (let i = 0; i + size * 3 <= segments.length; i++) {
      const run = segments.slice(i, i + size).join('/');
      if (segments.slice(i + size, i + size * 2).join('/') === run && segments.slice(i + size * 2, i + size * 3).join('/') === run) return true;
    }
  }
  return false;
}

export type FetchDecision = 'new' | 'listing-changed' | 'recent' | 'revisit-due' | 'failed-before' | 'unchanged';

export interface RevisitPolicy {
  revisitRecentDays: number;
  revisitDays: number;
}

/**
 * Whether a known detail page is fetched again. The list page is the cheap signal: a page listed
 * exactly as before, not recent, and fetched within `revisitDays` is skipped. Recent entries are
 * re-fetched (conditionally) because comments keep arriving under them.
 */
export function decideDetailFetch(
  memory: PageMemory | undefined,
  link: { signature?: string; listedAt?: string },
  now: Date,
  policy: RevisitPolicy,
): FetchDecision {
  if (!memory) return 'new';
  if (!memory.bodyHash) return 'failed-before';
  if (link.signature !== undefined && memory.signature !== undefined && link.signature !== memory.signature) return 'listing-changed';
  const day = 86_400_000;
  const listedAt = link.listedAt ?? memory.listedAt;
  if (listedAt && now.getTime() - Date.parse(listedAt) < policy.revisitRecentDays * day) return 'recent';
  if (now.getTime() - Date.parse(memory.fetchedAt) >= policy.revisitDays * day) return 'revisit-due';
  return 'unchanged';
}

/** Labels whose pages are items (fetched only when the list says so); every other label is a list or feed, always fetched. */
export const DETAIL_LABELS: ReadonlySet<string> = new Set(['DETAIL']);
