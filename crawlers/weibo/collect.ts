import type { WeiboSource } from '../../core/sources/source.js';
import type { CollectContext, CollectOutcome, Collector } from '../collector.js';
import { failureOf, PlatformFailure, secretHostRefusal } from '../platform/failure.js';
import { httpRequest, sleep } from '../platform/http.js';
import { extractComments, extractLongText, extractReplies, extractTimeline, judgeWeiboAnswer, type WeiboPost } from './extract.js';

/** Pause between requests to the same account: the mobile endpoints throttle bursts. */
const DEFAULT_PAUSE_MS = 500;
/** Reply pages read per thread at most. */
const MAX_REPLY_PAGES = 5;

export interface WeiboCollectorDeps {
  pauseMs?: number;
}

/**
 * The unit's own Weibo account: timeline pages (container `107603{uid}`, `since_id` paging), the
 * whole text of long posts, and the comments under each post with their replies (`max_id`
 * paging). A login wall or risk control ends the run as a blocked health failure with a Chinese
 * cause, never as an empty result; items already emitted stay emitted.
 */
export function createWeiboCollector(deps: WeiboCollectorDeps = {}): Collector<WeiboSource> {
  const pause = deps.pauseMs ?? DEFAULT_PAUSE_MS;
  return async (source, ctx) => {
    const outcome: CollectOutcome = { requests: 0, failures: [] };
    const base = source.baseUrl.replace(/\/$/, '');
    const refusal = secretHostRefusal(source, ctx.secretHosts, base);
    if (refusal) {
      outcome.failures.push(refusal);
      return outcome;
    }
    const cookie = source.cookieEnv ? ctx.env[source.cookieEnv] : undefined;
    if (source.cookieEnv && !cookie) {
      outcome.failures.push({ url: base, error: `cookie missing: env ${source.cookieEnv} not set`, code: 'credentials_missing', cause: `未配置微博登录 Cookie：环境变量 ${source.cookieEnv} 未设置`, blocked: true });
      return outcome;
    }
    let first = true;

    /** A GET of a mobile endpoint; refusals become PlatformFailure, an honest "nothing here" becomes undefined. */
    async function get(path: string, what: string): Promise<unknown> {
      if (!first && pause > 0) await sleep(pause);
      first = false;
      outcome.requests++;
      const answer = await httpRequest(`${base}${path}`, {
        timeoutMs: ctx.timeoutSeconds * 1000,
        describe: `GET ${what}`,
        redirect: 'manual',
        headers: {
          Accept: 'application/json, text/plain, */*',
          'MWeibo-Pwa': '1',
          'X-Requested-With': 'XMLHttpRequest',
          Referer: `${base}/u/${source.uid}`,
          ...(cookie ? { Cookie: cookie } : {}),
        },
      });
      const text = answer.body.toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = undefined;
      }
      if (body === undefined && answer.status === 200 && /passport|登录|login/i.test(text.slice(0, 5000))) {
        throw new PlatformFailure(`GET ${what}: a login page came instead of JSON`, 'weibo_login_required', '微博要求登录（返回了登录页面）：请更新采集账号的 Cookie', true);
      }
      const verdict = judgeWeiboAnswer(answer.status, answer.headers.get('location') ?? undefined, body);
      if (verdict.kind === 'ok') return body;
      if (verdict.kind === 'empty') return undefined;
      const blocked = verdict.kind === 'login-required' || verdict.kind === 'risk-control';
      throw new PlatformFailure(`GET ${what}: ${verdict.message ?? verdict.kind}`, verdict.code ?? 'weibo_api_error', verdict.cause ?? '微博接口拒绝请求', blocked, answer.status >= 500);
    }

    const posts: WeiboPost[] = [];
    const containerid = `107603${source.uid}`;
    const scopes = (outcome.completeScopes ??= []);
    try {
      let since: string | undefined;
      let cursorPaging = false;
      let reachedEnd = false;
      for (let page = 1; page <= source.maxPages; page++) {
        const query = `type=uid&value=${source.uid}&containerid=${containerid}${since ? `&since_id=${encodeURIComponent(since)}` : page > 1 ? `&page=${page}` : ''}`;
        const answer = await get(`/api/container/getIndex?${query}`, `container/getIndex page ${page}`);
        if (answer === undefined) {
          if (page === 1) throw new PlatformFailure('GET container/getIndex: the timeline answered "no data"', 'weibo_timeline_empty', '微博账号时间线返回为空：账号可能被封禁、设为仅自己可见或 uid 有误', false);
          reachedEnd = true;
          break;
        }
        const timeline = extractTimeline(answer, base, ctx.now());
        for (const post of timeline.posts) {
          if (posts.some((p) => p.mid === post.mid)) continue;
          if (post.isLongText) {
            try {
              const extended = await get(`/statuses/extend?id=${encodeURIComponent(post.id)}`, 'statuses/extend');
              if (extended !== undefined) post.item.text = extractLongText(extended);
            } catch (err) {
              if (err instanceof PlatformFailure && err.blocked) throw err;
              outcome.failures.push(failureOf(err, post.item.url));
            }
          }
          posts.push(post);
          await ctx.emit(post.item);
        }
        since = timeline.nextSinceId;
        if (since) cursorPaging = true;
        // In cursor paging the last page carries no since_id; in page paging an empty page ends it.
        if (timeline.posts.length === 0 || (cursorPaging && !since)) {
          reachedEnd = true;
          break;
        }
      }
      if (reachedEnd) scopes.push({ scope: 'timeline', platformIds: posts.map((p) => p.item.platformId!) });
    } catch (err) {
      outcome.failures.push(failureOf(err, `${base}/u/${source.uid}`));
      if (err instanceof PlatformFailure && err.blocked) return outcome;
    }

    if (!source.comments) return outcome;
    for (const post of posts) {
      try {
        const listed = await collectComments(post, source, get, ctx);
        if (listed) scopes.push({ scope: `comments:${post.item.platformId!}`, platformIds: listed });
      } catch (err) {
        outcome.failures.push(failureOf(err, post.item.url));
        if (err instanceof PlatformFailure && err.blocked) return outcome;
      }
    }
    return outcome;
  };
}

