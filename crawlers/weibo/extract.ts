import { z } from 'zod';
import type { ExtractedItem } from '../../core/posts/collected-item.js';
import { InvalidInputError } from '../../core/errors.js';
import { cleanText } from '../shared/html.js';
import { parseChineseDate } from '../shared/dates.js';
import { htmlToText, toBeijingIso } from '../platform/text.js';

/**
 * Pure readers of the Weibo mobile site's JSON answers (m.weibo.cn shapes): the account timeline
 * (`api/container/getIndex`, container `107603{uid}`), long texts (`statuses/extend`), comments
 * (`comments/hotflow`, `max_id` paging) and their replies (`comments/hotFlowChild`).
 */

/** What an answer means before its data is read, as a named reason. */
export type WeiboAnswerKind =
  | 'ok'
  | 'empty' // ok:0 "快来发表你的评论吧" / "这里还没有内容": nothing (more) there, truthfully
  | 'login-required' // ok:-100, or a redirect to passport
  | 'risk-control' // ok:0 with 验证/风控/频繁, HTTP 418/432
  | 'error'; // any other refusal

export interface WeiboVerdict {
  kind: WeiboAnswerKind;
  code?: string;
  cause?: string;
  message?: string;
}

const RISK_WORDS = /验证|风控|频繁|异常|安全|稍后再试|busy|captcha|verify/i;
const EMPTY_WORDS = /快来发表你的评论吧|暂无(数据|评论|微博)|还没有人评论|没有更多|这里还没有内容/;

/**
 * Judges an answer from its HTTP status, redirect target and body, so that a refusal is never
 * taken for an empty result.
 */
export function judgeWeiboAnswer(status: number, location: string | undefined, body: unknown): WeiboVerdict {
  if (status === 418 || status === 432 || status === 403 || status === 429) {
    return { kind: 'risk-control', code: 'weibo_risk_control', cause: `微博触发风控（HTTP ${status}），已暂停采集，稍后自动重试`, message: `HTTP ${status}` };
  }
  if (status >= 300 && status < 400) {
    if (/passport|login|signin|visitor/i.test(location ?? '')) return { kind: 'login-required', code: 'weibo_login_required', cause: '微博要求登录（跳转到登录页）：请更新采集账号的 Cookie', message: `redirect to ${location}` };
    return { kind: 'error', code: 'weibo_redirect', cause: `微博接口跳转到了意外的地址（HTTP ${status}）`, message: `unexpected redirect (HTTP ${status}) to ${location ?? '(none)'}` };
  }
  if (status >= 400) return { kind: 'error', code: 'weibo_http_error', cause: `微博接口返回 HTTP ${status}`, message: `HTTP ${status}` };
  if (typeof body !== 'object' || body === null) return { kind: 'error', code: 'weibo_answer_invalid', cause: '微博接口返回了无法识别的内容', message: 'answer is not a JSON object' };
  const b = body as { ok?: unknown; msg?: unknown; url?: unknown; errno?: unknown };
  const ok = Number(b.ok);
  const msg = typeof b.msg === 'string' ? b.msg.slice(0, 200) : '';
  if (ok === 1) return { kind: 'ok' };
  if (ok === -100 || /passport|login/i.test(String(b.url ?? ''))) return { kind: 'login-required', code: 'weibo_login_required', cause: '微博要求登录（ok:-100）：请更新采集账号的 Cookie', message: `ok:${b.ok} ${msg}` };
  if (EMPTY_WORDS.test(msg)) return { kind: 'empty' };
  if (RISK_WORDS.test(msg)) return { kind: 'risk-control', code: 'weibo_risk_control', cause: `微博触发风控：“${msg}”，已暂停采集，稍后自动重试`, message: `ok:${b.ok} ${msg}` };
  return { kind: 'error', code: 'weibo_api_error', cause: `微博接口拒绝请求：${msg || `ok:${String(b.ok)}`}`, message: `ok:${String(b.ok)} ${msg}` };
}

const MONTHS: Record<string, number> = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };

/** `Tue Nov 24 10:00:00 +0800 2026` (and the relative forms older answers print) in Beijing time. */
export function parseWeiboDate(value: unknown, now?: Date): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/.exec(value.trim());
  if (m) {
    const month = MONTHS[m[1]!];
    if (!month) return undefined;
    const offset = (m[6] === '-' ? -1 : 1) * (Number(m[7]) * 60 + Number(m[8]));
    const t = Date.UTC(Number(m[9]), month - 1, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) - offset * 60_000;
    const check = new Date(Date.UTC(Number(m[9]), month - 1, Number(m[2])));
    if (check.getUTCDate() !== Number(m[2]) || Number(m[3]) > 23 || Number(m[4]) > 59) return undefined;
    return toBeijingIso(new Date(t));
  }
  return parseChineseDate(value, now);
}

