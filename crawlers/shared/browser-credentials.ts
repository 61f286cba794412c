import type { BrowserContext, CDPSession } from 'playwright-core';

/**
 * A source's credentials inside Chromium, for its allowed hosts (`host[:port]`, as `URL.host`)
 * and nothing else.
 *
 * - The cookie becomes browser cookies of those host names (httpOnly, SameSite=Lax), so Chromium
 *   sends it by its own rules: to those hosts only, never along a hop to another host.
 * - The authorization header is added by the tab's own CDP session (Fetch domain, request stage),
 *   one hop at a time: each request and each redirect hop to an allowed host pauses, and gets the
 *   header there. Per the protocol, headers given to `Fetch.continueRequest` do not extend to later
 *   redirect hops, so a hop to another host leaves with the headers the page gave it and no more.
 *
 * Not Playwright's `route.continue({ headers })`: since Playwright 1.41 it re-applies those headers
 * on every redirect hop, to whatever host. Not `route.fetch` + `route.fulfill` either: Chromium
 * then counts the page as outside the private network and refuses its intranet sub-resources
 * unless Private Network Access is switched off, which would let hostile pages reach local services.
 *
 * Playwright routes may sit beside it (each CDP session pauses a request in turn): ones that
 * abort, fall back or continue unchanged leave a redirect hop elsewhere clean. A route
 * that continues with `headers` must not be added: Playwright would re-apply every header it saw on
 * the first hop, this authorization included, to each later hop.
 *
 * What this deliberately leaves out, failing closed (no header rather than a header to the wrong
 * host): requests made outside the tab's session — by popups the page opens, shared workers and
 * from inside cross-site frames (targets of their own) — and service workers (never registered: the context
 * blocks them). Dedicated workers' requests are the tab's and get the header hop by hop.
 */

/** Why one hop does or does not get the source's authorization header. */
export type HopAuthorization =
  /** The hop's URL is on an allowed host: the header is added, replacing any the page set. */
  | 'own-host'
  /** Another host: the header is withheld (and the source's own value stripped, should it be there). */
  | 'other-host'
  /** Not http(s) or not a URL at all: nothing is added. */
  | 'not-http';

export function decideHopAuthorization(url: string, hosts: ReadonlySet<string>): HopAuthorization {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not-http';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'not-http';
  // user:password@ in a URL is not the host the header was given for.
  if (parsed.username || parsed.password) return 'other-host';
  return hosts.has(parsed.host) ? 'own-host' : 'other-host';
}

/** `*`, `?` and `\` are wildcards and escape in CDP URL patterns. */
const escapePattern = (text: string) => text.replace(/[\\*?]/g, (c) => `\\${c}`);

/**
 * The request-stage patterns that pause hops to the allowed hosts only: requests to other hosts
 * never make the round trip to Node. `decideHopAuthorization` still judges each paused hop.
 */
export function hopPatterns(hosts: Iterable<string>): { urlPattern: string; requestStage: 'Request' }[] {
  return [...hosts].flatMap((host) => ['http', 'https'].map((scheme) => ({ urlPattern: `${scheme}://${escapePattern(host)}/*`, requestStage: 'Request' as const })));
}

/**
 * The headers one hop leaves with: on an allowed host the source's authorization replaces any the
 * page set; elsewhere the source's value is removed (a page's own, different header stays).
 */
export function hopHeaders(headers: Readonly<Record<string, string>>, authorization: string, decision: 'own-host' | 'other-host'): { name: string; value: string }[] {
  const entries = Object.entries(headers).filter(([name, value]) => name.toLowerCase() !== 'authorization' || (decision === 'other-host' && value !== authorization));
  if (decision === 'own-host') entries.push(['Authorization', authorization]);
  return entries.map(([name, value]) => ({ name, value }));
}

/**
 * Adds `authorization` to every hop of the tab's requests that goes to one of `hosts`. Call
 * before the tab's first navigation. A pause that cannot be answered (the tab closed meanwhile)
 * is dropped with the tab.
 */
export async function authorizeHops(cdp: CDPSession, authorization: string, hosts: ReadonlySet<string>): Promise<void> {
  cdp.on('Fetch.requestPaused', (event) => {
    const decision = decideHopAuthorization(event.request.url, hosts);
    const headers = decision === 'not-http' ? undefined : hopHeaders(event.request.headers, authorization, decision);
    cdp.send('Fetch.continueRequest', { requestId: event.requestId, ...(headers ? { headers } : {}) }).catch(() => undefined);
  });
  await cdp.send('Fetch.enable', { patterns: hopPatterns(hosts), handleAuthRequests: false });
}

/** `a=1; b=2` → cookie pairs; pieces without a name are dropped. */
export function parseCookieHeader(header: string): { name: string; value: string }[] {
  return header
    .split(';')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq > 0 ? { name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() } : undefined;
    })
    .filter((c): c is { name: string; value: string } => c !== undefined && c.name.length > 0);
}

/** The source's cookie as browser cookies of its allowed host names (cookies know no ports). */
export async function addSourceCookies(context: BrowserContext, cookie: string, hosts: readonly string[]): Promise<void> {
  const pairs = parseCookieHeader(cookie);
  const names = [...new Set(hosts.map((h) => new URL(`http://${h}`).hostname))];
  // httpOnly: the crawled page's own (or third-party) scripts cannot read them.
  await context.addCookies(names.flatMap((domain) => pairs.map((c) => ({ ...c, domain, path: '/', httpOnly: true, sameSite: 'Lax' as const }))));
}
