import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DELETE_IF_OWNER } from '../../pipeline/redis/owned-key.js';

export interface CachedToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Where access tokens are kept between calls and between workers. WeChat allows a limited number of
 * `cgi-bin/token` calls a day and each call invalidates the previous token after 5 minutes, so all
 * crawl workers of one deployment must share one token per appid. Keys are hashes of the appid;
 * the secret is never stored.
 */
export interface AccessTokenStore {
  get(appid: string): Promise<CachedToken | undefined>;
  set(appid: string, value: CachedToken): Promise<void>;
  /** Forgets the token only if it is still `token` (another worker may have refreshed it already). */
  invalidate(appid: string, token: string): Promise<void>;
  /** Tries to become the one worker refreshing `appid`'s token; false when another holds the lock. */
  lock(appid: string, ttlMs: number): Promise<boolean>;
  /** Gives the lock up if it is still this store's (one that ran out and was taken by another stays theirs). */
  unlock(appid: string): Promise<void>;
}

export class MemoryAccessTokenStore implements AccessTokenStore {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly locks = new Map<string, number>();
  async get(appid: string) {
    return this.tokens.get(appid);
  }
  async set(appid: string, value: CachedToken) {
    this.tokens.set(appid, value);
  }
  async invalidate(appid: string, token: string) {
    if (this.tokens.get(appid)?.token === token) this.tokens.delete(appid);
  }
  async lock(appid: string, ttlMs: number) {
    const held = this.locks.get(appid);
    if (held !== undefined && held > Date.now()) return false;
    this.locks.set(appid, Date.now() + ttlMs);
    return true;
  }
  async unlock(appid: string) {
    this.locks.delete(appid);
  }
}

const keyOf = (appid: string) => createHash('sha256').update(appid).digest('hex').slice(0, 24);

const INVALIDATE_IF_SAME = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisAccessTokenStore implements AccessTokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}
  private key(appid: string) {
    return `${this.prefix}:wechat-mp:token:${keyOf(appid)}`;
  }
  async get(appid: string) {
    const raw = await this.redis.get(this.key(appid));
    if (!raw) return undefined;
    const value = JSON.parse(raw) as CachedToken;
    return typeof value.token === 'string' && typeof value.expiresAt === 'number' ? value : undefined;
  }
  async set(appid: string, value: CachedToken) {
    const ttl = Math.max(1, value.expiresAt - Date.now());
    await this.redis.set(this.key(appid), JSON.stringify(value), 'PX', ttl);
  }
  async invalidate(appid: string, token: string) {
    await this.redis.eval(INVALIDATE_IF_SAME, 1, this.key(appid), token);
  }
  /** The token of each refresh lock this store holds. */
  private readonly held = new Map<string, string>();
  async lock(appid: string, ttlMs: number) {
    const token = randomUUID();
    if ((await this.redis.set(`${this.key(appid)}:refreshing`, token, 'PX', ttlMs, 'NX')) !== 'OK') return false;
    this.held.set(appid, token);
    return true;
  }
  async unlock(appid: string) {
    const token = this.held.get(appid);
    if (token === undefined) return;
    this.held.delete(appid);
    // A refresh that outlived its lock must not free the lock of the worker refreshing now:
    // two refreshes at once would each invalidate the other's token.
    await this.redis.eval(DELETE_IF_OWNER, 1, `${this.key(appid)}:refreshing`, token);
  }
}

/**
 * How long one worker's refresh holds the others off. They wait longer than that by default, so a
 * slow refresh is waited out (or its lock taken once it lapses) rather than raced: two refreshes
 * would each invalidate the other's token.
 */
const REFRESH_LOCK_MS = 15_000;

export interface AccessTokensOptions {
  store: AccessTokenStore;
  /** A token is refreshed this long before WeChat says it expires. */
  refreshMarginMs?: number;
  /** How long a worker waits for another worker's refresh before refreshing itself (default: past the refresh lock). */
  waitForOtherMs?: number;
  now?: () => number;
}

/**
 * Access tokens per appid: served from the store while they have more than the margin left,
 * refreshed once by one worker otherwise (others wait for its result), invalidated when the API
 * rejects them.
 */
export class AccessTokens {
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly margin: number;
  private readonly waitForOther: number;
  private readonly now: () => number;
  constructor(private readonly opts: AccessTokensOptions) {
    this.margin = opts.refreshMarginMs ?? 300_000;
    this.waitForOther = opts.waitForOtherMs ?? REFRESH_LOCK_MS + 5_000;
    this.now = opts.now ?? Date.now;
  }

  private fresh(t: CachedToken | undefined): t is CachedToken {
    return t !== undefined && t.expiresAt - this.margin > this.now();
  }

  /** A fresh token for `appid`; `fetchToken` calls `cgi-bin/token` when one is needed and throws what the API answered. */
  async get(appid: string, fetchToken: () => Promise<{ token: string; expiresInSeconds: number }>): Promise<string> {
    const cached = await this.opts.store.get(appid);
    if (this.fresh(cached)) return cached.token;
    // One refresh per appid per process at a time.
    let pending = this.inFlight.get(appid);
    if (!pending) {
      pending = this.refresh(appid, fetchToken).finally(() => this.inFlight.delete(appid));
      this.inFlight.set(appid, pending);
    }
    return pending;
  }

  /** The API rejected `token` (40001/40014/42001): the next `get` fetches a new one. */
  async invalidate(appid: string, token: string): Promise<void> {
    await this.opts.store.invalidate(appid, token);
  }

  private async refresh(appid: string, fetchToken: () => Promise<{ token: string; expiresInSeconds: number }>): Promise<string> {
    const deadline = this.now() + this.waitForOther;
    let locked = await this.opts.store.lock(appid, REFRESH_LOCK_MS);
    while (!locked) {
      // Another worker is refreshing: take its token when it lands.
      await new Promise((r) => setTimeout(r, 100));
      const cached = await this.opts.store.get(appid);
      if (this.fresh(cached)) return cached.token;
      if (this.now() > deadline) break;
      locked = await this.opts.store.lock(appid, REFRESH_LOCK_MS);
    }
    try {
      const cached = await this.opts.store.get(appid);
      if (this.fresh(cached)) return cached.token;
      const { token, expiresInSeconds } = await fetchToken();
      await this.opts.store.set(appid, { token, expiresAt: this.now() + expiresInSeconds * 1000 });
      return token;
    } finally {
      if (locked) await this.opts.store.unlock(appid);
    }
  }
}
