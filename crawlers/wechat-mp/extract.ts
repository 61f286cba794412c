import { z } from 'zod';
import type { ExtractedItem } from '../../core/posts/collected-item.js';
import { InvalidInputError } from '../../core/errors.js';
import { cleanText, absolute, blockText, loadPage, looksLikeErrorPage } from '../shared/html.js';
import { parseChineseDate } from '../shared/dates.js';
import { fromUnixSeconds, htmlToText } from '../platform/text.js';

/**
 * Pure readers of the WeChat official-account server API's answers (`cgi-bin/token`,
 * `freepublish/batchget`, `comment/list`) and of public article pages (`mp.weixin.qq.com/s/...`).
 */

/** What to do about an `errcode`, as a named reason (tested as a table). */
export type WechatErrorDecision =
  | 'refresh-token' // 40001, 40014, 42001: the token is invalid or expired: refresh once, retry
  | 'back-off' // 45009, 45011: daily or per-minute quota used up
  | 'permission-denied' // 48001, 50001, 50002: the API is not open to this account
  | 'no-comment-permission' // 88000: comments not open on this account or article
  | 'misconfigured' // 40013, 40125, 40164, 41002, 41004: appid, secret or IP allow-list wrong
  | 'retry' // -1: system busy
  | 'fail'; // anything else

export interface WechatError {
  errcode: number;
  errmsg: string;
  decision: WechatErrorDecision;
  /** Stable code for health records. */
  code: string;
  /** What the duty officer reads. */
  cause: string;
}

const CAUSES: Record<number, [WechatErrorDecision, string, string]> = {
  40001: ['refresh-token', 'wechat_token_invalid', 'access_token 无效或已被其他服务刷新'],
  40014: ['refresh-token', 'wechat_token_invalid', 'access_token 不合法'],
  42001: ['refresh-token', 'wechat_token_expired', 'access_token 已过期'],
  45009: ['back-off', 'wechat_rate_limited', '接口调用超过每日限额（45009），已暂停采集，次日自动恢复'],
  45011: ['back-off', 'wechat_rate_limited', '接口调用过于频繁（45011），已暂停采集，稍后自动重试'],
  48001: ['permission-denied', 'wechat_permission_denied', '公众号没有该接口的权限（48001 api 功能未授权）：请确认公众号已认证并开通发布能力与留言管理'],
  50001: ['permission-denied', 'wechat_permission_denied', '该接口未授权给本公众号（50001 用户未授权该 api）：请在公众平台开通相应权限'],
  50002: ['permission-denied', 'wechat_account_limited', '公众号接口被限制使用（50002 用户受限，可能因违规被封禁）：请登录公众平台查看通知'],
  88000: ['no-comment-permission', 'wechat_comments_unavailable', '本公众号未开通留言功能或无留言管理权限（88000），留言无法采集'],
  40013: ['misconfigured', 'wechat_credentials_invalid', 'AppID 无效（40013）：请核对公众号凭据配置'],
  40125: ['misconfigured', 'wechat_credentials_invalid', 'AppSecret 无效（40125）：请核对公众号凭据配置，密钥可能已重置'],
  40164: ['misconfigured', 'wechat_ip_not_allowed', '采集服务器 IP 不在公众号 IP 白名单中（40164）：请在公众平台“基本配置”中添加'],
  41002: ['misconfigured', 'wechat_credentials_invalid', '缺少 AppID 参数（41002）'],
  41004: ['misconfigured', 'wechat_credentials_invalid', '缺少 AppSecret 参数（41004）'],
  [-1]: ['retry', 'wechat_busy', '微信接口系统繁忙（-1），稍后重试'],
};

/** The API error in an answer, or undefined when `errcode` is absent or 0. */
export function wechatErrorOf(answer: unknown): WechatError | undefined {
  if (typeof answer !== 'object' || answer === null || !('errcode' in answer)) return undefined;
  const errcode = Number((answer as { errcode: unknown }).errcode);
  if (errcode === 0 || Number.isNaN(errcode)) return undefined;
  const errmsg = String((answer as { errmsg?: unknown }).errmsg ?? '').slice(0, 300);
  const known = CAUSES[errcode];
  if (known) return { errcode, errmsg, decision: known[0], code: known[1], cause: known[2] };
  return { errcode, errmsg, decision: 'fail', code: 'wechat_api_error', cause: `微信接口返回错误 ${errcode}：${errmsg || '未知错误'}` };
}

