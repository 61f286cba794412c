import type { WechatMpSource } from '../../core/sources/source.js';
import type { CollectContext, CollectOutcome, Collector } from '../collector.js';
import { decodeHtml } from '../shared/decode.js';
import { failureOf, PlatformFailure, secretHostRefusal } from '../platform/failure.js';
import { httpRequest, jsonOf, sleep } from '../platform/http.js';
import type { AccessTokens } from './access-token.js';
import { extractAccessToken, extractArticlePage, extractComments, extractPublishedArticles, WechatPageUnavailable, wechatErrorOf, type WechatArticle } from './extract.js';

/** Page sizes the API allows at most. */
const BATCHGET_PAGE = 20;
const COMMENT_PAGE = 50;
/** Attempts on a busy (-1) answer or a network blip, with these pauses between them. */
const RETRY_PAUSES_MS = [300, 1_000];

export interface WechatMpCollectorDeps {
  tokens: AccessTokens;
  /** Pauses between retries; tests shorten them. */
  retryPausesMs?: readonly number[];
}

/** `cgi-bin/token` through the API host of a source. */
export function fetchAccessToken(baseUrl: string, timeoutMs: number) {
  return async (appid: string, secret: string): Promise<{ token: string; expiresInSeconds: number }> => {
    const url = `${baseUrl.replace(/\/$/, '')}/cgi-bin/token?grant_type=client_credential&appid=${encodeURIComponent(appid)}&secret=${encodeURIComponent(secret)}`;
    const describe = 'GET cgi-bin/token';
    const answer = await httpRequest(url, { timeoutMs, describe });
    const json = jsonOf(answer, describe);
    const error = wechatErrorOf(json);
    if (error) throw new PlatformFailure(`${describe}: errcode ${error.errcode} ${error.errmsg}`, error.code, error.cause, error.decision !== 'retry', error.decision === 'retry');
    return extractAccessToken(json);
  };
}

/**
 * The unit's official account through the server API: published articles newest first
 * (`freepublish/batchget`, offset/count paging) and, for each, its comments (`comment/list` by
 * `msg_data_id` and index); then the public article pages configured as a fallback.
 *
 * Error codes: an invalid or expired token is refreshed once and the call retried; busy (-1) is
 * retried with a pause; a rate limit ends the run as blocked (health backs the source off); a
 * missing permission ends it as blocked with the cause the duty officer must fix. Items already
 * emitted stay emitted.
 */
export function createWechatMpCollector(deps: WechatMpCollectorDeps): Collector<WechatMpSource> {
  const pauses = deps.retryPausesMs ?? RETRY_PAUSES_MS;
  return async (source, ctx) => {
    const outcome: CollectOutcome = { requests: 0, failures: [] };
    if (source.api) await collectThroughApi(source, source.api, ctx, outcome, deps.tokens, pauses);
    for (const url of source.articleUrls) await readArticlePage(source, url, ctx, outcome);
    return outcome;
  };
}

type Api = NonNullable<WechatMpSource['api']>;

