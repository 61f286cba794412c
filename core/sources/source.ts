import { readFileSync } from 'node:fs';
import { parseYamlText } from '../config/load-yaml.js';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { COLUMN_TYPES } from '../inspection/website-measurements.js';
import type { SecretEnvName } from '../config/secret-env-names.js';
import { assertSecretHosts, hostOf, type SecretHosts, type SentSecret } from '../config/secret-hosts.js';

export const SourceKindSchema = z.enum(['website', 'message-board', 'wechat-mp', 'weibo', 'rss', 'push']);
export type SourceKind = z.infer<typeof SourceKindSchema>;

/**
 * The name of an environment variable holding a credential. Sources only ever name the variable:
 * the secret itself is read at crawl time and never stored in a source, Elasticsearch or a log.
 */
export const EnvNameSchema = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'the NAME of an environment variable (upper-case letters, digits, underscores), not the secret itself');

/**
 * CSS selectors for a site whose shape the defaults miss. Every field is optional: what is not given
 * falls back to the built-in CMS selectors and then to the automatic fallback (largest text block,
 * date patterns).
 */
export const ExtractionProfileSchema = z
  .object({
    /** List page: one element per entry; its first link is the detail page. */
    listItem: z.string().min(1).optional(),
    /** Detail page parts. */
    title: z.string().min(1).optional(),
    publishedAt: z.string().min(1).optional(),
    origin: z.string().min(1).optional(),
    body: z.string().min(1).optional(),
    /** Also follow the sitemap (robots.txt) and the RSS/Atom feeds an entry page announces. */
    discover: z.boolean().default(true),
  })
  .strict();
export type ExtractionProfile = z.infer<typeof ExtractionProfileSchema>;

/** How politely and how far one source is crawled; defaults suit a small government site. */
export const CrawlPolicySchema = z
  .object({
    /** Pages fetched per run at most (list, detail and attachments together). */
    maxPages: z.number().int().positive().max(100_000).optional(),
    /** Link hops from an entry point (pagination counts as a hop). */
    maxDepth: z.number().int().min(0).max(1000).default(50),
    perHostConcurrency: z.number().int().min(1).max(64).default(2),
    /** Pause between the starts of two requests to the same host. */
    delayMs: z.number().int().min(0).max(60_000).default(250),
    timeoutSeconds: z.number().int().positive().max(300).optional(),
    /** Longer pages are cut off and recorded as an error. */
    maxPageBytes: z.number().int().positive().default(5 * 1024 * 1024),
    maxAttachmentBytes: z.number().int().positive().default(20 * 1024 * 1024),
    retries: z.number().int().min(0).max(10).default(2),
    /** `ignore` only where the unit owns the site and has said so. */
    robotsTxt: z.enum(['obey', 'ignore']).default('obey'),
    /** Detail pages listed with a date this recent are re-fetched (conditionally) every run: comments arrive there. */
    revisitRecentDays: z.number().min(0).default(7),
    /** Any known detail page is re-fetched at least this often, listed or not. */
    revisitDays: z.number().positive().default(30),
    /** Extract the text of attachments (PDF, DOC/DOCX, XLS/XLSX). */
    attachments: z.boolean().default(true),
  })
  .strict();
export type CrawlPolicy = z.infer<typeof CrawlPolicySchema>;

const OwnerSchema = z.object({ section: z.string().min(1), person: z.string().min(1) });

/** Fields every position has, whatever its kind. */
const positionFields = {
  // Bounded like every id the API takes: it is a keyword in Elasticsearch (posts, audit), which refuses immense terms.
  id: z.string().max(100).regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  name: z.string().min(1).max(200),
  owner: OwnerSchema,
  everySeconds: z.number().int().min(5).optional(),
  /** Cron pattern (BullMQ job scheduler), instead of `everySeconds`. */
  cron: z.string().min(9).max(100).optional(),
  enabled: z.boolean().default(true),
  /** Days without a new post after which the position is flagged zombie (僵尸阵地); the config's default otherwise. */
  zombieDays: z.number().int().positive().max(365).optional(),
};