function parse<T>(schema: z.ZodType<T>, answer: unknown, what: string): T {
  const result = schema.safeParse(answer);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(the answer)';
  throw new InvalidInputError(`${what} answer has an unexpected shape at ${where}: ${issue?.message ?? 'invalid'}`, 'wechat_answer_invalid');
}

const TokenAnswerSchema = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().int().positive() });

export function extractAccessToken(answer: unknown): { token: string; expiresInSeconds: number } {
  const a = parse(TokenAnswerSchema, answer, 'cgi-bin/token');
  return { token: a.access_token, expiresInSeconds: a.expires_in };
}

const idString = z.union([z.string(), z.number()]).transform(String);

const NewsItemSchema = z.object({
  title: z.string().default(''),
  author: z.string().default(''),
  digest: z.string().default(''),
  content: z.string().default(''),
  url: z.string().default(''),
  is_deleted: z.boolean().default(false),
  need_open_comment: z.coerce.number().default(0),
});

const BatchGetSchema = z.object({
  total_count: z.coerce.number().int().min(0),
  item_count: z.coerce.number().int().min(0),
  item: z
    .array(
      z.object({
        article_id: idString,
        content: z.object({ news_item: z.array(NewsItemSchema), create_time: z.coerce.number().optional() }),
        update_time: z.coerce.number().optional(),
      }),
    )
    .default([]),
});

/** A published article with what the comment API needs to find its comments. */
export interface WechatArticle {
  item: ExtractedItem;
  articleId: string;
  /** Position in the published message (多图文), from 0. */
  index: number;
  /** The `msg_data_id` the comment API is keyed by: the `mid` of the article's permanent link. */
  msgDataId?: string;
  commentsOpen: boolean;
}

/** `mid` and `idx` (1-based) of a permanent article link (`/s?__biz=…&mid=…&idx=…&sn=…`). */
export function articleKeyOf(url: string): { msgDataId: string; index: number } | undefined {
  try {
    const u = new URL(url.replace(/&amp;/g, '&'));
    const mid = u.searchParams.get('mid') ?? u.searchParams.get('appmsgid');
    const idx = Number(u.searchParams.get('idx') ?? '1');
    if (!mid || !/^\d+$/.test(mid) || !Number.isInteger(idx) || idx < 1) return undefined;
    return { msgDataId: mid, index: idx - 1 };
  } catch {
    return undefined;
  }
}

/**
 * One page of `freepublish/batchget`: each news item of each published message becomes an article
 * (deleted ones are left out, so that their absence is what marks them deleted).
 *
 * @throws InvalidInputError (`wechat_answer_invalid`) naming the field when the answer's shape is wrong
 */
export function extractPublishedArticles(answer: unknown, accountName: string): { totalCount: number; itemCount: number; articles: WechatArticle[] } {
  const page = parse(BatchGetSchema, answer, 'freepublish/batchget');
  const articles: WechatArticle[] = [];
  for (const published of page.item) {
    published.content.news_item.forEach((news, index) => {
      if (news.is_deleted) return;
      const url = absolute(news.url.replace(/&amp;/g, '&'), 'https://mp.weixin.qq.com/');
      if (!url) return;
      const key = articleKeyOf(url);
      const publishedAt = fromUnixSeconds(published.content.create_time ?? published.update_time);
      const text = htmlToText(news.content) || cleanText(news.digest);
      articles.push({
        articleId: published.article_id,
        index,
        ...(key ? { msgDataId: key.msgDataId } : {}),
        commentsOpen: news.need_open_comment === 1,
        item: {
          kind: 'article',
          url,
          platformId: `wxmp:${published.article_id}:${index}`,
          title: cleanText(news.title),
          text,
          author: cleanText(news.author) || accountName,
          ...(publishedAt ? { publishedAt } : {}),
        },
      });
    });
  }
  return { totalCount: page.total_count, itemCount: page.item_count, articles };
}

const CommentListSchema = z.object({
  total: z.coerce.number().int().min(0).default(0),
  comment: z
    .array(
      z.object({
        user_comment_id: idString,
        openid: z.string().optional(),
        create_time: z.coerce.number().optional(),
        content: z.string().default(''),
        comment_type: z.coerce.number().optional(),
        reply: z.object({ content: z.string().default(''), create_time: z.coerce.number().optional() }).optional(),
      }),
    )
    .default([]),
});

/**
 * One page of `comment/list` for an article: each comment (留言) becomes a comment item under the
 * article, carrying the account's reply when there is one. Commenters are not named by the API
 * (only an openid); the openid is not kept.
 *
 * @throws InvalidInputError (`wechat_answer_invalid`) naming the field when the answer's shape is wrong
 */
