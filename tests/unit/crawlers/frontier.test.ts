import { describe, expect, it } from 'vitest';
import { decideDetailFetch, Frontier, MAX_QUERIES_PER_PATH, MAX_CALENDAR_PAGES, type EnqueueDecision } from '../../../crawlers/shared/frontier.js';
import type { PageMemory } from '../../../crawlers/shared/crawl-state.js';

const limits = { allowedHosts: new Set(['gov.example:80', 'www.qs.gov.cn']), maxDepth: 3, maxPages: 1000 };

describe('Frontier.consider', () => {
  it.each<[string, string, number, EnqueueDecision]>([
    ['a detail page of the site', 'http://www.qs.gov.cn/xwzx/gzdt/202405/t20240501_1.html', 1, 'take'],
    ['another host', 'http://evil.example/x.html', 1, 'off-host'],
    ['a mailto link', 'mailto:a@b.c', 1, 'not-http'],
    ['garbage', 'http://', 1, 'not-http'],
    ['beyond the depth cap', 'http://www.qs.gov.cn/a.html', 4, 'too-deep'],
    ['an absurdly long URL', `http://www.qs.gov.cn/${'a'.repeat(600)}.html`, 1, 'trap-long-url'],
    ['a path that repeats itself (relative-link trap)', 'http://www.qs.gov.cn/x/a/b/a/b/a/b/index.html', 1, 'trap-repeating-path'],
  ])('%s → %s', (_case, url, depth, expected) => {
    expect(new Frontier(limits).consider(url, depth)).toBe(expected);
  });

  it('takes a URL once; the fragment does not make it new', () => {
    const f = new Frontier(limits);
    expect(f.consider('http://www.qs.gov.cn/a.html#top', 1)).toBe('take');
    expect(f.consider('http://www.qs.gov.cn/a.html', 1)).toBe('seen');
  });

  it('stops a query-string explosion on one path', () => {
    const f = new Frontier(limits);
    const decisions = Array.from({ length: MAX_QUERIES_PER_PATH + 5 }, (_, i) => f.consider(`http://www.qs.gov.cn/search.jsp?q=${i}&sort=${i}`, 1));
    expect(decisions.filter((d) => d === 'take')).toHaveLength(MAX_QUERIES_PER_PATH);
    expect(decisions.at(-1)).toBe('trap-query-explosion');
  });

  it('stops an endless calendar (every month links to the next)', () => {
    const f = new Frontier({ ...limits, maxDepth: 10_000 });
    const decisions = Array.from({ length: MAX_CALENDAR_PAGES + 10 }, (_, i) => f.consider(`http://www.qs.gov.cn/calendar/${2000 + Math.floor(i / 12)}/${(i % 12) + 1}/index.html`, i));
    expect(decisions.filter((d) => d === 'take')).toHaveLength(MAX_CALENDAR_PAGES);
    expect(decisions.at(-1)).toBe('trap-calendar');
  });

  it('honours the page cap', () => {
    const f = new Frontier({ ...limits, maxPages: 2 });
    expect(['a', 'b', 'c'].map((p) => f.consider(`http://www.qs.gov.cn/${p}.html`, 1))).toEqual(['take', 'take', 'over-page-cap']);
  });
});

describe('decideDetailFetch (list-page diffing)', () => {
  const now = new Date('2024-06-01T00:00:00Z');
  const policy = { revisitRecentDays: 7, revisitDays: 30 };
  const known: PageMemory = { label: 'DETAIL', fetchedAt: '2024-05-30T00:00:00Z', bodyHash: 'h', signature: '标题|2024-04-01', listedAt: '2024-04-01T00:00:00Z' };
  it.each<[string, PageMemory | undefined, { signature?: string; listedAt?: string }, string]>([
    ['never seen', undefined, { signature: 'x' }, 'new'],
    ['fetched before but failed (no body remembered)', { label: 'DETAIL', fetchedAt: known.fetchedAt }, {}, 'failed-before'],
    ['listed with another title or date', known, { signature: '标题（更正）|2024-04-01' }, 'listing-changed'],
    ['listed recently: comments may arrive', known, { signature: known.signature!, listedAt: '2024-05-29T00:00:00Z' }, 'recent'],
    ['old, listed the same, fetched two days ago', known, { signature: known.signature! }, 'unchanged'],
    ['old, listed the same, fetched 40 days ago', { ...known, fetchedAt: '2024-04-20T00:00:00Z' }, { signature: known.signature! }, 'revisit-due'],
    ['found in a sitemap (no signature), old', known, { listedAt: '2024-04-01T00:00:00Z' }, 'unchanged'],
  ])('%s → %s', (_case, memory, link, expected) => {
    expect(decideDetailFetch(memory, link, now, policy)).toBe(expected);
  });
});
