import { Router, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Principal } from '../authenticate.js';
import { grants, requirePermission } from '../authorize.js';
import type { RouteDoc } from '../openapi/openapi.js';

/**
 * `GET /api/live`: server-sent events of alert changes (`event: alert`, data = the desk's
 * `AlertChange`: alert id, what changed, status, level, version). Every role publishes to one
 * Redis channel, so an api process sees changes made by workers and other api processes. Events
 * carry an increasing id; a client that reconnects reloads the list rather than replaying.
 */
export function liveRoutes(deps: {
  subscriber: Redis;
  channel: string;
  /**
   * Who a stream's credential stands for now (the session check's resolver): asked for every open
   * stream at each keep-alive, which ends the streams whose credential no longer grants `alert.read`
   * (session ended, account disabled, role or token permission taken away). A check that fails
   * (Redis down) keeps the stream.
   */
  resolvePrincipal?: (req: Request) => Promise<Principal | undefined>;
  keepAliveMs?: number;
}): { router: Router; close(): Promise<void> } {
  const clients = new Map<Response, Request>();
  let eventId = 0;
  void deps.subscriber.subscribe(deps.channel);
  deps.subscriber.on('message', (channel: string, message: string) => {
    if (channel !== deps.channel) return;
    eventId += 1;
    // One line of JSON: a newline in the payload would end the event early.
    const data = message.replace(/\r?\n/g, ' ');
    for (const res of clients.keys()) res.write(`id: ${eventId}\nevent: alert\ndata: ${data}\n\n`);
  });
  const keepAlive = setInterval(() => {
    for (const [res, req] of clients) {
      res.write(': keep-alive\n\n');
      deps.resolvePrincipal?.(req).then(
        (principal) => {
          if ((principal && grants(principal, 'alert.read')) || !clients.has(res)) return;
          clients.delete(res);
          res.end();
        },
        () => undefined,
      );
    }
  }, deps.keepAliveMs ?? 25_000);
  keepAlive.unref();

  const router = Router();
  router.get('/live', requirePermission('alert.read'), (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n\n');
    clients.set(res, req);
    req.on('close', () => clients.delete(res));
  });
  return {
    router,
    async close() {
      clearInterval(keepAlive);
      for (const res of clients.keys()) res.end();
      clients.clear();
      await deps.subscriber.quit().catch(() => undefined);
    },
  };
}

export const liveRouteDocs: RouteDoc[] = [{ method: 'get', path: '/live', tag: 'alerts', summary: '预警变化的实时推送（server-sent events，event: alert）', produces: 'text/event-stream' }];
