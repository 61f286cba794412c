import * as cheerio from 'cheerio';
import type { CheerioAPI } from 'cheerio';
import { xmlSafeText } from '../../core/text/xml-safe-text.js';

/** A DOM node as cheerio hands it out (domhandler's AnyNode, without depending on domhandler). */
export type AnyNode = Exclude<Parameters<typeof cheerio.load>[0], string | Buffer | unknown[]>;

/**
 * Helpers the extractors share. Crawled pages are hostile input: only plain text and absolute
 * http(s) URLs ever leave an extractor, never markup.
 */

/** Longest page parsed; the rest is dropped (a government page is rarely over 1 MB). */
export const MAX_PAGE_CHARS = 5_000_000;
/** Deepest element nesting accepted: real pages stay under ~100; parsing cost grows with depth squared. */
export const MAX_NESTING = 1_000;

/** Elements that close themselves or need no end tag, so they do not deepen the tree. */
const NOT_NESTING = new Set(['area', 'base', 'br', 'col', 'colgroup', 'dd', 'dt', 'embed', 'hr', 'img', 'input', 'li', 'link', 'meta', 'option', 'optgroup', 'p', 'param', 'rp', 'rt', 'source', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'track', 'wbr']);

/** Deepest nesting of container elements, estimated in one pass over the raw markup. */
function nestingDepth(html: string): number {
  let depth = 0;
  let max = 0;
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(\/?)>/g)) {
    const name = m[2]!.toLowerCase();
    if (NOT_NESTING.has(name) || m[3]) continue;
    if (m[1]) depth = Math.max(0, depth - 1);
    else if (++depth > max) max = depth;
  }
  return max;
}

/**
 * Parses crawled HTML with scripts, styles and embedded objects removed. Refuses pathological
 * nesting (a hostile page could otherwise stall the crawler for minutes) and truncates huge pages.
 *
 * @throws Error when elements nest deeper than {@link MAX_NESTING}
 */
export function loadPage(rawHtml: string): CheerioAPI {
  const html = rawHtml.length > MAX_PAGE_CHARS ? rawHtml.slice(0, MAX_PAGE_CHARS) : rawHtml;
  const depth = nestingDepth(html);
  if (depth > MAX_NESTING) throw new Error(`page nests elements ${depth} deep (more than ${MAX_NESTING}); refusing to parse it`);
  const $ = cheerio.load(html);
  $('script, style, noscript, template, iframe, object, embed, svg').remove();
  return $;
}

/** Text with runs of whitespace (including NBSP, full-width spaces and zero-width characters) collapsed to one space. */
export function cleanText(text: string): string {
  return xmlSafeText(text.replace(/[\f\v]/g, ' ')).replace(/[\u200b-\u200d\u2060\ufeff]/g, '').replace(/[\s\u00a0\u3000]+/g, ' ').trim();
}

const BLOCK = new Set(['address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'ol', 'p', 'pre', 'section', 'table', 'tbody', 'thead', 'tr', 'ul']);
const CELL = new Set(['td', 'th']);

/**
 * Paragraph-preserving text of an element: block elements and `<br>` become line breaks, table
 * cells are separated by spaces, whitespace inside a line is collapsed, empty lines dropped.
 */
export function blockText($: CheerioAPI, el: AnyNode): string {
  const lines: string[] = [];
  let line = '';
  const breakLine = () => {
    const t = cleanText(line);
    if (t) lines.push(t);
    line = '';
  };
  // Iterative walk: a hostile page may nest elements deeper than the call stack.
  type Step = { node: AnyNode; leaving: boolean };
  const stack: Step[] = $(el)
    .toArray()
    .reverse()
    .map((node) => ({ node, leaving: false }));
  for (let step = stack.pop(); step; step = stack.pop()) {
    const { node, leaving } = step;
    const type = String(node.type);
    if (type === 'text' && 'data' in node) {
      line += node.data;
      continue;
    }
    if ((type !== 'tag' && type !== 'root') || !('children' in node)) continue;
    const name = 'name' in node ? node.name.toLowerCase() : '';
    if (BLOCK.has(name)) breakLine();
    if (CELL.has(name)) line += ' ';
    if (leaving) continue;
    stack.push({ node, leaving: true });
    for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, leaving: false });
  }
  breakLine();
  return lines.join('\n');
}

