import { z } from 'zod';
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

/**
 * A date or instant in a query (`2026-11-01`, `2026-11-01T08:00:00+08:00`) within the years
 * Elasticsearch's date fields take: a `Date` holds years up to ±275760, which a range query refused.
 */
export const QueryDate = z.coerce.date().refine((d) => d.getUTCFullYear() >= 0 && d.getUTCFullYear() <= 9999, 'a date between the years 0000 and 9999');