function parse<T>(schema: z.ZodType<T>, answer: unknown, what: string): T {
  const result = schema.safeParse(answer);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(the answer)';
  throw new InvalidInputError(`${what} answer has an unexpected shape at ${where}: ${issue?.message ?? 'invalid'}`, 'weibo_answer_invalid');
}

const idString = z.union([z.string().min(1), z.number()]).transform(String);
const UserSchema = z.object({ id: z.union([z.string(), z.number()]).optional(), screen_name: z.string().default('') }).nullish();

interface Mblog {
  id: string;
  mid?: string | undefined;
  text: string;
  created_at?: string | undefined;
  isLongText: boolean;
  user?: { screen_name: string } | null | undefined;
  retweeted_status?: { text?: string | undefined; user?: { screen_name: string } | null | undefined } | null | undefined;
  deleted?: string | number | undefined;
}

const MblogSchema: z.ZodType<Mblog> = z.object({
  id: idString,
  mid: idString.optional(),
  text: z.string().default(''),
  created_at: z.string().optional(),
  isLongText: z.boolean().default(false),
  user: UserSchema,
  retweeted_status: z.object({ text: z.string().optional(), user: UserSchema }).nullish(),
  deleted: z.union([z.string(), z.number()]).optional(),
}) as unknown as z.ZodType<Mblog>;

const TimelineSchema = z.object({
  data: z.object({
    cardlistInfo: z.object({ since_id: z.union([z.string(), z.number()]).nullish(), page: z.union([z.string(), z.number()]).nullish(), total: z.coerce.number().optional() }).passthrough().optional(),
    cards: z.array(z.object({ card_type: z.coerce.number().optional(), mblog: z.unknown().optional(), card_group: z.array(z.object({ mblog: z.unknown().optional() }).passthrough()).optional() }).passthrough()).default([]),
  }),
});

/** A post of the timeline with what the collector needs for its long text and comments. */
export interface WeiboPost {
  item: ExtractedItem;
  id: string;
  mid: string;
  /** The text is cut (…全文): `statuses/extend` has the whole of it. */
  isLongText: boolean;
}

export function weiboPostUrl(baseUrl: string, id: string): string {
  return `${baseUrl.replace(/\/$/, '')}/detail/${encodeURIComponent(id)}`;
}

function postOf(mblog: Mblog, baseUrl: string, now: Date | undefined): WeiboPost {
  const id = mblog.id;
  const mid = mblog.mid ?? id;
  let text = htmlToText(mblog.text);
  const rt = mblog.retweeted_status;
  if (rt) text = `${text}\n//转发 @${cleanText(rt.user?.screen_name ?? '') || '原博'}：${htmlToText(rt.text ?? '')}`;
  const publishedAt = parseWeiboDate(mblog.created_at, now);
  const author = cleanText(mblog.user?.screen_name ?? '');
  return {
    id,
    mid,
    isLongText: mblog.isLongText,
    item: {
      kind: 'weibo',
      url: weiboPostUrl(baseUrl, id),
      platformId: `weibo:${mid}`,
      text,
      ...(author ? { author } : {}),
      ...(publishedAt ? { publishedAt } : {}),
    },
  };
}

/**
 * One page of the account's timeline. Cards without a post (profile, pictures, follow prompts)
 * are skipped; so are posts marked deleted. `nextSinceId` is the cursor of the next page, if any.
 *
 * @throws InvalidInputError (`weibo_answer_invalid`) naming the field when the answer's shape is wrong
 */
export function extractTimeline(answer: unknown, baseUrl: string, now?: Date): { posts: WeiboPost[]; nextSinceId?: string } {
  const page = parse(TimelineSchema, answer, 'container/getIndex');
  const posts: WeiboPost[] = [];
  const mblogs = page.data.cards.flatMap((c) => [c.mblog, ...(c.card_group ?? []).map((g) => g.mblog)]).filter((m) => m !== undefined && m !== null);
  mblogs.forEach((raw, i) => {
    const mblog = parse(MblogSchema, raw, `container/getIndex cards.${i}.mblog`);
    if (mblog.deleted !== undefined && String(mblog.deleted) === '1') return;
    posts.push(postOf(mblog, baseUrl, now));
  });
  const since = page.data.cardlistInfo?.since_id;
  return { posts, ...(since !== undefined && since !== null && String(since) !== '' && String(since) !== '0' ? { nextSinceId: String(since) } : {}) };
}

const ExtendSchema = z.object({ data: z.object({ longTextContent: z.string() }) });

/** The whole text of a long post (`statuses/extend`). */
export function extractLongText(answer: unknown): string {
  return htmlToText(parse(ExtendSchema, answer, 'statuses/extend').data.longTextContent);
}

