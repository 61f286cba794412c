import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PublicUser } from '../core/auth/user.js';

/**
 * Opaque random session tokens kept in Redis with a TTL; logging out deletes the key. Each user's
 * tokens are also kept in a set so disabling an account or resetting its password ends them all.
 */
export class RedisSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(token: string): string {
    return `${this.prefix}:session:${token}`;
  }
  private userKey(username: string): string {
    return `${this.prefix}:user-sessions:${username}`;
  }
  private accountsEpochKey(): string {
    return `${this.prefix}:accounts-epoch`;
  }

  async create(user: PublicUser): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.redis
      .multi()
      .set(this.key(token), JSON.stringify(user), 'EX', this.ttlSeconds)
      .sadd(this.userKey(user.username), token)
      .expire(this.userKey(user.username), this.ttlSeconds)
      .exec();
    return token;
  }

  async get(token: string): Promise<PublicUser | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const raw = await this.redis.get(this.key(token));
    return raw ? (JSON.parse(raw) as PublicUser) : undefined;
  }

  /**
   * The session's user as signed in, with the accounts epoch, in one round trip: the epoch changes
   * whenever any account changes, so a process may keep the accounts it read while it stays the same.
   */
  async lookup(token: string): Promise<{ user: PublicUser; accountsEpoch: string } | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const [raw, epoch] = await this.redis.mget(this.key(token), this.accountsEpochKey());
    // A random value, not a counter: after Redis forgets it, a new one cannot repeat an old one.
    return raw ? { user: JSON.parse(raw) as PublicUser, accountsEpoch: epoch ?? 'none' } : undefined;
  }

  /** Tells every process's session check that an account changed (after the change is stored). */
  async accountsChanged(): Promise<void> {
    await this.redis.set(this.accountsEpochKey(), randomBytes(12).toString('base64url'));
  }

  async destroy(token: string): Promise<void> {
    const user = await this.get(token);
    await this.redis.del(this.key(token));
    if (user) await this.redis.srem(this.userKey(user.username), token);
  }

  /** Ends every session of `username`; returns how many there were. */
  async destroyAll(username: string): Promise<number> {
    const tokens = await this.redis.smembers(this.userKey(username));
    if (tokens.length > 0) await this.redis.del(...tokens.map((t) => this.key(t)));
    await this.redis.del(this.userKey(username));
    return tokens.length;
  }
}