/** An absolute http(s) URL without fragment, or undefined for javascript:, mailto:, data: and garbage. */
export function absolute(href: string | undefined, base: string): string | undefined {
  const h = href?.trim();
  if (!h || h.startsWith('#') || /^(javascript|mailto|tel|data|about):/i.test(h)) return undefined;
  try {
    const u = new URL(h, base);
    u.hash = '';
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** The directory of a URL (`…/gzdt/index_1.html` → `…/gzdt/`). */
export function directoryOf(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.toString().replace(/[^/]*$/, '');
}

const PAGER_TEXT = /^(下一页|下页|尾页|末页|最后一页|上一页|上页|首页|第一页|\d{1,4}|[>»›]+|[<«‹]+|next|last|prev(ious)?|first)$/i;
const LIST_FILE = /(^|\/)(index|list|default|more)([_-]\d+)?\.s?html?$/i;
const PAGE_QUERY = /[?&](page|pageno|pagenum|pageindex|curpage|currpage|p|pn)=\d+/i;
/** `createPageHTML(total, current, "index", "html")`, the pager TRS writes with a script. */
const TRS_PAGER = /createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([\w-]+)["']\s*,\s*["'](\w+)["']/;
/** Upper bound on list pages taken from one pager script (hostile pages could claim millions). */
const MAX_SCRIPT_PAGES = 500;

/**
 * The other list pages of the column a list page belongs to: pager anchors (下一页, 尾页, page
 * numbers) that stay in the page's directory, and the pages a TRS `createPageHTML(...)` script
 * would write. Never the page itself. Needs the raw HTML, since `loadPage` drops scripts.
 */
export function paginationLinks($: CheerioAPI, rawHtml: string, pageUrl: string): string[] {
  const dir = directoryOf(pageUrl);
  const self = absolute(pageUrl, pageUrl);
  const out = new Set<string>();
  const script = TRS_PAGER.exec(rawHtml);
  if (script) {
    const total = Math.min(Number(script[1]), MAX_SCRIPT_PAGES);
    for (let i = 0; i < total; i++) {
      const url = absolute(`${script[3]}${i === 0 ? '' : `_${i}`}.${script[4]}`, dir);
      if (url) out.add(url);
    }
  }
  $('a[href]').each((_, a) => {
    const node = $(a);
    const text = cleanText(node.text()) || cleanText(node.attr('title') ?? '');
    const url = absolute(node.attr('href'), pageUrl);
    if (!url || !PAGER_TEXT.test(text) || directoryOf(url) !== dir) return;
    if (LIST_FILE.test(new URL(url).pathname) || PAGE_QUERY.test(url)) out.add(url);
  });
  if (self) out.delete(self);
  return [...out].sort((a, b) => pageNumber(a) - pageNumber(b));
}

function pageNumber(url: string): number {
  const u = new URL(url);
  const m = /[_-](\d+)\.s?html?$/i.exec(u.pathname) ?? PAGE_QUERY.exec(u.search);
  return m ? Number(m[m.length - 1]) : 0;
}

/** Words that give away an error page (404, 无权访问, 系统繁忙, …) when the page has little else. */
const ERROR_WORDS = /(^|\D)(400|401|403|404|410|500|502|503|504)(\D|$)|not found|forbidden|bad gateway|service unavailable|internal server error|页面不存在|页面未找到|找不到|不存在或已(被)?删除|已被删除|已删除|无权访问|访问受限|系统繁忙|服务器错误|出错了|页面错误|error/i;

/** True when `text` reads like an error page rather than content. */
export function looksLikeErrorPage(text: string): boolean {
  return ERROR_WORDS.test(text);
}