/** Fields of kinds crawled page by page from entry points. */
const pageFields = {
  /** List pages (or feeds) the crawl starts from. */
  entryPoints: z.array(z.string().url()).min(1),
  /** Hosts the crawler may fetch; defaults to the entry points' hosts. */
  allowedHosts: z.array(z.string()).default([]),
  /**
   * `static`: plain HTTP; `browser`: every page rendered in Chromium; `browser-lists`: list pages
   * rendered (written by JavaScript), detail pages fetched as plain HTML — the usual CMS shape.
   */
  render: z.enum(['static', 'browser', 'browser-lists']).default('static'),
  profile: ExtractionProfileSchema.optional(),
  crawl: CrawlPolicySchema.default(CrawlPolicySchema.parse({})),
  /** Credentials the crawl sends (`cookie`, `authorization`), each named by its env var. */
  credentials: z.object({ cookie: EnvNameSchema.optional(), authorization: EnvNameSchema.optional() }).strict().default({}),
};

/**
 * A column (栏目) of a website, for self-inspection: its items are the indexed posts whose URL starts
 * with `prefix` (by default the column URL's directory, e.g. `…/xwzx/gzdt/` for
 * `…/xwzx/gzdt/index.html`: CMS detail pages live under their column). `type` picks the update
 * window: news 2 weeks, notice and policy 6 months, other never.
 */
export const WebsiteColumnSchema = z
  .object({
    name: z.string().min(1),
    url: z.string().url(),
    type: z.enum(COLUMN_TYPES).default('news'),
    prefix: z.string().url().optional(),
  })
  .strict();
export type WebsiteColumn = z.infer<typeof WebsiteColumnSchema>;

export const WebsiteSourceSchema = z.object({
  ...positionFields,
  kind: z.literal('website'),
  ...pageFields,
  /** The site's columns for self-inspection; without them every entry point is a news column. */
  columns: z.array(WebsiteColumnSchema).max(500).optional(),
});
export const MessageBoardSourceSchema = z.object({ ...positionFields, kind: z.literal('message-board'), ...pageFields });
/** RSS 2.0 or Atom feeds: `entryPoints` are the feed URLs. */
export const RssSourceSchema = z.object({ ...positionFields, kind: z.literal('rss'), ...pageFields });

/**
 * The unit's own WeChat official account (微信公众号): the official server API with the unit's
 * appid/secret (named by env), and/or public article pages (`mp.weixin.qq.com/s/...`) read as a
 * fallback when the API is not available to the unit.
 */
export const WechatMpSourceSchema = z
  .object({
    ...positionFields,
    kind: z.literal('wechat-mp'),
    api: z
      .object({
        /** The API host; the real one unless a test or a proxy says otherwise. */
        baseUrl: z.string().url().default('https://api.weixin.qq.com'),
        appidEnv: EnvNameSchema,
        secretEnv: EnvNameSchema,
        /** Published articles taken per run, newest first (`freepublish/batchget` pages of ≤ 20). */
        maxArticles: z.number().int().min(1).max(2000).default(100),
        /** Read the comments of each article through the comment-management API. */
        comments: z.boolean().default(true),
        /** Comments taken per article per run (`comment/list` pages of ≤ 50). */
        maxCommentsPerArticle: z.number().int().min(1).max(5000).default(500),
      })
      .optional(),
    /** Public article pages read with the fallback reader. */
    articleUrls: z.array(z.string().url()).default([]),
    /** Hosts the fallback reader may fetch; defaults to the article URLs' hosts. */
    allowedHosts: z.array(z.string()).default([]),
  })
  .refine((s) => s.api !== undefined || s.articleUrls.length > 0, { message: 'a wechat-mp source needs `api` (appidEnv/secretEnv) or `articleUrls`', path: ['api'] });

