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

/** Log-in attempts per client address, whatever usernames it tries. */
export interface LoginRate {
  take(address: string): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
  /** A log-in from `address` succeeded: it does not count (a duty room behind one address signs in together). */
  succeeded(address: string): Promise<void>;
}

/**
 * A log-in attempt let in to have its password checked; or refused: the account is locked (`lockedNow`
 * when its failures reached the limit with no lock set yet), or `busy`: its failures and the attempts
 * being checked already reach the limit (a double submit, a burst of guesses), nothing locked.
 */
export type LoginAdmission = { admitted: true; attempt: string } | { admitted: false; until: Date; lockedNow: boolean } | { admitted: false; busy: true };

/**
 * Failed log-ins per username (Redis: counted within a window) and the lock they lead to. An attempt
 * is let in only while its account's failures plus the attempts being checked stay under the limit,
 * so parallel guesses cannot all be checked before the first is counted; only failures lock.
 */
export interface LoginAttempts {
  /** When the account's lock ends, if it is locked now. */
  lockedUntil(username: string): Promise<Date | undefined>;
  /** Refuses while locked, or while failures and attempts being checked reach the limit; otherwise lets this attempt in. */
  admit(username: string): Promise<LoginAdmission>;
  /** The attempt let in failed: how many failures fall in the window, this one included. */
  failed(username: string, attempt: string): Promise<number>;
  /**
   * The attempt let in had the right password: the failures are forgotten unless a sibling attempt
   * locked the account meanwhile, whose lock end is returned (the log-in is then refused).
   */
  succeeded(username: string, attempt: string): Promise<Date | undefined>;
  /** Locks until `until` unless the account is locked already; true when this call locked it. */
  lock(username: string, until: Date): Promise<boolean>;
  /** An admin's unlock. */
  clear(username: string): Promise<void>;
}
