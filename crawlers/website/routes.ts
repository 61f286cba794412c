import type { CollectedItem } from '../../core/posts/collected-item.js';
import { extractAttachmentText } from '../shared/attachment-text.js';
import { toCrawlError } from '../shared/crawl-error.js';
import type { PageContext, Route } from '../shared/crawl-source.js';
import { directoryOf } from '../shared/html.js';
import { feedLinks, parseFeedLinks, parseSitemap, type DiscoveredLink } from './discover.js';
import { extractArticle, extractListPage } from './extract.js';

/** Entries of sitemaps and feeds are followed only inside the columns the source watches. */
function inColumns(page: PageContext, links: readonly DiscoveredLink[]): DiscoveredLink[] {
  const columns = page.source.entryPoints.map(directoryOf);
  return links.filter((l) => columns.some((c) => l.url.startsWith(c)));
}

const toLink = (l: DiscoveredLink) => ({ url: l.url, ...(l.publishedAt ? { listedAt: l.publishedAt } : {}) });

async function readAttachments(page: PageContext, files: readonly { url: string; name: string }[]): Promise<NonNullable<CollectedItem['attachments']>> {
  const out: NonNullable<CollectedItem['attachments']> = [];
  for (const f of files) {
    try {
      const file = await page.fetchFile(f.url);
      const text = await extractAttachmentText(file.body, f.name || f.url, file.contentType);
      out.push({ url: f.url, name: f.name, text });
    } catch (err) {
      // A file that cannot be read is named on the item: the leak may hide exactly there.
      out.push({ url: f.url, name: f.name, error: toCrawlError(err).message });
    }
  }
  return out;
}

/**
 * CMS list page → detail pages and further list pages (plus, from an entry point, the sitemap and
 * feeds the site announces); detail page → the article with its attachments' text, and its comments.
 */
export const websiteRoutes: Record<'LIST' | 'DETAIL' | 'SITEMAP' | 'FEED', Route> = {
  async LIST(page) {
    const list = extractListPage(page.html, page.url, page.source.profile);
    await page.enqueue(
      list.links.map((l) => ({ url: l.url, signature: `${l.title}|${l.publishedAt ?? ''}`, ...(l.publishedAt ? { listedAt: l.publishedAt } : {}) })),
      'DETAIL',
    );
    await page.enqueue(list.nextPages, 'LIST');
    if (page.depth === 0 && page.source.profile?.discover !== false) {
      await page.enqueue(feedLinks(page.html, page.url), 'FEED');
      await page.enqueue(await page.sitemaps(), 'SITEMAP');
    }
  },
  async SITEMAP(page) {
    const { pages, sitemaps } = parseSitemap(page.html, page.url);
    await page.enqueue(inColumns(page, pages).map(toLink), 'DETAIL');
    await page.enqueue(sitemaps, 'SITEMAP');
  },
  async FEED(page) {
    await page.enqueue(inColumns(page, parseFeedLinks(page.html, page.url)).map(toLink), 'DETAIL');
  },
  async DETAIL(page) {
    const article = extractArticle(page.html, page.url, page.source.profile ? { profile: page.source.profile } : {});
    const attachments = page.source.crawl.attachments && article.attachments.length > 0 ? await readAttachments(page, article.attachments) : [];
    await page.emit({
      kind: 'article',
      url: page.url,
      title: article.title,
      text: article.text,
      ...(article.publishedAt ? { publishedAt: article.publishedAt } : {}),
      ...(article.source ? { author: article.source } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    });
    for (const comment of article.comments) {
      await page.emit({
        kind: 'comment',
        url: `${page.url}#comment-${encodeURIComponent(comment.id)}`,
        platformId: comment.id,
        // The article's title is context, not the commenter's words: it is not matched as theirs.
        parentRef: comment.parentId ?? page.url,
        text: comment.text,
        ...(comment.author ? { author: comment.author } : {}),
        ...(comment.publishedAt ? { publishedAt: comment.publishedAt } : {}),
      });
    }
  },
};
