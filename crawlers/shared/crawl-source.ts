import { createHash } from 'node:crypto';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { resolveCredentials, type PageSource } from '../../core/sources/source.js';
import type { SecretHosts } from '../../core/config/secret-hosts.js';
import { normalizeText, postIdOf } from '../../pipeline/ingest/normalize.js';
import { CrawlError, toCrawlError, type CrawlErrorClass } from './crawl-error.js';
import { emitDeletions, type CrawlState, type ItemMemory, type PageMemory } from './crawl-state.js';
import { decodeHtml } from './decode.js';
import type { EvidenceRef, EvidenceStore } from './evidence-store.js';
import { fetchPage, looksLikeBlockPage, type FetchResult, type Validators } from './fetch-page.js';
import { DETAIL_LABELS, decideDetailFetch, Frontier, type EnqueueDecision, type FetchDecision } from './frontier.js';
import { HostLimiter } from './host-limiter.js';
import { RobotsRules } from './robots.js';

/** A link a route follows; list pages add how the entry was shown, so unchanged entries are not re-fetched. */
export interface Link {
  url: string;
  /** How the list showed the entry (title, date): a different signature means the entry changed. */
  signature?: string;
  /** The date the list showed, ISO 8601. */
  listedAt?: string;
}

export type EmittedItem = Omit<CollectedItem, 'sourceId' | 'collectedAt' | 'change' | 'contentHash' | 'previousHash' | 'snapshot'>;

/** A file linked from a page, fetched politely (same host limits, robots, retries). */
export interface FetchedFile {
  url: string;
  body: Buffer;
  contentType: string;
}

/** What a route sees: the decoded page, plus ways to follow links and emit items. */
export interface PageContext {
  source: PageSource;
  url: string;
  label: string;
  /** The page decoded to text (HTML, XML or JSON). */
  html: string;
  /** Link hops from the entry point. */
  depth: number;
  /** Follows links inside the source's allowed hosts and the crawl's caps; others are dropped. */
  enqueue(links: readonly (string | Link)[], label: string): Promise<void>;
  emit(item: EmittedItem): Promise<void>;
  /** Fetches an attachment (counted against the page cap); throws CrawlError. */
  fetchFile(url: string): Promise<FetchedFile>;
  /** Sitemaps the host's robots.txt announces (absolute URLs). */
  sitemaps(): Promise<string[]>;
}

export type Route = (page: PageContext) => Promise<void>;

export interface CrawlFailure {
  url: string;
  error: string;
  /** The route label of the page (page kinds). */
  label?: string;
  /** Page kinds always classify; API collectors give `code`, `cause` and `blocked` instead. */
  errorClass?: CrawlErrorClass;
  status?: number;
  /** Stable code of the failure class (`wechat_permission_denied`, `weibo_login_required`, …). */
  code?: string;
  /** What a duty officer should read, in Chinese (登录失效, 触发风控, 接口无权限 …). */
  cause?: string;
  /** The platform refused us (login, risk control, rate limit, permission): back off, do not hammer. */
  blocked?: boolean;
}

/** The class of a failure, whoever reported it. */
export function failureClass(f: CrawlFailure): CrawlErrorClass {
  return f.blocked ? 'blocked' : (f.errorClass ?? 'internal');
}

export interface CrawlReport {
  sourceId: string;
  startedAt: string;
  finishedAt: string;
  /** Pages that answered with a body (200). */
  pagesFetched: number;
  /** Pages that answered 304 or with the same bytes as last time: not extracted again. */
  pagesUnchanged: number;
  /** Detail pages fetched, and known detail pages skipped because their list entry was unchanged. */
  detailFetched: number;
  detailSkipped: number;
  itemsEmitted: number;
  itemsNew: number;
  itemsEdited: number;
  itemsDeleted: number;
  itemsUnchanged: number;
  /** Newest publish date among the items seen this run (zombie positions). */
  newestPublishedAt?: string;
  /** Links not taken, by reason (traps, caps, robots, off-host, a page that redirected off the source's hosts). */
  skipped: Partial<Record<EnqueueDecision | FetchDecision | 'robots' | 'redirected-off-host', number>>;
  failures: CrawlFailure[];
  /** The run as a whole: `failed` when no entry point could be read or the site blocks us. */
  outcome: 'ok' | 'failed';
  /** Why the run failed; `cause` (Chinese) when the collector gave its own. */
  error?: { errorClass: CrawlErrorClass; message: string; cause?: string };
}

