import { createHash } from 'node:crypto';
import type { Cheerio, CheerioAPI } from 'cheerio';
import { parseChineseDate } from '../shared/dates.js';
import type { ExtractionProfile } from '../../core/sources/source.js';
import { type AnyNode, absolute, blockText, cleanText, directoryOf, loadPage, looksLikeErrorPage, paginationLinks } from '../shared/html.js';

/**
 * Pure extractors for the unit's website (a TRS-style CMS): column list pages and detail pages with
 * their comment threads. Input is hostile: everything returned is plain text and absolute URLs.
 */

export interface ListLink {
  url: string;
  title: string;
  /** The date the list shows next to the link, ISO 8601 +08:00. */
  publishedAt?: string;
}

export interface ArticleComment {
  /** The site's comment id, or a stable hash of author, time and text when the page shows none. */
  id: string;
  author?: string;
  publishedAt?: string;
  text: string;
  /** Id of the comment this one replies to. */
  parentId?: string;
}

export interface Article {
  title: string;
  publishedAt?: string;
  /** 来源: the publishing section or outlet. */
  source?: string;
  /** Body text, one paragraph per line. */
  text: string;
  comments: ArticleComment[];
  attachments: { url: string; name: string }[];
}

export interface ExtractOptions {
  /** Reference time for relative comment times (3小时前, 昨天 10:30); defaults to the current time. */
  now?: Date;
  /** The source's own selectors, tried before the built-in ones. */
  profile?: ExtractionProfile;
}

/** TRS-style detail URLs: `./202405/t20240501_1234567.html`. */
const DETAIL_URL = /\/t\d{8}_\d+\.s?html?$/i;
const ATTACHMENT_FILE = /\.(pdf|docx?|xlsx?|pptx?|wps|et|dps|ofd|txt|csv|zip|rar|7z)$/i;
const NOT_CONTENT = '.header, .nav, .menu, .footer, .position, .breadcrumb, .crumb, .page, .pager, .pagination, header, nav, footer';
/** List rows of the usual CMS column pages. */
export const LIST_ROWS = 'ul.list li, .list li, .news-list li, .list-content li, .list-table tr, table.list tr, .news_list li, .newslist li, .lm_list li, .info-list li';

/** List-page text of a row without the link title (titles such as 2024年度… must not be taken for dates). */
function rowDate($: CheerioAPI, row: AnyNode, anchor: AnyNode): string | undefined {
  const clone = $(row).clone();
  clone.find('a').each((_, a) => {
    if ($(a).attr('href') === $(anchor).attr('href')) $(a).remove();
  });
  return parseChineseDate(cleanText(clone.text()));
}

/**
 * A CMS column page: the item links with their list dates, and the column's other list pages.
 * Knows `ul.list` lists and table lists; otherwise takes links in list rows (li/tr) that point into
 * the same column or look like TRS detail pages (`t20240501_1234567.html`).
 */
export function extractListPage(html: string, pageUrl: string, profile?: Pick<ExtractionProfile, 'listItem'>): { links: ListLink[]; nextPages: string[] } {
  const $ = loadPage(html);
  const nextPages = paginationLinks($, html, pageUrl);
  const pagerSet = new Set(nextPages);
  const column = directoryOf(pageUrl);
  const links = new Map<string, ListLink>();

  const isItem = (url: string) => {
    const path = new URL(url).pathname;
    return !pagerSet.has(url) && url !== absolute(pageUrl, pageUrl) && !/\/(index|default)(_\d+)?\.s?html?$/i.test(path) && !path.endsWith('/');
  };
  const add = (a: AnyNode, row: AnyNode) => {
    const url = absolute($(a).attr('href'), pageUrl);
    if (!url || !isItem(url) || links.has(url)) return;
    const title = cleanText($(a).attr('title') ?? '') || cleanText($(a).text());
    if (!title) return;
    const publishedAt = rowDate($, row, a);
    links.set(url, { url, title, ...(publishedAt ? { publishedAt } : {}) });
  };

  $(profile?.listItem ?? LIST_ROWS).each((_, row) => {
    const a = $(row).find('a[href]').first()[0];
    if (a) add(a, row);
  });
  if (links.size === 0) {
    // Generic: list rows anywhere outside header/nav/footer whose link is a detail page of this column.
    $('li, tr').each((_, row) => {
      if ($(row).closest(NOT_CONTENT).length) return;
      $(row)
        .find('a[href]')
        .each((_, a) => {
          const url = absolute($(a).attr('href'), pageUrl);
          if (!url) return;
          const inColumn = url.startsWith(column) && /\.s?html?$/i.test(new URL(url).pathname) && cleanText($(a).text()).length >= 4;
          if (DETAIL_URL.test(new URL(url).pathname) || inColumn) add(a, row);
        });
    });
  }
  if (links.size === 0) {
    $('a[href]').each((_, a) => {
      const url = absolute($(a).attr('href'), pageUrl);
      if (url && DETAIL_URL.test(new URL(url).pathname)) add(a, $(a).parent()[0] ?? a);
    });
  }
  return { links: [...links.values()], nextPages };
}

