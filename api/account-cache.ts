import type { User } from '../core/auth/user.js';
import type { UserStore } from '../core/auth/user-store.js';

/**
 * The accounts the session check reads, kept in this process while the accounts epoch it is handed
 * (read from Redis with the session, `RedisSessionStore.lookup`) stays the same. Every change of an
 * account sets a new epoch (`accountsChanged`), so a disabled account or changed roles still apply
 * from the next request in every process; `maxAgeMs` bounds how long an entry lives should a
 * change ever miss announcing itself (Redis down between the write and the announcement).
 */
export class AccountCache {
  private readonly entries = new Map<string, { user: User | undefined; epoch: string; at: number }>();

  constructor(
    private readonly users: UserStore,
    private readonly maxAgeMs = 30_000,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  async get(username: string, epoch: string): Promise<User | undefined> {
    const hit = this.entries.get(username);
    if (hit && hit.epoch === epoch && this.now() - hit.at < this.maxAgeMs) return hit.user;
    const user = await this.users.get(username);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(username, { user, epoch, at: this.now() });
    return user;
  }
}