/** A report with nothing counted yet. */
export function emptyReport(sourceId: string, at: string): CrawlReport {
  return { sourceId, startedAt: at, finishedAt: '', pagesFetched: 0, pagesUnchanged: 0, detailFetched: 0, detailSkipped: 0, itemsEmitted: 0, itemsNew: 0, itemsEdited: 0, itemsDeleted: 0, itemsUnchanged: 0, skipped: {}, failures: [], outcome: 'ok' };
}

/** How pages are loaded: plain HTTP here; the browser engine renders them in Chromium. */
export interface PageLoader {
  load(url: string, label: string, validators: Validators | undefined): Promise<FetchResult & { screenshot?: Buffer }>;
  close?(): Promise<void>;
}

export interface CrawlOptions {
  routes: Record<string, Route>;
  startLabel: string;
  onItem(item: CollectedItem): Promise<void>;
  state: CrawlState;
  evidence?: EvidenceStore;
  /** Default cap on pages per run when the source sets none. */
  maxRequests: number;
  timeoutSeconds: number;
  now?: () => Date;
  /** Replaces HTTP loading (browser render modes). */
  loader?: PageLoader;
  /** Route labels the loader serves; pages of other labels are fetched over HTTP. All when unset. */
  loaderLabels?: ReadonlySet<string>;
  /** Overall concurrency of page handling (the loader may limit further). */
  concurrency?: number;
  /** Where each bound credential may be sent (`secrets.hosts`): a run whose hosts one's binding misses is refused before any request. */
  secretHosts?: SecretHosts;
}

interface Request {
  url: string;
  label: string;
  depth: number;
  link?: Link;
  memory?: PageMemory;
  entry: boolean;
  /** A known detail page no list shows any more, fetched to learn whether it was deleted. */
  unlisted?: boolean;
}

/** Known detail pages that dropped off every list, checked per run for deletion. */
const MAX_UNLISTED_CHECKS = 50;

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** What an item says, hashed the same way whatever the run: title, text, reply and attachments' text. */
export function itemContentHash(item: EmittedItem): string {
  const parts = [normalizeText(item.title ?? ''), normalizeText(item.text), normalizeText(item.reply?.text ?? ''), item.reply?.at ?? '', ...(item.attachments ?? []).map((a) => `${a.url}\u0001${a.text ?? ''}`)];
  return sha256(parts.join('\u0000')).slice(0, 32);
}

/** Visible text of a short page, for the block-page check. */
function visibleText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const RETRY_DELAYS_MS = [500, 1500, 4000, 8000];

/**
 * One crawl run of one source: fetches list pages, follows links through the frontier (scope, caps,
 * traps, robots.txt), skips detail pages whose list entry did not change, asks conditionally for
 * the rest, keeps the raw bytes as evidence, and emits only items that are new, edited or deleted
 * since the last run. One page's failure is recorded and the run goes on; nothing thrown by a page
 * escapes, except a `superseded` CrawlError (the crawl state refused a write: another run holds the
 * source's lock), which ends the run.
 */
