import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { can } from '../core/auth/permissions.js';

/**
 * bull-board at `basePath`, for users holding `pipeline.admin` only, read-only: its own buttons (pause,
 * empty, clean, retry, add or edit jobs) would change the queues with no audit record, so they are
 * off; dead letters are replayed through the audited API. Someone not signed in is sent to the
 * dashboard's log-in page; a signed-in user without the permission gets 403.
 */
export function queueBoard(queues: readonly Queue[], basePath = '/admin/queues'): RequestHandler[] {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })), serverAdapter: adapter, options: { uiConfig: { boardTitle: '前哨 · 队列' } } });
  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (!req.user) {
      if (req.accepts('html')) return res.redirect(`/login?redirect=${encodeURIComponent(basePath)}`);
      return res.status(401).json({ error: { code: 'unauthenticated', message: 'sign in first' } });
    }
    if (!can(req.user.roles, 'pipeline.admin')) return res.status(403).json({ error: { code: 'forbidden', message: 'needs pipeline.admin' } });
    // bull-board's own page has a loading placeholder with inline styles; only this page allows them.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
    );
    next();
  };
  return [guard, adapter.getRouter() as RequestHandler];
}