function metaContent($: CheerioAPI, ...names: string[]): string {
  for (const name of names) {
    const v = cleanText($(`meta[name="${name}"], meta[property="${name}"]`).first().attr('content') ?? '');
    if (v) return v;
  }
  return '';
}

function outside(node: Cheerio<AnyNode>, selector: string): boolean {
  return node.closest(selector).length === 0;
}

function findTitle($: CheerioAPI, selector?: string): string {
  const own = selector ? cleanText($(selector).first().text()) : '';
  if (own) return own;
  const known = $('.article-title, .article h1, h1.title, .title h1, #title, .detail-title, .xl-title, .art_title, .content-title').first();
  if (known.length) return cleanText(known.text());
  const meta = metaContent($, 'ArticleTitle', 'og:title');
  if (meta) return meta;
  const h1 = $('h1')
    .filter((_, el) => outside($(el), NOT_CONTENT))
    .first();
  if (h1.length && cleanText(h1.text())) return cleanText(h1.text());
  // <title>文章标题_青山县人民政府</title>: the part before the site name.
  return cleanText(cleanText($('title').first().text()).split(/\s*(?:_|\||——|\s-\s)\s*/)[0] ?? '');
}

const BODY = '.TRS_Editor, .trs_editor_view, .article-content, .article_content, #zoom, .zoom, .detail-content, .content-text, .view, #content, .content, article';

const CONTAINER = new Set(['div', 'table', 'section', 'article', 'ul', 'ol', 'form', 'header', 'footer', 'nav', 'aside']);

/** The element with the most text of its own (text and inline children, not nested containers). */
function largestTextBlock($: CheerioAPI): string {
  let best: AnyNode | undefined;
  let bestLength = 0;
  // Everything inside page chrome and comment areas, collected once (a per-element closest() is quadratic).
  const skipped = new Set<AnyNode>($(`${NOT_CONTENT}, .comment-box, .comment-list, .comments`).find('*').addBack().toArray());
  $('div, td, article, section').each((_, el) => {
    if (skipped.has(el)) return;
    let length = 0;
    for (const child of el.children) {
      const type = String(child.type);
      if (type === 'text' && 'data' in child) length += cleanText(child.data).length;
      else if (type === 'tag' && 'name' in child && !CONTAINER.has(child.name.toLowerCase())) length += cleanText($(child).text()).length;
    }
    if (length > bestLength) {
      best = el;
      bestLength = length;
    }
  });
  return best ? blockText($, best) : '';
}

function findPublished($: CheerioAPI, metaLine: string, pageText: string): string | undefined {
  const meta = metaContent($, 'PubDate', 'pubdate', 'publishdate', 'article:published_time');
  const labelled = (text: string) => text.match(/(?:发布时间|发布日期|发文日期|成文日期|日期|时间)\s*[:：]?\s*([^来作浏字]{6,40})/)?.[1];
  for (const candidate of [meta, labelled(metaLine), metaLine, labelled(pageText), pageText]) {
    const at = candidate ? parseChineseDate(candidate) : undefined;
    if (at) return at;
  }
  return undefined;
}

function commentId(node: Cheerio<AnyNode>): string | undefined {
  const raw = node.attr('data-id') ?? node.attr('data-cid') ?? node.attr('data-comment-id') ?? node.attr('id');
  const id = raw?.trim().replace(/^comment[-_]?/i, '');
  return id || undefined;
}

const COMMENT = '.comment-list .comment, .comments .comment, .comment-list .comment-item, .pl-list .pl-item';

