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
export interface LoginAttempts {
  /** When the account's lock ends, if it is locked now. */
  lockedUntil(username: string): Promise<Date | undefined>;
  /** Counts a failure; returns how many fall in the current window, this one included. */
  recordFailure(username: string): Promise<number>;
  lock(username: string, until: Date): Promise<void>;
  /** After a successful log-in or an admin's unlock. */
  clear(username: string): Promise<void>;
}
