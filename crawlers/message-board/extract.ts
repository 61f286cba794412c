import type { CheerioAPI } from 'cheerio';
import { parseChineseDate } from '../shared/dates.js';
import { type AnyNode, absolute, blockText, cleanText, loadPage, looksLikeErrorPage, paginationLinks } from '../shared/html.js';

/**
 * Pure extractors for a 留言板 / 领导信箱: the list of messages with their answered status, and a
 * message with the unit's reply. Input is hostile: everything returned is plain text.
 */

export interface MessageListEntry {
  url: string;
  /** The board's message number (编号), else the id in the detail URL. */
  id: string;
  title: string;
  publishedAt?: string;
  /** 已回复 / 已办结 / 已答复 in the status column. */
  answered: boolean;
}

export interface BoardMessage {
  id: string;
  title: string;
  text: string;
  author?: string;
  publishedAt?: string;
  /** The unit's answer (回复内容, 回复时间, 回复单位), when there is one. */
  reply?: { text: string; at?: string; by?: string };
}

export interface ExtractOptions {
  /** Reference time for relative times (3小时前, 昨天 10:30); defaults to the current time. */
  now?: Date;
}

const UNANSWERED = /未回复|未答复|待回复|未办结|待处理|处理中|办理中|受理中|未处理|待审核/;
const ANSWERED = /已回复|已答复|已办结|已处理|已反馈|办结/;
const DETAIL_HREF = /detail|content|show|view|info|xq|letter|msg|\/\d+\.s?html?$/i;

function idFromUrl(url: string): string | undefined {
  const u = new URL(url);
  return (
    /detail[_-]?([A-Za-z0-9-]+)\.s?html?$/i.exec(u.pathname)?.[1] ??
    u.searchParams.get('id') ??
    u.searchParams.get('msgId') ??
    /\/([A-Za-z]*\d[\w-]*)\.s?html?$/.exec(u.pathname)?.[1] ??
    undefined
  );
}

/** Column positions from a header row (编号 | 标题 | 留言时间 | 状态), when the table has one. */
function columnsOf($: CheerioAPI, table: AnyNode): { id?: number; title?: number; time?: number; status?: number } {
  const header = $(table)
    .find('tr')
    .filter((_, tr) => $(tr).find('th').length > 0)
    .first();
  const cells = header.find('th, td').toArray().map((c) => cleanText($(c).text()));
  const find = (re: RegExp) => {
    const i = cells.findIndex((c) => re.test(c));
    return i >= 0 ? i : undefined;
  };
  const out: { id?: number; title?: number; time?: number; status?: number } = {};
  const id = find(/编号|序号|信件号|留言号/);
  const title = find(/标题|主题/);
  const time = find(/时间|日期/);
  const status = find(/状态|办理|回复/);
  if (id !== undefined) out.id = id;
  if (title !== undefined) out.title = title;
  if (time !== undefined) out.time = time;
  if (status !== undefined) out.status = status;
  return out;
}

/**
 * A 留言板 list page: each message's detail link, number, date and answered status, and the board's
 * other list pages. Reads table rows (by header: 编号, 标题, 留言时间, 状态) and `<li>` lists.
 */
export function extractMessageList(html: string, pageUrl: string, options: ExtractOptions = {}): { messages: MessageListEntry[]; nextPages: string[] } {
  const $ = loadPage(html);
  const nextPages = paginationLinks($, html, pageUrl);
  const pager = new Set(nextPages);
  const messages = new Map<string, MessageListEntry>();
  const now = options.now ?? new Date();

  const chrome = new Set<AnyNode>($('.header, .nav, .footer, .page, .pager, .pagination, header, nav, footer').find('*').toArray());
  const columnsByTable = new Map<AnyNode, ReturnType<typeof columnsOf>>();
  $('tr, li').each((_, row) => {
    if (chrome.has(row)) return;
    const cells = $(row).children('td').toArray();
    const table = $(row).closest('table')[0];
    let cols: ReturnType<typeof columnsOf> = {};
    if (table) {
      cols = columnsByTable.get(table) ?? columnsOf($, table);
      columnsByTable.set(table, cols);
    }
    const titleCell = cols.title !== undefined ? cells[cols.title] : undefined;
    const a = (titleCell ? $(titleCell).find('a[href]') : $(row).find('a[href]')).first();
    const url = absolute(a.attr('href'), pageUrl);
    if (!url || pager.has(url) || messages.has(url) || !DETAIL_HREF.test(url)) return;
    const title = cleanText(a.attr('title') ?? '') || cleanText(a.text());
    if (!title) return;
    const cellText = (i: number | undefined) => (i !== undefined && cells[i] ? cleanText($(cells[i]).text()) : '');
    const rowText = cleanText($(row).text()).replace(title, ' ');
    const id = cellText(cols.id) || idFromUrl(url) || url;
    const publishedAt = parseChineseDate(cellText(cols.time) || rowText, now);
    const status = cellText(cols.status) || rowText;
    const answered = !UNANSWERED.test(status) && ANSWERED.test(status);
    messages.set(url, { url, id, title, answered, ...(publishedAt ? { publishedAt } : {}) });
  });
  return { messages: [...messages.values()], nextPages };
}