export function extractComments(answer: unknown, article: { url: string; platformId: string }, accountName: string): { total: number; comments: ExtractedItem[] } {
  const page = parse(CommentListSchema, answer, 'comment/list');
  const comments = page.comment.map((c): ExtractedItem => {
    const at = fromUnixSeconds(c.create_time);
    const replyText = c.reply ? htmlToText(c.reply.content) : '';
    const replyAt = c.reply ? fromUnixSeconds(c.reply.create_time) : undefined;
    return {
      kind: 'comment',
      url: `${article.url}#comment-${encodeURIComponent(c.user_comment_id)}`,
      platformId: `${article.platformId}:comment:${c.user_comment_id}`,
      parentRef: article.platformId,
      text: htmlToText(c.content),
      ...(at ? { publishedAt: at } : {}),
      ...(replyText ? { reply: { text: replyText, by: accountName, ...(replyAt ? { at: replyAt } : {}) } } : {}),
    };
  });
  return { total: page.total, comments };
}

/** Words of the pages WeChat shows instead of an article. */
const GONE = /该内容已被发布者删除|此内容因违规无法查看|此内容被投诉且经审核涉嫌侵权|该公众号已迁移|内容已被删除/;
const VERIFY = /环境异常|完成验证后即可继续访问|请在微信客户端打开链接|访问过于频繁/;

export class WechatPageUnavailable extends InvalidInputError {
  constructor(
    message: string,
    readonly reason: 'deleted' | 'verification',
  ) {
    super(message, reason === 'deleted' ? 'wechat_article_deleted' : 'wechat_verification');
  }
}

/**
 * A public article page (`mp.weixin.qq.com/s/...`): title (`#activity-name`), account
 * (`#js_name`), publish time from the inline `var ct = "…"` / `create_time` script (the visible
 * `#publish_time` is filled by script), body (`#js_content`).
 *
 * @throws WechatPageUnavailable when WeChat shows a deleted-article or verification page
 * @throws InvalidInputError (`wechat_page_invalid`) when the page is not an article page
 */
export function extractArticlePage(rawHtml: string, pageUrl: string): ExtractedItem {
  const $ = loadPage(rawHtml);
  const title = cleanText($('#activity-name').first().text()) || cleanText($('meta[property="og:title"]').attr('content') ?? '');
  const body = $('#js_content').first();
  const pageText = cleanText($('body').text()).slice(0, 2000);
  if (!title && body.length === 0) {
    if (GONE.test(pageText)) throw new WechatPageUnavailable(`${pageUrl}: WeChat says the article was deleted or blocked`, 'deleted');
    if (VERIFY.test(pageText)) throw new WechatPageUnavailable(`${pageUrl}: WeChat asks for a verification (risk control)`, 'verification');
    const why = looksLikeErrorPage(pageText) ? 'an error page' : 'no #activity-name or #js_content';
    throw new InvalidInputError(`${pageUrl} is not a WeChat article page (${why})`, 'wechat_page_invalid');
  }
  const account = cleanText($('#js_name').first().text()) || cleanText($('.profile_nickname').first().text());
  const ct = /\bvar\s+ct\s*=\s*["']?(\d{9,11})["']?/.exec(rawHtml)?.[1] ?? /\bcreate_time\s*[:=]\s*["']?(\d{9,11})["']?/.exec(rawHtml)?.[1];
  const publishedAt = fromUnixSeconds(ct) ?? parseChineseDate(cleanText($('#publish_time').text()));
  const author = cleanText($('#meta_content .rich_media_meta_text').not('#publish_time').first().text());
  const bodyNode = body.get(0);
  const text = bodyNode ? blockText($, bodyNode) : '';
  const link = /\bvar\s+msg_link\s*=\s*["']([^"']+)["']/.exec(rawHtml)?.[1] ?? $('meta[property="og:url"]').attr('content');
  const canonical = absolute(link?.replace(/&amp;/g, '&').replace(/\\x26/g, '&'), pageUrl) ?? pageUrl;
  const key = articleKeyOf(canonical);
  const biz = (() => {
    try {
      return new URL(canonical).searchParams.get('__biz') ?? '';
    } catch {
      return '';
    }
  })();
  return {
    kind: 'article',
    url: canonical,
    ...(key ? { platformId: `wxmp-page:${biz}:${key.msgDataId}:${key.index}` } : {}),
    title,
    text,
    ...(author || account ? { author: author || account } : {}),
    ...(publishedAt ? { publishedAt } : {}),
  };
}