async function collectThroughApi(source: WechatMpSource, api: Api, ctx: CollectContext, outcome: CollectOutcome, tokens: AccessTokens, pauses: readonly number[]): Promise<void> {
  const base = api.baseUrl.replace(/\/$/, '');
  const refusal = secretHostRefusal(source, ctx.secretHosts, base);
  if (refusal) {
    outcome.failures.push(refusal);
    return;
  }
  const appid = ctx.env[api.appidEnv];
  const secret = ctx.env[api.secretEnv];
  if (!appid || !secret) {
    const missing = [!appid ? api.appidEnv : '', !secret ? api.secretEnv : ''].filter(Boolean).join('、');
    outcome.failures.push({ url: base, error: `credentials missing: env ${missing} not set`, code: 'credentials_missing', cause: `未配置公众号凭据：环境变量 ${missing} 未设置`, blocked: true });
    return;
  }
  const timeoutMs = ctx.timeoutSeconds * 1000;
  const getToken = () => tokens.get(appid, () => fetchAccessToken(base, timeoutMs)(appid, secret));

  /** One API call with the token; refreshes it once on 40001/40014/42001, retries busy answers. */
  async function call(path: string, body: unknown): Promise<unknown> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const describe = `POST ${path}`;
      try {
        const token = await getToken();
        outcome.requests++;
        const answer = await httpRequest(`${base}/${path}?access_token=${encodeURIComponent(token)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
          timeoutMs,
          describe,
        });
        if (answer.status >= 500) throw new PlatformFailure(`${describe}: HTTP ${answer.status}`, 'wechat_http_error', `微信接口服务异常（HTTP ${answer.status}）`, false, true);
        const json = jsonOf(answer, describe);
        const error = wechatErrorOf(json);
        if (!error) return json;
        if (error.decision === 'refresh-token' && !refreshed) {
          refreshed = true;
          await tokens.invalidate(appid!, token);
          continue;
        }
        throw new PlatformFailure(`${describe}: errcode ${error.errcode} ${error.errmsg}`, error.code, error.cause, error.decision !== 'retry' && error.decision !== 'fail', error.decision === 'retry');
      } catch (err) {
        if (err instanceof PlatformFailure && err.transient && attempt < pauses.length) {
          await sleep(pauses[attempt]!);
          continue;
        }
        throw err;
      }
    }
  }

  const articles: WechatArticle[] = [];
  const accountName = source.name;
  const scopes = (outcome.completeScopes ??= []);
  try {
    let listedAll = false;
    let truncated = false;
    for (let offset = 0; !truncated; ) {
      const page = extractPublishedArticles(await call('cgi-bin/freepublish/batchget', { offset, count: BATCHGET_PAGE, no_content: 0 }), accountName);
      for (const article of page.articles) {
        if (articles.length >= api.maxArticles) {
          truncated = true;
          break;
        }
        articles.push(article);
        await ctx.emit(article.item);
      }
      offset += page.itemCount;
      if (page.itemCount === 0 || offset >= page.totalCount) {
        listedAll = !truncated;
        break;
      }
      if (articles.length >= api.maxArticles) truncated = true;
    }
    // Deleted articles are left out of the list (is_deleted), so a complete list reveals them.
    if (listedAll) scopes.push({ scope: 'articles', platformIds: articles.map((a) => a.item.platformId!) });
  } catch (err) {
    outcome.failures.push(failureOf(err, `${base}/cgi-bin/freepublish/batchget`));
    if (err instanceof PlatformFailure && err.blocked) return;
  }

  if (!api.comments) return;
  for (const article of articles) {
    // Comments closed on the article (need_open_comment 0), or a short link without `mid`.
    if (!article.msgDataId || !article.commentsOpen) continue;
    try {
      const ids: string[] = [];
      let complete = false;
      for (let begin = 0; ids.length < api.maxCommentsPerArticle; ) {
        const count = Math.min(COMMENT_PAGE, api.maxCommentsPerArticle - ids.length);
        const page = extractComments(
          await call('cgi-bin/comment/list', { msg_data_id: Number(article.msgDataId), index: article.index, begin, count, type: 0 }),
          { url: article.item.url, platformId: article.item.platformId! },
          accountName,
        );
        for (const comment of page.comments) {
          await ctx.emit(comment);
          ids.push(comment.platformId!);
        }
        begin += page.comments.length;
        if (page.comments.length === 0 || begin >= page.total) {
          complete = true;
          break;
        }
      }
      if (complete) scopes.push({ scope: `comments:${article.item.platformId!}`, platformIds: ids });
    } catch (err) {
      outcome.failures.push(failureOf(err, article.item.url));
      // Permission, quota and 88000 hold for every article: asking again would only repeat it.
      if (err instanceof PlatformFailure && err.blocked) return;
    }
  }
}

async function readArticlePage(source: WechatMpSource, url: string, ctx: CollectContext, outcome: CollectOutcome): Promise<void> {
  if (!source.allowedHosts.includes(new URL(url).host)) {
    outcome.failures.push({ url, error: `host ${new URL(url).host} is not in allowedHosts`, code: 'host_not_allowed', cause: '文章地址不在允许采集的域名内' });
    return;
  }
  try {
    outcome.requests++;
    const answer = await httpRequest(url, { timeoutMs: ctx.timeoutSeconds * 1000, describe: `GET ${url}` });
    if (answer.status !== 200) throw new PlatformFailure(`GET ${url}: HTTP ${answer.status}`, 'http_error', `文章页面无法访问（HTTP ${answer.status}）`, answer.status === 403 || answer.status === 429);
    const { html } = decodeHtml(answer.body, answer.headers.get('content-type') ?? undefined);
    await ctx.emit(extractArticlePage(html, answer.url));
  } catch (err) {
    if (err instanceof WechatPageUnavailable) {
      outcome.failures.push(
        err.reason === 'deleted'
          ? { url, error: err.message, code: err.code, cause: '公众号文章已被删除或因违规无法查看' }
          : { url, error: err.message, code: err.code, cause: '微信要求环境验证（风控），文章页面暂时无法采集', blocked: true },
      );
      return;
    }
    outcome.failures.push(failureOf(err, url));
  }
}
