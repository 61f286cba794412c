import type { Route } from '../shared/crawl-source.js';
import { extractArticle, extractListPage } from './extract.js';

/** CMS list page → detail pages and further list pages; detail page → the article and its comments. */
export const websiteRoutes: Record<'LIST' | 'DETAIL', Route> = {
  async LIST(page) {
    const list = extractListPage(page.html, page.url);
    await page.enqueue(list.links.map((l) => l.url), 'DETAIL');
    await page.enqueue(list.nextPages, 'LIST');
  },
  async DETAIL(page) {
    const article = extractArticle(page.html, page.url);
    await page.emit({
      kind: 'article',
      url: page.url,
      title: article.title,
      text: article.text,
      ...(article.publishedAt ? { publishedAt: article.publishedAt } : {}),
      ...(article.source ? { author: article.source } : {}),
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