export async function crawlSource(source: PageSource, options: CrawlOptions): Promise<CrawlReport> {
  const now = options.now ?? (() => new Date());
  const policy = source.crawl;
  const timeoutMs = (policy.timeoutSeconds ?? options.timeoutSeconds) * 1000;
  const report = emptyReport(source.id, now().toISOString());
  const credentials = resolveCredentials(source, process.env, options.secretHosts);
  const headers: Record<string, string> = { ...(credentials.cookie ? { cookie: credentials.cookie } : {}), ...(credentials.authorization ? { authorization: credentials.authorization } : {}) };
  const skip = (reason: keyof CrawlReport['skipped']) => (report.skipped[reason] = (report.skipped[reason] ?? 0) + 1);
  const allowedHosts = new Set(source.allowedHosts);
  const frontier = new Frontier({ allowedHosts, maxDepth: policy.maxDepth, maxPages: policy.maxPages ?? options.maxRequests });
  const limiter = new HostLimiter(policy.perHostConcurrency, policy.delayMs);
  const robots = new RobotsRules(timeoutMs, headers);
  const queue: Request[] = [];
  const listedDetails = new Set<string>();
  const entryResults = new Map<string, 'ok' | CrawlFailure>();

  async function withRetries<T>(url: string, attempt: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await limiter.run(url, attempt);
      } catch (err) {
        const e = toCrawlError(err);
        if (!e.retryable || i >= policy.retries) throw e;
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[Math.min(i, RETRY_DELAYS_MS.length - 1)]));
      }
    }
  }

  const http: PageLoader = {
    load: (url, _label, validators) => fetchPage(url, { timeoutMs, maxBytes: policy.maxPageBytes, expect: 'page', headers, ...(validators ? { validators } : {}) }),
  };
  const rendered = options.loader;
  const loaderLabels = options.loaderLabels;
  const loader: PageLoader = rendered ? { load: (url, label, validators) => (!loaderLabels || loaderLabels.has(label) ? rendered : http).load(url, label, validators) } : http;

  async function enqueue(from: Request | undefined, links: readonly (string | Link)[], label: string, collected?: Link[]): Promise<void> {
    const depth = from ? from.depth + 1 : 0;
    const taken: Request[] = [];
    for (const raw of links) {
      const link = typeof raw === 'string' ? { url: raw } : raw;
      let url: string;
      try {
        const u = new URL(link.url);
        u.hash = '';
        url = u.toString();
      } catch {
        skip('not-http');
        continue;
      }
      collected?.push({ ...link, url });
      if (DETAIL_LABELS.has(label)) listedDetails.add(url);
      const decision = frontier.consider(url, depth);
      if (decision !== 'take') {
        if (decision !== 'seen') skip(decision);
        continue;
      }
      taken.push({ url, label, depth, link: { ...link, url }, entry: !from });
    }
    if (taken.length === 0) return;
    const memories = await options.state.pages(taken.map((r) => r.url));
    for (const req of taken) {
      const memory = memories.get(req.url);
      if (memory) req.memory = memory;
      if (DETAIL_LABELS.has(label)) {
        const decision = decideDetailFetch(memory, req.link ?? {}, now(), policy);
        if (decision === 'unchanged') {
          skip('unchanged');
          report.detailSkipped++;
          continue;
        }
      }
      queue.push(req);
    }
  }

  async function emitDeleted(memories: Map<string, ItemMemory>, ids: readonly string[], at: string): Promise<void> {
    const deleted = await emitDeletions(options.state, ids, source.id, at, options.onItem, memories);
    report.itemsDeleted += deleted;
    report.itemsEmitted += deleted;
  }

  async function handle(req: Request): Promise<void> {
    if (policy.robotsTxt === 'obey' && !(await robots.allows(req.url))) {
      skip('robots');
      if (req.entry) entryResults.set(req.url, { url: req.url, label: req.label, errorClass: 'robots', error: `${req.url}: disallowed by robots.txt` });
      return;
    }
    const isDetail = DETAIL_LABELS.has(req.label);
    let result: FetchResult & { screenshot?: Buffer };
    try {
      result = await withRetries(req.url, () => loader.load(req.url, req.label, req.memory?.validators));
    } catch (err) {
      const e = toCrawlError(err);
      const failure: CrawlFailure = { url: req.url, label: req.label, errorClass: e.errorClass, error: e.message, ...(e.status ? { status: e.status } : {}) };
      report.failures.push(failure);
      if (req.entry) entryResults.set(req.url, failure);
      // A detail page that is gone takes its article and comments with it: that is a deletion.
      if (e.errorClass === 'gone' && req.memory?.itemIds?.length) {
        const ids = req.memory.itemIds;
        await emitDeleted(await options.state.items(ids), ids, now().toISOString());
        await options.state.savePage(req.url, { ...req.memory, fetchedAt: now().toISOString(), itemIds: [] });
      }
      return;
    }
    if (isDetail) report.detailFetched++;
    if (req.entry) entryResults.set(req.url, 'ok');
    const at = now().toISOString();
    const replay = async (memory: PageMemory) => {
      report.pagesUnchanged++;
      for (const label of new Set((memory.links ?? []).map((l) => l.label))) {
        await enqueue(
          req,
          (memory.links ?? []).filter((l) => l.label === label),
          label,
        );
      }
      await options.state.savePage(req.url, { ...memory, fetchedAt: at, ...(req.link?.signature ? { signature: req.link.signature } : {}), ...(req.unlisted ? { unlisted: true } : {}) });
    };
    if (result.status === 'not-modified') {
      if (req.memory) return replay(req.memory);
      // A 304 without anything remembered (state lost): ask again unconditionally.
      result = await withRetries(req.url, () => loader.load(req.url, req.label, undefined));
      if (result.status === 'not-modified') throw new CrawlError('http-error', `${req.url}: 304 to an unconditional request`);
    }
    // A page that redirects off the source's hosts (an article moved to a platform, a link shortener),
    // asked conditionally or not, is not the position's own content: nothing is extracted from it. An entry point that does so
    // has lost its column, which is the source's failure; a detail page is only skipped.
    if (!allowedHosts.has(new URL(result.url).host)) {
      report.skipped['redirected-off-host'] = (report.skipped['redirected-off-host'] ?? 0) + 1;
      if (req.entry) {
        const failure: CrawlFailure = { url: req.url, label: req.label, errorClass: 'off-site', error: `${req.url}: redirected to ${result.url}, outside the source's hosts` };
        report.failures.push(failure);
        entryResults.set(req.url, failure);
        return;
      }
      // Remembered with its list entry, so the next run does not fetch it again while the entry is unchanged.
      const listedAt = req.link?.listedAt ?? req.memory?.listedAt;
      await options.state.savePage(req.url, {
        label: req.label,
        fetchedAt: at,
        // What the page is now: a redirect to that address.
        bodyHash: sha256(Buffer.from(`redirect ${result.url}`)),
        links: [],
        itemIds: req.memory?.itemIds ?? [],
        ...(req.link?.signature ? { signature: req.link.signature } : {}),
        ...(listedAt ? { listedAt } : {}),
      });
      return;
    }
    const bodyHash = sha256(result.body);
    if (req.memory?.bodyHash === bodyHash && req.memory.links !== undefined) return replay(req.memory);
    report.pagesFetched++;

    const links: PageMemory['links'] = [];
    const itemIds: string[] = [];
    const pending = new Map<string, ItemMemory>();
    let known = new Map<string, ItemMemory>();
    let gone: readonly string[];
    let snapshot: EvidenceRef | undefined;
    let screenshot: EvidenceRef | undefined;
    try {
      const { html } = decodeHtml(result.body, result.contentType);
      if (html.length < 50_000 && looksLikeBlockPage(visibleText(html).slice(0, 1500)) && visibleText(html).length < 1500) {
        throw new CrawlError('blocked', `${req.url}: the site answers with a verification (captcha) page`);
      }
      if (options.evidence) {
        snapshot = await options.evidence.keep(result.body, 'snapshot');
        if (result.screenshot) screenshot = await options.evidence.keep(result.screenshot, 'screenshot');
      }
      const route = options.routes[req.label];
      if (!route) throw new CrawlError('internal', `no route for label ${req.label}`);
      const emitted = new Map<string, EmittedItem>();
      await route({
        source,
        url: result.url,
        label: req.label,
        html,
        depth: req.depth,
        enqueue: async (found, label) => {
          const collected: Link[] = [];
          await enqueue(req, found, label, collected);
          links.push(...collected.map((l) => ({ label, url: l.url, ...(l.signature ? { signature: l.signature } : {}) })));
        },
        // Items are collected and compared with the crawl memory once the page is read: one lookup per page.
        emit: async (item) => {
          const id = postIdOf({ sourceId: source.id, kind: item.kind, url: item.url, ...(item.platformId ? { platformId: item.platformId } : {}) });
          if (!emitted.has(id)) emitted.set(id, item);
        },
        fetchFile: async (url) => {
          if (frontier.consider(url, req.depth + 1) !== 'take') throw new CrawlError('config', `${url}: outside the source's hosts or over its page cap`);
          if (policy.robotsTxt === 'obey' && !(await robots.allows(url))) throw new CrawlError('robots', `${url}: disallowed by robots.txt`);
          const file = await withRetries(url, () => fetchPage(url, { timeoutMs, maxBytes: policy.maxAttachmentBytes, expect: 'file', headers }));
          if (file.status !== 'ok') throw new CrawlError('http-error', `${url}: 304 to an unconditional request`);
          return { url: file.url, body: file.body, contentType: file.contentType };
        },
        sitemaps: async () => {
          const origin = new URL(result.url).origin;
          return (await robots.sitemaps(origin)).flatMap((s) => {
            try {
              return [new URL(s, origin).toString()];
            } catch {
              return [];
            }
          });
        },
      });
      itemIds.push(...emitted.keys());
      const present = new Set(itemIds);
      gone = (req.memory?.itemIds ?? []).filter((id) => !present.has(id));
      known = itemIds.length + gone.length > 0 ? await options.state.items([...itemIds, ...gone]) : known;
      let newestOnPage: string | undefined;
      for (const [id, item] of emitted) {
        const hash = itemContentHash(item);
        const before = known.get(id);
        if (item.publishedAt && (!newestOnPage || item.publishedAt > newestOnPage)) newestOnPage = item.publishedAt;
        pending.set(id, { hash, url: item.url, kind: item.kind, ...(item.platformId ? { platformId: item.platformId } : {}), ...(item.parentRef ? { parentRef: item.parentRef } : {}), ...(item.title ? { title: item.title.slice(0, 200) } : {}) });
        if (before && before.hash === hash && !before.deletedAt) {
          report.itemsUnchanged++;
          continue;
        }
        const change = before ? 'edited' : 'new';
        await options.onItem({
          ...item,
          sourceId: source.id,
          collectedAt: at,
          change,
          contentHash: hash,
          ...(before ? { previousHash: before.hash } : {}),
          ...(snapshot ? { snapshot } : {}),
          ...(screenshot ? { screenshot } : {}),
        });
        report.itemsEmitted++;
        if (change === 'new') report.itemsNew++;
        else report.itemsEdited++;
      }
      if (newestOnPage && (!report.newestPublishedAt || newestOnPage > report.newestPublishedAt)) report.newestPublishedAt = newestOnPage;
    } catch (err) {
      const e = toCrawlError(err);
      const failure: CrawlFailure = { url: req.url, label: req.label, errorClass: e.errorClass, error: e.message };
      report.failures.push(failure);
      if (req.entry) entryResults.set(req.url, failure);
      // Nothing is remembered for a page that failed half-way: the next run starts it afresh.
      return;
    }
    await options.state.saveItems(pending);
    if (gone.length > 0) await emitDeleted(known, gone, at);
    const listedAt = req.link?.listedAt ?? req.memory?.listedAt;
    await options.state.savePage(req.url, {
      label: req.label,
      fetchedAt: at,
      bodyHash,
      links,
      itemIds,
      ...(result.validators.etag || result.validators.lastModified ? { validators: result.validators } : {}),
      ...(req.link?.signature ? { signature: req.link.signature } : {}),
      ...(listedAt ? { listedAt } : {}),
      ...(req.unlisted ? { unlisted: true } : {}),
    });
  }

  // A state write refused because another run holds the source's lock now ends the run: no page is
  // started after it, and the run throws it once the pages under way are done.
  let superseded: CrawlError | undefined;
  const handleUnlessSuperseded = (req: Request) =>
    handle(req).catch((err: unknown) => {
      const e = toCrawlError(err);
      if (e.errorClass === 'superseded') {
        superseded ??= e;
        queue.length = 0;
      }
      throw e;
    });
  try {
    await enqueue(undefined, source.entryPoints, options.startLabel);
    const concurrency = Math.max(1, options.concurrency ?? Math.min(32, policy.perHostConcurrency * Math.max(1, source.allowedHosts.length)));
    await drain(queue, concurrency, handleUnlessSuperseded, report, entryResults);
    if (superseded) throw superseded;

    // Deletion of whole posts: a known detail page that no list shows any more is fetched once; a
    // 404/410 there is a deletion. Only when every list was read in full, or the lists' own caps
    // would make posts look deleted.
    const listsComplete = !report.skipped['over-page-cap'] && !report.skipped['too-deep'] && !report.failures.some((f) => !DETAIL_LABELS.has(f.label ?? ''));
    if (listsComplete && listedDetails.size > 0) {
      const unlisted = (await options.state.urlsWithLabel([...DETAIL_LABELS][0]!)).filter((u) => !listedDetails.has(u));
      const memories = await options.state.pages(unlisted);
      const due = [...memories]
        .filter(([, m]) => (m.itemIds?.length ?? 0) > 0 && (!m.unlisted || now().getTime() - Date.parse(m.fetchedAt) >= policy.revisitDays * 86_400_000))
        .slice(0, MAX_UNLISTED_CHECKS);
      for (const [url, memory] of due) {
        if (frontier.consider(url, 1) === 'take') queue.push({ url, label: memory.label, depth: 1, memory, entry: false, unlisted: true });
      }
      await drain(queue, concurrency, handleUnlessSuperseded, report, entryResults);
      if (superseded) throw superseded;
    }
  } finally {
    await options.loader?.close?.();
  }
  report.finishedAt = now().toISOString();
  const outcome = decideRunOutcome(source.entryPoints.length, [...entryResults.values()], report.failures);
  report.outcome = outcome.outcome;
  if (outcome.error) report.error = outcome.error;
  return report;
}

