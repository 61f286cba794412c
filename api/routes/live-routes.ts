import { Router, type Response } from 'express';
import type { Redis } from 'ioredis';
import { requireRole } from '../authenticate.js';

/**
 * `GET /api/live`: server-sent events of alert changes. Any role publishes to one Redis channel, so
 * an api process sees alerts raised by workers in other processes.
 */
export function liveRoutes(deps: { subscriber: Redis; channel: string }): { router: Router; close(): Promise<void> } {
  const clients = new Set<Response>();
  void deps.subscriber.subscribe(deps.channel);
  deps.subscriber.on('message', (channel: string, message: string) => {
    if (channel !== deps.channel) return;
    for (const res of clients) res.write(`event: alert\ndata: ${message}\n\n`);
  });
  const keepAlive = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, 25_000);
  keepAlive.unref();

  const router = Router();
  router.get('/live', requireRole(), (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
  });
  return {
    router,
    async close() {
      clearInterval(keepAlive);
      for (const res of clients) res.end();
      clients.clear();
      await deps.subscriber.quit().catch(() => undefined);
    },
  };
}