function extractComments($: CheerioAPI, now: Date): ArticleComment[] {
  const comments: ArticleComment[] = [];
  const seen = new Set<string>();
  const idOf = new Map<AnyNode, string>();
  $(COMMENT).each((_, el) => {
    const node = $(el);
    // Only this comment's own parts, not those of replies nested inside it.
    const own = (selector: string) =>
      node
        .find(selector)
        .filter((_, part) => $(part).closest(COMMENT)[0] === el)
        .first();
    const textEl = own('.comment-text, .comment-content, .pl-content, .content, .text')[0];
    let text = textEl ? blockText($, textEl) : '';
    if (!textEl) {
      // Unknown shape: the comment without its meta line and nested replies.
      const bare = node.clone();
      bare.find('.comment, .comment-item, .pl-item, .comment-replies, .replies, .comment-meta, .meta, .author, .user, .name, .nickname, .time, .date').remove();
      text = blockText($, bare[0]!);
    }
    if (!text) return;
    const author = cleanText(own('.comment-author, .author, .user, .name, .nickname').text());
    const publishedAt = parseChineseDate(cleanText(own('.comment-time, .time, .date').text()), now);
    let id = commentId(node);
    if (!id) id = `h${createHash('sha1').update(`${author}\u0000${publishedAt ?? ''}\u0000${text}`).digest('hex').slice(0, 12)}`;
    if (seen.has(id)) return;
    seen.add(id);
    idOf.set(el, id);
    const parentEl = node.parent().closest(COMMENT)[0];
    const parentId = node.attr('data-parent')?.trim() || node.attr('data-pid')?.trim() || (parentEl ? idOf.get(parentEl) : undefined);
    comments.push({ id, text, ...(author ? { author } : {}), ...(publishedAt ? { publishedAt } : {}), ...(parentId ? { parentId } : {}) });
  });
  return comments;
}

function extractAttachments($: CheerioAPI, pageUrl: string): Article['attachments'] {
  const out = new Map<string, string>();
  $('a[href]').each((_, a) => {
    const url = absolute($(a).attr('href'), pageUrl);
    if (!url || out.has(url)) return;
    const text = cleanText($(a).text());
    const file = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    if (ATTACHMENT_FILE.test(file) || ATTACHMENT_FILE.test(text)) out.set(url, text || file);
  });
  return [...out].map(([url, name]) => ({ url, name }));
}

/**
 * A detail page: title, 发布时间, 来源, body text (paragraphs as lines), the comment thread (replies
 * carry their parent's id) and attachment links. Uses the usual CMS selectors and `<meta
 * name="ArticleTitle|PubDate|ContentSource">`; without them, the largest text block and the first
 * date on the page.
 *
 * @throws Error when the page has no recognisable article (an error page, an empty page)
 */
export function extractArticle(html: string, pageUrl: string, options: ExtractOptions = {}): Article {
  const $ = loadPage(html);
  const profile = options.profile;
  const title = findTitle($, profile?.title);
  const metaLine = cleanText($(profile?.publishedAt ?? '.article-meta, .article-info, .info, .pages-date, .detail-info, .xl-info, .property').first().text());
  const ownBody = profile?.body ? $(profile.body).first() : undefined;
  const outsideChrome = $(BODY)
    .filter((_, el) => outside($(el), `${NOT_CONTENT}, .comment-box, .comment-list, .comments`))
    .first();
  // Broken HTML (an unclosed navigation <div>) can swallow the whole article into the page chrome.
  const swallowed = outsideChrome.length ? outsideChrome : $(BODY).filter((_, el) => outside($(el), '.comment-box, .comment-list, .comments') && cleanText($(el).text()).length >= 30).first();
  const bodyEl = ownBody?.length ? ownBody : swallowed;
  let text = bodyEl.length ? blockText($, bodyEl[0]!) : '';
  if (!bodyEl.length) {
    text = largestTextBlock($);
    // Error pages are short; a long page that mentions 404 somewhere is still content.
    if (text.length < 30 || (text.length < 200 && looksLikeErrorPage(`${title} ${text}`))) {
      const shown = cleanText(`${title} ${text}`).slice(0, 80);
      throw new Error(`no article recognised at ${pageUrl}${shown ? `: the page says "${shown}"` : ': the page is empty'}`);
    }
  }
  if (!title && !text) throw new Error(`no article recognised at ${pageUrl}: neither a title nor body text`);

  const commentsText = cleanText($('.comment-box, .comment-list, .comments').text());
  const pageText = cleanText($('body').text()).replace(commentsText, '');
  const publishedAt = findPublished($, metaLine, pageText);
  const ownOrigin = profile?.origin ? cleanText($(profile.origin).first().text()).replace(/^来源\s*[:：]\s*/, '') : '';
  const source = ownOrigin || metaContent($, 'ContentSource', 'source') || `${metaLine} ${pageText.slice(0, 3000)}`.match(/来源\s*[:：]\s*([^\s【】|]{1,40})/)?.[1];

  const comments = extractComments($, options.now ?? new Date());
  const attachments = extractAttachments($, pageUrl);
  return { title, text, comments, attachments, ...(publishedAt ? { publishedAt } : {}), ...(source ? { source } : {}) };
}
