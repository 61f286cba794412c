import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PublicUser } from '../core/auth/user.js';

/** Opaque random session tokens kept in Redis with a TTL; logging out deletes the key. */
export class RedisSessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(token: string): string {
    return `${this.prefix}:session:${token}`;
  }

  async create(user: PublicUser): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.redis.set(this.key(token), JSON.stringify(user), 'EX', this.ttlSeconds);
    return token;
  }

  async get(token: string): Promise<PublicUser | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const raw = await this.redis.get(this.key(token));
    return raw ? (JSON.parse(raw) as PublicUser) : undefined;
  }

  async destroy(token: string): Promise<void> {
    await this.redis.del(this.key(token));
  }
}