/** Runs queued requests (and those they add) `concurrency` at a time until none are left. */
async function drain(queue: Request[], concurrency: number, handle: (req: Request) => Promise<void>, report: CrawlReport, entryResults: Map<string, 'ok' | CrawlFailure>): Promise<void> {
  let active = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (active < concurrency && queue.length > 0) {
        const req = queue.shift()!;
        active++;
        handle(req)
          .catch((err: unknown) => {
            const e = toCrawlError(err);
            report.failures.push({ url: req.url, label: req.label, errorClass: e.errorClass, error: e.message });
            if (req.entry) entryResults.set(req.url, report.failures.at(-1)!);
          })
          .finally(() => {
            active--;
            pump();
          });
      }
      if (active === 0 && queue.length === 0) resolve();
    };
    pump();
  });
}

/**
 * A run fails when no entry point could be read, or when the site blocked any request (so that
 * the source backs off); failed detail pages alone are recorded but leave the source healthy.
 */
export function decideRunOutcome(
  entryPoints: number,
  entryResults: readonly ('ok' | CrawlFailure)[],
  failures: readonly CrawlFailure[],
): { outcome: 'ok' | 'failed'; error?: { errorClass: CrawlErrorClass; message: string; cause?: string } } {
  const asError = (f: CrawlFailure) => ({ errorClass: failureClass(f), message: f.error, ...(f.cause ? { cause: f.cause } : {}) });
  const blocked = failures.find((f) => failureClass(f) === 'blocked');
  if (blocked) return { outcome: 'failed', error: asError(blocked) };
  const entryFailures = entryResults.filter((r): r is CrawlFailure => r !== 'ok');
  const anyOk = entryResults.some((r) => r === 'ok');
  if (!anyOk && (entryFailures.length > 0 || entryPoints > 0)) {
    const first = entryFailures[0];
    return { outcome: 'failed', error: first ? asError(first) : { errorClass: 'internal', message: 'no entry point was crawled' } };
  }
  return { outcome: 'ok' };
}
