import type { ApiToken } from './api-token.js';
import type { User } from './user.js';

/**
 * Where accounts live. Seeded from YAML (create-only: an account changed through the API keeps its
 * changes across restarts). Deliberately left out: deleting an account — disable it instead, so the
 * audit trail's actors stay resolvable.
 */
export interface UserStore {
  get(username: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  /** `ConflictError` when the username is taken. */
  create(user: User): Promise<void>;
  /** Applies `change` to the current account with optimistic concurrency; `NotFoundError` when absent. */
  update(username: string, change: (current: User) => User): Promise<{ before: User; after: User }>;
  /** Creates the accounts that do not exist yet; returns the usernames created. */
  seed(users: readonly User[]): Promise<string[]>;
}

/** API tokens; only the hash of a token's secret is kept. Revoked tokens stay for the audit trail. */
export interface TokenStore {
  get(id: string): Promise<ApiToken | undefined>;
  list(): Promise<ApiToken[]>;
  create(token: ApiToken): Promise<void>;
  update(id: string, change: (current: ApiToken) => ApiToken): Promise<{ before: ApiToken; after: ApiToken }>;
}

/** Failed log-ins and lock-outs (Redis: counted per username within a window). */
/** Log-in attempts per client address, whatever usernames it tries. */
export interface LoginRate {
  take(address: string): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
}

/** A log-in attempt counted before its password is checked, or the lock that refused it. */
export type LoginAdmission = { admitted: true; attempt: string } | { admitted: false; until: Date; failures: number; lockedNow: boolean };

/**
 * Failed log-ins per username and the lock they lead to. An attempt is counted as a failure before
 * its password is checked (`admit`), and cleared only when it succeeds, so parallel guesses cannot
 * all be checked before the first is counted: at most `maxFailures` are ever in flight or failed in
 * the window.
 */
export interface LoginAttempts {
  /** When the account's lock ends, if it is locked now. */
  lockedUntil(username: string): Promise<Date | undefined>;
  /**
   * Refuses while locked, and locks (`lockedNow`) when the failures and attempts in flight already
   * reach the limit; otherwise counts this attempt and admits it.
   */
  admit(username: string): Promise<LoginAdmission>;
  /** The admitted attempt failed: how many failures (and attempts in flight) fall in the window, this one included. */
  failed(username: string, attempt: string): Promise<number>;
  /**
   * The admitted attempt had the right password: the failures are forgotten unless a sibling attempt
   * locked the account meanwhile, whose lock end is returned (the log-in is then refused).
   */
  succeeded(username: string, attempt: string): Promise<Date | undefined>;
  lock(username: string, until: Date): Promise<void>;
  /** An admin's unlock. */
  clear(username: string): Promise<void>;
}