interface RawComment {
  id: string;
  text: string;
  created_at?: string | undefined;
  user?: { screen_name: string } | null | undefined;
  total_number?: number | undefined;
  comments?: RawComment[] | false | null | undefined;
  reply_comment?: { id: string } | null | undefined;
}

const RawCommentSchema: z.ZodType<RawComment> = z.lazy(() =>
  z.object({
    id: idString,
    text: z.string().default(''),
    created_at: z.string().optional(),
    user: UserSchema,
    total_number: z.coerce.number().optional(),
    comments: z.union([z.array(RawCommentSchema), z.literal(false), z.null()]).optional(),
    reply_comment: z.object({ id: idString }).passthrough().nullish(),
  }),
) as unknown as z.ZodType<RawComment>;

const HotflowSchema = z.object({
  data: z.object({
    data: z.array(RawCommentSchema).default([]),
    max_id: z.union([z.string(), z.number()]).optional(),
    max_id_type: z.union([z.string(), z.number()]).optional(),
    total_number: z.coerce.number().optional(),
  }),
});

const ChildFlowSchema = z.object({
  data: z.array(RawCommentSchema).default([]),
  max_id: z.union([z.string(), z.number()]).optional(),
  max_id_type: z.union([z.string(), z.number()]).optional(),
  total_number: z.coerce.number().optional(),
});

/** A comment thread root whose replies were not all shown inline. */
export interface MoreReplies {
  commentId: string;
  platformId: string;
  shown: number;
  total: number;
}

export interface CommentsPage {
  comments: ExtractedItem[];
  /** Cursor of the next page (`max_id`); absent on the last page. */
  nextMaxId?: string;
  nextMaxIdType?: string;
  /** Threads with more replies than the page shows (`comments/hotFlowChild` has them). */
  moreReplies: MoreReplies[];
}

function commentItems(raw: RawComment, post: { url: string; platformId: string }, parentRef: string, now: Date | undefined, out: ExtractedItem[], seen: Set<string>): void {
  const platformId = `weibo:comment:${raw.id}`;
  if (seen.has(platformId)) return;
  seen.add(platformId);
  const publishedAt = parseWeiboDate(raw.created_at, now);
  const author = cleanText(raw.user?.screen_name ?? '');
  // A reply to a reply points at the comment it answers when the answer says which; else at the thread root.
  const parent = raw.reply_comment?.id ? `weibo:comment:${raw.reply_comment.id}` : parentRef;
  out.push({
    kind: 'comment',
    url: `${post.url}#comment-${encodeURIComponent(raw.id)}`,
    platformId,
    parentRef: parent,
    text: htmlToText(raw.text),
    ...(author ? { author } : {}),
    ...(publishedAt ? { publishedAt } : {}),
  });
  for (const child of Array.isArray(raw.comments) ? raw.comments : []) commentItems(child, post, platformId, now, out, seen);
}

const cursor = (v: string | number | undefined) => (v === undefined || String(v) === '0' || String(v) === '' ? undefined : String(v));

/**
 * One page of `comments/hotflow` under a post: top-level comments (parent: the post) and their
 * inline replies (parent: the comment they answer), as comment items.
 *
 * @throws InvalidInputError (`weibo_answer_invalid`) naming the field when the answer's shape is wrong
 */
export function extractComments(answer: unknown, post: { url: string; platformId: string }, now?: Date): CommentsPage {
  const page = parse(HotflowSchema, answer, 'comments/hotflow');
  const comments: ExtractedItem[] = [];
  const seen = new Set<string>();
  const moreReplies: MoreReplies[] = [];
  for (const raw of page.data.data) {
    commentItems(raw, post, post.platformId, now, comments, seen);
    const shown = Array.isArray(raw.comments) ? raw.comments.length : 0;
    if ((raw.total_number ?? 0) > shown) moreReplies.push({ commentId: raw.id, platformId: `weibo:comment:${raw.id}`, shown, total: raw.total_number ?? 0 });
  }
  const next = cursor(page.data.max_id);
  const type = cursor(page.data.max_id_type);
  return { comments, ...(next ? { nextMaxId: next } : {}), ...(type ? { nextMaxIdType: type } : {}), moreReplies };
}

/**
 * One page of `comments/hotFlowChild`: the replies of one thread, all under its root comment
 * (or the comment each one answers).
 */
export function extractReplies(answer: unknown, post: { url: string }, root: { platformId: string }, now?: Date): { replies: ExtractedItem[]; nextMaxId?: string } {
  const page = parse(ChildFlowSchema, answer, 'comments/hotFlowChild');
  const replies: ExtractedItem[] = [];
  const seen = new Set<string>();
  for (const raw of page.data) commentItems(raw, { url: post.url, platformId: root.platformId }, root.platformId, now, replies, seen);
  const next = cursor(page.max_id);
  return { replies, ...(next ? { nextMaxId: next } : {}) };
}
