import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { freePort, runQianshao, waitForOutput, type AppProcess } from './app-process.js';
import { launchChromium } from './browser.js';
import { isolation } from './isolation.js';

/** What a browser test file gets: the running product, its demo site, Chromium, and its own prefixes. */
export interface DashboardApp {
  /** The dashboard, with a trailing slash. */
  url: string;
  /** The demo site of the fictional county (started by the `all` role). */
  site: string;
  app: AppProcess;
  browser: Browser;
  iso: ReturnType<typeof isolation>;
}

/**
 * Starts `qianshao <role> --demo` as a child process on free ports with the file's own Redis and
 * index prefixes, and one Chromium, before the file's tests; stops both and cleans up after them.
 * The returned object is filled in when the file's first `beforeAll` has run.
 */
export function useDashboardApp(role: 'api' | 'all' = 'api'): DashboardApp {
  const iso = isolation();
  const ctx = { iso } as DashboardApp;
  beforeAll(async () => {
    const [apiPort, sitePort] = [await freePort(), await freePort()];
    ctx.url = `http://127.0.0.1:${apiPort}/`;
    ctx.site = `http://127.0.0.1:${sitePort}`;
    ctx.app = runQianshao([role, '--demo'], { API_PORT: String(apiPort), DEMO_SITE_PORT: String(sitePort), REDIS_PREFIX: iso.redisPrefix, ES_INDEX_PREFIX: iso.indexPrefix });
    await waitForOutput(ctx.app, 'Dashboard:');
    ctx.browser = await launchChromium();
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.app?.stop();
    await iso.cleanup();
  });
  return ctx;
}
