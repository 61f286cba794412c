import { Router, type Response } from 'express';
import type { Redis } from 'ioredis';
import { requirePermission } from '../authorize.js';

/**
 * `GET /api/live`: server-sent events of alert changes (`event: alert`, data = the desk's
 * `AlertChange`: alert id, what changed, status, level, version). Every role publishes to one
 * Redis channel, so an api process sees changes made by workers and other api processes. Events
 * carry an increasing id; a client that reconnects reloads the list rather than replaying.
 */
export function liveRoutes(deps: { subscriber: Redis; channel: string }): { router: Router; close(): Promise<void> } {
  const clients = new Set<Response>();
  let eventId = 0;
  void deps.subscriber.subscribe(deps.channel);
  deps.subscriber.on('message', (channel: string, message: string) => {
    if (channel !== deps.channel) return;
    eventId += 1;
    // One line of JSON: a newline in the payload would end the event early.
    const data = message.replace(/\r?\n/g, ' ');
    for (const res of clients) res.write(`id: ${eventId}\nevent: alert\ndata: ${data}\n\n`);
  });
  const keepAlive = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, 25_000);
  keepAlive.unref();

  const router = Router();
  router.get('/live', requirePermission('alert.read'), (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
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
