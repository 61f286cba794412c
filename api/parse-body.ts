import type { z } from 'zod';
import { InvalidInputError } from '../core/errors.js';

/** Validates a request body or query; the error names each bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const why = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new InvalidInputError(why, 'invalid_body', result.error.issues);
  }
  return result.data;
}
