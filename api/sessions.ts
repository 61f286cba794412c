import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PublicUser } from '../core/auth/user.js';

/**
 * KEYS: the session, the user's set of sessions. ARGV: the user as JSON, TTL seconds, the token, the
 * session key prefix. Drops from the set the tokens whose sessions expired, so it does not grow.
 */
const CREATE = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
for _, t in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[4] .. t) == 0 then redis.call('SREM', KEYS[2], t) end
end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
`;

/** KEYS: the user's set of sessions. ARGV: the session key prefix. Ends them all at once; how many were alive. */
const DESTROY_ALL = `
local ended = 0
for _, t in ipairs(redis.call('SMEMBERS', KEYS[1])) do ended = ended + redis.call('DEL', ARGV[1] .. t) end
redis.call('DEL', KEYS[1])
return ended
`;

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
    await this.redis.eval(CREATE, 2, this.key(token), this.userKey(user.username), JSON.stringify(user), this.ttlSeconds, token, this.key(''));
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

  /**
   * Ends every session of `username` in one step (a log-in between reading the set and deleting it
   * kept a live session out of the set, beyond any later reset); returns how many were alive.
   */
  async destroyAll(username: string): Promise<number> {
    return (await this.redis.eval(DESTROY_ALL, 1, this.userKey(username), this.key(''))) as number;
  }
}