/** The unit's own Weibo account, read from the mobile site's JSON endpoints (m.weibo.cn shapes). */
export const WeiboSourceSchema = z.object({
  ...positionFields,
  kind: z.literal('weibo'),
  /** The account's numeric uid (the timeline is container `107603{uid}`). */
  uid: z.string().regex(/^\d{4,16}$/, 'the numeric Weibo uid'),
  baseUrl: z.string().url().default('https://m.weibo.cn'),
  /** Timeline pages taken per run (about 10 posts each). */
  maxPages: z.number().int().min(1).max(100).default(3),
  comments: z.boolean().default(true),
  /** Comment pages taken per post per run (`max_id` paging, about 20 comments each). */
  maxCommentPages: z.number().int().min(1).max(100).default(5),
  /** Env variable holding a logged-in cookie, when the account's comments need one. */
  cookieEnv: EnvNameSchema.optional(),
});

/**
 * Items another system (a CMS, a 12345 hotline) submits to `POST /api/ingest`, authenticated with
 * the bearer token held in `tokenEnv`. Never crawled.
 */
export const PushSourceSchema = z.object({
  ...positionFields,
  kind: z.literal('push'),
  tokenEnv: EnvNameSchema,
});

/** A position (阵地): an outlet the unit owns, with who answers for it (谁主管谁负责). */
export const SourceSchema = z.discriminatedUnion('kind', [WebsiteSourceSchema, MessageBoardSourceSchema, RssSourceSchema, WechatMpSourceSchema, WeiboSourceSchema, PushSourceSchema]);
export type Source = z.infer<typeof SourceSchema>;
export type WebsiteSource = z.infer<typeof WebsiteSourceSchema>;
export type MessageBoardSource = z.infer<typeof MessageBoardSourceSchema>;
export type RssSource = z.infer<typeof RssSourceSchema>;
export type WechatMpSource = z.infer<typeof WechatMpSourceSchema>;
export type WeiboSource = z.infer<typeof WeiboSourceSchema>;
export type PushSource = z.infer<typeof PushSourceSchema>;

/** The URL prefix of a column's items: the given one, else the column URL up to its last `/`. */
export function columnPrefix(column: Pick<WebsiteColumn, 'url' | 'prefix'>): string {
  if (column.prefix) return column.prefix;
  const u = new URL(column.url);
  u.search = '';
  u.hash = '';
  return u.href.slice(0, u.href.lastIndexOf('/') + 1);
}

/** The columns self-inspection checks: the declared ones, else each entry point as a news column. */
export function websiteColumns(source: WebsiteSource): WebsiteColumn[] {
  if (source.columns && source.columns.length > 0) return source.columns;
  return source.entryPoints.map((url) => ({ name: new URL(url).pathname, url, type: 'news' as const }));
}

/** Kinds crawled page by page from `entryPoints` with the shared crawlee runner. */
export type PageSource = WebsiteSource | MessageBoardSource | RssSource;
export const PAGE_KINDS = ['website', 'message-board', 'rss'] as const satisfies readonly SourceKind[];
export function isPageSource(source: Source): source is PageSource {
  return (PAGE_KINDS as readonly string[]).includes(source.kind);
}

const SourcesFileSchema = z.object({ sources: z.array(SourceSchema) });

/** Fills the derived defaults (allowed hosts from the entry points or article URLs) of a parsed source. */
export function withDefaultHosts(s: Source): Source {
  if (isPageSource(s) && s.allowedHosts.length === 0) return { ...s, allowedHosts: [...new Set(s.entryPoints.map((u) => new URL(u).host))] };
  if (s.kind === 'wechat-mp' && s.allowedHosts.length === 0) return { ...s, allowedHosts: [...new Set(s.articleUrls.map((u) => new URL(u).host))] };
  return s;
}

/**
 * Reads a sources YAML file. `${NAME}` placeholders are replaced from `vars` first, so a file can
 * point at a host chosen at start (the demo site) and credentials can stay in env.
 */