/**
 * A message detail page: the citizen's message and, when answered, the unit's reply. Reads labelled
 * cells (`<th>留言内容</th><td>…</td>`), labelled lines (`留言人：张三`) and the usual class names.
 *
 * @throws Error when the page shows no message content (an error page, an empty page)
 */
export function extractMessage(html: string, pageUrl: string, options: ExtractOptions = {}): BoardMessage {
  const $ = loadPage(html);
  const now = options.now ?? new Date();
  const lines = blockText($, $('body')[0] ?? $.root()[0]!).split('\n');

  /** The value for a label: a class shortcut, a labelled cell, or a `label：value` line. */
  const labelled = (label: RegExp, cls: string, scope?: AnyNode): string => {
    const root = scope ? $(scope) : $.root();
    const byClass = root.find(cls).first();
    if (byClass.length) return blockText($, byClass[0]!);
    let found = '';
    root.find('th, td, dt, .label, span, label, strong, b').each((_, cell) => {
      if (found) return;
      const t = cleanText($(cell).text()).replace(/[:：]$/, '');
      if (!label.test(t) || t.length > 12) return;
      const next = $(cell).next();
      if (next.length) found = blockText($, next[0]!);
    });
    if (found) return found;
    for (const line of lines) {
      const m = /^([^:：]{2,8})[:：]\s*(.+)$/.exec(line);
      if (m && label.test(m[1]!) && m[2]) return m[2].trim();
    }
    return '';
  };

  const text = labelled(/^(留言|来信|咨询|投诉|诉求)?(内容|正文)$/, '.msg-content, .message-content, .ly-content');
  if (!text) {
    const said = cleanText($('title').text() || $('body').text()).slice(0, 80);
    throw new Error(`no message recognised at ${pageUrl}${said ? `: the page says "${said}"` : ': the page is empty'}${looksLikeErrorPage(said) ? ' (an error page)' : ''}`);
  }
  const title = labelled(/^(留言|来信|信件)?(标题|主题)$/, '.msg-title, .message-title') || cleanText($('h1').first().text()) || text.slice(0, 30);
  const id = labelled(/^(留言|信件|来信)?(编号|序号)$/, '.msg-id, .message-id') || idFromUrl(pageUrl) || pageUrl;
  const author = labelled(/^(留言人|来信人|姓名|网友|提问人|写信人)$/, '.msg-author, .message-author');
  const publishedAt = parseChineseDate(labelled(/^(留言|来信|提交|写信|发布)?(时间|日期)$/, '.msg-time, .message-time'), now);

  const box = $('.reply-box, .reply, .answer, .hf-box')
    .filter((_, el) => !$(el).is('.pending, .no-reply'))
    .first()[0];
  let reply: BoardMessage['reply'];
  const replyText = labelled(/^(回复|答复|办理|处理)(内容|意见|结果)$/, '.reply-content, .answer-content', box);
  if (replyText && !/^(暂未回复|暂无回复|未回复|尚未回复|待回复)$/.test(replyText)) {
    const at = parseChineseDate(labelled(/^(回复|答复|办理|办结)(时间|日期)$/, '.reply-time, .answer-time', box), now);
    const by = labelled(/^(回复|答复|办理|承办)(单位|部门|机构)$/, '.reply-unit, .answer-unit', box);
    reply = { text: replyText, ...(at ? { at } : {}), ...(by ? { by } : {}) };
  }
  return { id, title, text, ...(author ? { author } : {}), ...(publishedAt ? { publishedAt } : {}), ...(reply ? { reply } : {}) };
}
