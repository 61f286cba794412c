import express, { Router, type Express, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import { loadSession } from './authenticate.js';
import { assignRequestId } from './authorize.js';
import { errorHandler } from './error-handler.js';
import type { RedisSessionStore } from './sessions.js';
import type { TokenStore, UserStore } from '../core/auth/user-store.js';
import { buildOpenApiDocument, type RouteDoc } from './openapi/openapi.js';

export interface AppDeps {
  log: Logger;
  sessions: RedisSessionStore;
  /** Current accounts (a disabled one loses its sessions at once) and API tokens. */
  users?: UserStore;
  tokens?: TokenStore;
  /** Routers mounted under /api, in order. */
  apiRouters: Router[];
  /** What the route modules declare about their routes, for `GET /api/openapi.json`. */
  routeDocs?: RouteDoc[];
  /** Built dashboard (Vite output), served at `/`; absent in API-only tests. */
  dashboardDir?: string;
  /** Pages outside /api mounted before the dashboard (bull-board at /admin/queues), after the session is loaded. */
  pageMounts?: { path: string; handlers: RequestHandler[] }[];
}

/** The API and dashboard as an express app. Never listens: `bin/qianshao.ts` owns the process. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  // A fresh nonce per page lets the dashboard's own run-time <style> elements in (CodeMirror
  // mounts its styles as one, with EditorView.cspNonce), and nothing else inline: no
  // 'unsafe-inline', style attributes stay refused. The page learns it from index.html (below).
  const pageHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", (_req, res) => `'nonce-${(res as Response).locals.cspNonce as string}'`],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
  });
  // API answers (JSON, event streams, downloads) are never rendered as pages: nothing may load from
  // them, so no nonce is drawn for them (one per request on the acknowledge path, for nothing).
  const apiHeaders = helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], frameAncestors: ["'none'"], formAction: ["'none'"] } } });
  app.use((req, res, next) => {
    if (req.path === '/api' || req.path.startsWith('/api/')) return apiHeaders(req, res, next);
    res.locals.cspNonce = randomBytes(18).toString('base64');
    pageHeaders(req, res, next);
  });
  // The OpenAPI document walks the mounted routers once, on first request, so it lists every route.
  const openApi = Router();
  let openApiDocument: Record<string, unknown> | undefined;
  openApi.get('/openapi.json', (_req, res) => {
    openApiDocument ??= buildOpenApiDocument({
      routers: [...deps.apiRouters, openApi],
      docs: [...(deps.routeDocs ?? []), { method: 'get', path: '/openapi.json', tag: 'api', summary: '本接口文档（OpenAPI 3.1）' }],
      title: '前哨 Qianshao API',
      version: '0.1.0',
    });
    res.json(openApiDocument);
  });
  app.use('/api', assignRequestId(), express.json({ limit: '2mb' }), loadSession({ sessions: deps.sessions, users: deps.users, tokens: deps.tokens }), ...deps.apiRouters, openApi);
  app.use('/api', (req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no such endpoint: ${req.method} ${req.path}` } });
  });
  // Pages (bull-board) check the current account too: a role taken away applies there at once as well.
  const pageSession = loadSession({ sessions: deps.sessions, users: deps.users, tokens: deps.tokens });
  for (const mount of deps.pageMounts ?? []) app.use(mount.path, assignRequestId(), pageSession, ...mount.handlers);
  if (deps.dashboardDir && existsSync(deps.dashboardDir)) {
    const dir = deps.dashboardDir;
    // Hashed asset names change with their content, so they may be cached for long; index.html never.
    app.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '30d' }));
    // The dashboard routes in the browser (/wall, /alerts/…): a reload of any such page gets index.html,
    // with this response's CSP nonce where the build left its placeholder (dashboards/vite.config.ts).
    // Read on each page load, so a rebuilt dashboard is served without a restart.
    // no-store: the page carries this response's nonce, which no cache may hand to a later load.
    app.get(/^\/(?!api\/|assets\/).*/, (req, res, next) => {
      if (!req.accepts('html')) return next();
      const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(html.replaceAll('__CSP_NONCE__', res.locals.cspNonce as string));
    });
    // The other built files (favicon, …). index.html is never one of them: as a file it still holds the
    // placeholder, so a request that does not take HTML gets a 404 for it.
    const files = express.static(dir, { index: false, maxAge: '1h' });
    app.use((req, res, next) => (namesIndexHtml(req.path) ? next() : files(req, res, next)));
  }
  app.use(errorHandler(deps.log));
  return app;
}

/**
 * Whether a request path would reach the dashboard's index.html as a static file, as serve-static
 * resolves it (percent-decoded, dot segments removed). An undecodable path names no file.
 */
function namesIndexHtml(requestPath: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return false;
  }
  return path.posix.normalize(decoded) === '/index.html';
}
