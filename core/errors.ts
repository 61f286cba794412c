/**
 * Errors carry their retry meaning in their type and a stable `code` the dashboard turns into
 * Chinese text. Adapters translate foreign errors (Elasticsearch, ioredis) into these.
 */
export abstract class QianshaoError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
  /** Whether a queue should retry the job that raised it. */
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input from a user, a config file or a crawled page: never retried. */
export class InvalidInputError extends QianshaoError {
  readonly code: string;
  readonly httpStatus = 400;
  readonly retryable = false;
  constructor(message: string, code = 'invalid_input', readonly details?: unknown) {
    super(message);
    this.code = code;
  }
}

export class UnauthenticatedError extends QianshaoError {
  readonly code = 'unauthenticated';
  readonly httpStatus = 401;
  readonly retryable = false;
}

export class ForbiddenError extends QianshaoError {
  readonly code = 'forbidden';
  readonly httpStatus = 403;
  readonly retryable = false;
}

export class NotFoundError extends QianshaoError {
  readonly code = 'not_found';
  readonly httpStatus = 404;
  readonly retryable = false;
}

/** Optimistic concurrency lost, or an illegal state transition. */
export class ConflictError extends QianshaoError {
  readonly code: string;
  readonly httpStatus = 409;
  readonly retryable = false;
  constructor(message: string, code = 'conflict') {
    super(message);
    this.code = code;
  }
}

/** A dependency (Redis, Elasticsearch, a crawled site) is down: retried with backoff. */
export class UnavailableError extends QianshaoError {
  readonly code: string;
  readonly httpStatus = 503;
  readonly retryable = true;
  constructor(message: string, code = 'unavailable', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Someone else holds what this work needs for now (a post another worker is ingesting, or took over
 * after this worker's claim ran out): the job is delayed and run again without spending an attempt,
 * never dead-lettered (`startWorker`, `ingest-batch.ts`). Not an outage: the queue does not pause.
 */
export class BusyError extends QianshaoError {
  readonly code: string;
  readonly httpStatus = 409;
  readonly retryable = true;
  constructor(message: string, code = 'busy') {
    super(message);
    this.code = code;
  }
}

/** Too many failed log-ins: the account is locked until the time the message names. */
/** Too many requests from one client: try again after `retryAfterMs`. */
export class TooManyRequestsError extends QianshaoError {
  readonly code = 'too_many_requests';
  readonly httpStatus = 429;
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export class AccountLockedError extends QianshaoError {
  readonly code = 'account_locked';
  readonly httpStatus = 423;
  readonly retryable = false;
  constructor(
    message: string,
    readonly until: Date,
  ) {
    super(message);
  }
}