export function loadSources(file: string, vars: Record<string, string> = {}): Source[] {
  const text = readFileSync(file, 'utf8').replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => {
    const value = vars[name] ?? process.env[name];
    if (value === undefined) throw new InvalidInputError(`${file}: \${${name}} is not set`, 'source_variable_missing');
    return value;
  });
  const { sources } = parseYamlText(SourcesFileSchema, text, file, 'sources_invalid', 'sources_yaml');
  const ids = new Set<string>();
  return sources.map((s) => {
    if (ids.has(s.id)) throw new InvalidInputError(`${file}: source id "${s.id}" is used twice`, 'sources_invalid');
    ids.add(s.id);
    return withDefaultHosts(s);
  });
}

/**
 * The secrets a page source refers to, read from env at the moment of use. They are never written
 * back into the source, a log or a report. A bound one (`secrets.hosts`) is refused before it is
 * read when one of the source's hosts is outside its binding: the crawl sends it to every one.
 *
 * @throws InvalidInputError `credentials_missing` naming the env var (not its value) when one is unset
 * @throws InvalidInputError `secret_host_not_allowed` naming the env var and the host
 */
export function resolveCredentials(source: PageSource, env: Readonly<Record<string, string | undefined>> = process.env, secretHosts: SecretHosts = {}): Partial<Record<'cookie' | 'authorization', string>> {
  assertSecretHosts(`阵地 ${source.id}`, sourceSentSecrets(source), secretHosts);
  const out: Partial<Record<'cookie' | 'authorization', string>> = {};
  for (const [name, envVar] of Object.entries(source.credentials) as ['cookie' | 'authorization', string | undefined][]) {
    if (!envVar) continue;
    const value = env[envVar];
    if (value === undefined || value === '') throw new InvalidInputError(`source ${source.id}: credential "${name}" needs env var ${envVar}, which is not set`, 'credentials_missing');
    out[name] = value;
  }
  return out;
}

/** Every env var a source names for a secret, with its field: what `secrets.envPrefixes` is checked against. */
export function sourceSecretEnvNames(source: Source): SecretEnvName[] {
  const names: SecretEnvName[] = [];
  const add = (field: string, name: string | undefined) => name && names.push({ field, name });
  switch (source.kind) {
    case 'website':
    case 'message-board':
    case 'rss':
      add('credentials.cookie', source.credentials.cookie);
      add('credentials.authorization', source.credentials.authorization);
      break;
    case 'wechat-mp':
      add('api.appidEnv', source.api?.appidEnv);
      add('api.secretEnv', source.api?.secretEnv);
      break;
    case 'weibo':
      add('cookieEnv', source.cookieEnv);
      break;
    case 'push':
      add('tokenEnv', source.tokenEnv);
      break;
  }
  return names;
}

/**
 * The secrets a source sends, each with the hosts it goes to: a page source's credentials to its
 * entry points' and allowed hosts, the WeChat appid/secret and the Weibo cookie to their API's
 * host. A push source's token only checks what comes in, so it is not among them.
 */
export function sourceSentSecrets(source: Source): SentSecret[] {
  const sentTo = (...urls: string[]) => [...new Set(urls.flatMap((u) => hostOf(u) ?? []))];
  switch (source.kind) {
    case 'website':
    case 'message-board':
    case 'rss': {
      const hosts = [...new Set([...sentTo(...source.entryPoints), ...source.allowedHosts.map((h) => h.toLowerCase())])];
      return sourceSecretEnvNames(source).map((n) => ({ ...n, hosts }));
    }
    case 'wechat-mp':
    case 'weibo': {
      const hosts = sentTo(source.kind === 'weibo' ? source.baseUrl : (source.api?.baseUrl ?? ''));
      return sourceSecretEnvNames(source).map((n) => ({ ...n, hosts }));
    }
    case 'push':
      return [];
  }
}
