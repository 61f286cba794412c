import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import type { Logger } from '../core/logger.js';
import { loadSession } from './authenticate.js';
import { assignRequestId } from './authorize.js';
import { errorHandler } from './error-handler.js';
import type { RedisSessionStore } from './sessions.js';

export interface AppDeps {
  log: Logger;
  sessions: RedisSessionStore;
  /** Routers mounted under /api, in order. */
  apiRouters: Router[];
  /** Built dashboard (Vite output), served at `/`; absent in API-only tests. */
  dashboardDir?: string;
}

/** The API and dashboard as an express app. Never listens: `bin/qianshao.ts` owns the process. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          frameAncestors: ["'none'"],
          formAction: ["'self'"],
        },
      },
    }),
  );
  app.use('/api', assignRequestId(), express.json({ limit: '2mb' }), loadSession(deps.sessions), ...deps.apiRouters);
  app.use('/api', (req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no such endpoint: ${req.method} ${req.path}` } });
  });
  if (deps.dashboardDir && existsSync(deps.dashboardDir)) {
    app.use(express.static(deps.dashboardDir, { index: 'index.html', maxAge: '1h' }));
  }
  app.use(errorHandler(deps.log));
  return app;
}
