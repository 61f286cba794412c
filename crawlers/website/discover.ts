import * as cheerio from 'cheerio';
import { parseChineseDate } from '../shared/dates.js';
import { absolute, cleanText, MAX_PAGE_CHARS } from '../shared/html.js';

/** A date as feeds write it (RFC 822 in RSS, ISO 8601 in Atom and sitemaps), ISO 8601 out. */
function feedDate(text: string): string | undefined {
  const chinese = parseChineseDate(text);
  if (chinese) return chinese;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** An entry of a sitemap or feed: the page, and its date when the file gives one. */
export interface DiscoveredLink {
  url: string;
  title?: string;
  publishedAt?: string;
}

/** Feeds a page announces with `<link rel="alternate" type="application/rss+xml|atom+xml">`. */
export function feedLinks(html: string, pageUrl: string): string[] {
  const $ = cheerio.load(html.slice(0, 200_000));
  return $('link[rel~="alternate"][href]')
    .filter((_, el) => /rss|atom/i.test($(el).attr('type') ?? ''))
    .toArray()
    .flatMap((el) => absolute($(el).attr('href'), pageUrl) ?? []);
}

/**
 * A sitemap (`<urlset>`) or sitemap index (`<sitemapindex>`): page entries with `lastmod`, and
 * nested sitemaps. Hostile input: only absolute http(s) URLs come out.
 */
export function parseSitemap(xml: string, fileUrl: string): { pages: DiscoveredLink[]; sitemaps: string[] } {
  const $ = cheerio.load(xml.slice(0, MAX_PAGE_CHARS), { xml: true });
  const pages = $('urlset > url')
    .toArray()
    .flatMap((el) => {
      const url = absolute(cleanText($(el).children('loc').text()), fileUrl);
      const publishedAt = feedDate(cleanText($(el).children('lastmod').text()));
      return url ? [{ url, ...(publishedAt ? { publishedAt } : {}) }] : [];
    });
  const sitemaps = $('sitemapindex > sitemap > loc')
    .toArray()
    .flatMap((el) => absolute(cleanText($(el).text()), fileUrl) ?? []);
  return { pages, sitemaps };
}

/** RSS 2.0 `<item>` and Atom `<entry>` links with their titles and dates. */
export function parseFeedLinks(xml: string, fileUrl: string): DiscoveredLink[] {
  const $ = cheerio.load(xml.slice(0, MAX_PAGE_CHARS), { xml: true });
  const out: DiscoveredLink[] = [];
  $('item, entry').each((_, el) => {
    const node = $(el);
    const linkEl = node.children('link').first();
    const href = linkEl.attr('href') ?? linkEl.text();
    const url = absolute(cleanText(href), fileUrl) ?? absolute(cleanText(node.children('guid').text()), fileUrl);
    if (!url) return;
    const title = cleanText(node.children('title').text());
    const publishedAt = feedDate(cleanText(node.children('pubDate, published, updated, dc\\:date').first().text()));
    out.push({ url, ...(title ? { title } : {}), ...(publishedAt ? { publishedAt } : {}) });
  });
  return out;
}
