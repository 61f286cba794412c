import { createRequire } from 'node:module';
import { fetchPage, USER_AGENT } from './fetch-page.js';

interface Robot {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getSitemaps(): string[];
}
// The package is CommonJS exporting the function itself; its typings claim an ES default export.
const robotsParser = createRequire(import.meta.url)('robots-parser') as (url: string, text: string) => Robot;

/**
 * robots.txt per host, fetched once per crawl run. A missing or unreadable robots.txt allows
 * everything (the usual reading); an unreachable host is left to the page fetch to report.
 */
export class RobotsRules {
  private readonly byOrigin = new Map<string, Promise<Robot | undefined>>();

  /** `headers`: the source's credentials, so a site behind a log-in answers with its own robots.txt. */
  constructor(
    private readonly timeoutMs: number,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  private load(origin: string): Promise<Robot | undefined> {
    let robot = this.byOrigin.get(origin);
    if (!robot) {
      const url = `${origin}/robots.txt`;
      robot = fetchPage(url, { timeoutMs: this.timeoutMs, maxBytes: 512 * 1024, expect: 'page', maxRedirects: 3, headers: { ...this.headers } }).then(
        (res) => (res.status === 'ok' ? robotsParser(url, res.body.toString('utf8')) : undefined),
        () => undefined,
      );
      this.byOrigin.set(origin, robot);
    }
    return robot;
  }

  async allows(url: string): Promise<boolean> {
    const robot = await this.load(new URL(url).origin);
    return robot?.isAllowed(url, USER_AGENT) ?? true;
  }

  /** Sitemaps the host's robots.txt announces. */
  async sitemaps(origin: string): Promise<string[]> {
    return (await this.load(origin))?.getSitemaps() ?? [];
  }
}
