import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../core/logger.js';
import { QianshaoError, TooManyRequestsError } from '../core/errors.js';

/** The one place errors become HTTP answers: `{ error: { code, message } }` with a stable code. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof QianshaoError) {
      if (err.httpStatus >= 500) log.warn({ path: req.path, code: err.code, err: err.message }, 'request failed');
      if (err instanceof TooManyRequestsError) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
      res.status(err.httpStatus).json({ error: { code: err.code, message: err.message } });
      return;
    }
    const status = (err as { status?: number; type?: string }).status;
    if (status === 400 && (err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
      return;
    }
    if (status === 413) {
      res.status(413).json({ error: { code: 'payload_too_large', message: 'request body is too large' } });
      return;
    }
    // Other client errors from express and body-parser (a malformed %-escape in the path, an unsupported charset) keep their 4xx.
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: { code: 'bad_request', message: err instanceof URIError || /decode/i.test((err as Error).message ?? '') ? 'the URL has a malformed %-escape' : 'the request cannot be read' } });
      return;
    }
    log.error({ path: req.path, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