/** Emits the comments of a post; returns their platform ids when every page and every thread was read to its end. */
async function collectComments(post: WeiboPost, source: WeiboSource, get: (path: string, what: string) => Promise<unknown>, ctx: CollectContext): Promise<string[] | undefined> {
  const ref = { url: post.item.url, platformId: post.item.platformId! };
  const ids: string[] = [];
  let complete = true;
  let maxId: string | undefined;
  let maxIdType: string | undefined;
  for (let page = 0; page < source.maxCommentPages; page++) {
    const query = `id=${encodeURIComponent(post.id)}&mid=${encodeURIComponent(post.mid)}${maxId ? `&max_id=${encodeURIComponent(maxId)}` : ''}&max_id_type=${maxIdType ?? '0'}`;
    const answer = await get(`/comments/hotflow?${query}`, 'comments/hotflow');
    if (answer === undefined) return complete ? ids : undefined;
    const result = extractComments(answer, ref, ctx.now());
    for (const c of result.comments) {
      await ctx.emit(c);
      ids.push(c.platformId!);
    }
    for (const thread of result.moreReplies) {
      let childMax: string | undefined = '0';
      const emitted = new Set<string>();
      for (let p = 0; p < MAX_REPLY_PAGES && childMax !== undefined; p++) {
        const child = await get(`/comments/hotFlowChild?cid=${encodeURIComponent(thread.commentId)}&max_id=${encodeURIComponent(childMax)}&max_id_type=0`, 'comments/hotFlowChild');
        if (child === undefined) break;
        const replies = extractReplies(child, ref, thread, ctx.now());
        for (const r of replies.replies) {
          // Replies shown inline were emitted with the page: the pipeline would dedupe them, but there is no need to send them twice.
          if (result.comments.some((c) => c.platformId === r.platformId) || emitted.has(r.platformId!)) continue;
          emitted.add(r.platformId!);
          await ctx.emit(r);
          ids.push(r.platformId!);
        }
        childMax = replies.nextMaxId;
      }
      if (childMax !== undefined) complete = false;
    }
    maxId = result.nextMaxId;
    maxIdType = result.nextMaxIdType;
    if (!maxId) return complete ? ids : undefined;
  }
  return undefined;
}
