import type { NextFunction, Request, Response } from 'express';
import { checkToken, parseToken, tokenPermissions } from '../core/auth/api-token.js';
import type { Permission } from '../core/auth/permissions.js';
import { toPublicUser, type PublicUser, type Role } from '../core/auth/user.js';
import type { TokenStore, UserStore } from '../core/auth/user-store.js';
import { ForbiddenError, UnauthenticatedError } from '../core/errors.js';
import { AccountCache } from './account-cache.js';
import type { RedisSessionStore } from './sessions.js';

export const SESSION_COOKIE = 'qs_session';

/** An integration acting through an API token (`Authorization: Bearer qst_…`). */
export interface TokenPrincipal {
  id: string;
  name: string;
  permissions: Permission[];
}

declare module 'express-serve-static-core' {
  interface Request {
    user?: PublicUser;
    sessionToken?: string;
    apiToken?: TokenPrincipal;
  }
}

export function readCookie(req: Pick<Request, 'headers'>, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export interface AuthenticateDeps {
  sessions: RedisSessionStore;
  /**
   * When given, a session's user is the current account, not the one signed in: a disabled account
   * or changed roles apply from the next request (accounts are re-read after any account changes).
   */
  users?: UserStore;
  tokens?: TokenStore;
  now?: () => Date;
}

/** Who a request acts as: a user (through a session) or an integration (through an API token). */
export interface Principal {
  user: PublicUser;
  sessionToken?: string;
  apiToken?: TokenPrincipal;
}

/**
 * Resolves `Authorization: Bearer qst_…` to a token principal, or the session cookie (or a bearer
 * session token) to a user, as they stand now; undefined for an unknown, expired or revoked
 * credential, or a disabled account (whose session then ends).
 */
export function principalResolver(deps: AuthenticateDeps | RedisSessionStore): (req: Pick<Request, 'headers'>) => Promise<Principal | undefined> {
  const { sessions, users, tokens, now = () => new Date() } = 'sessions' in deps ? deps : ({ sessions: deps } as AuthenticateDeps);
  const accounts = users ? new AccountCache(users) : undefined;
  return async (req) => {
    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    if (bearer?.startsWith('qst_')) {
      const parsed = parseToken(bearer);
      const stored = parsed && tokens ? await tokens.get(parsed.id) : undefined;
      if (!parsed || !stored || checkToken(stored, parsed.secret, now()) !== 'valid') return undefined;
      return {
        apiToken: { id: stored.id, name: stored.name, permissions: tokenPermissions(stored) },
        user: { username: `token:${stored.id}`, displayName: stored.name, roles: [...stored.roles] },
      };
    }
    const token = bearer ?? readCookie(req, SESSION_COOKIE);
    if (!token) return undefined;
    const found = await sessions.lookup(token);
    if (!found) return undefined;
    const snapshot = found.user;
    const current = accounts ? await accounts.get(snapshot.username, found.accountsEpoch) : undefined;
    if (accounts && (!current || current.disabled)) {
      await sessions.destroy(token);
      return undefined;
    }
    return { user: current ? toPublicUser(current) : snapshot, sessionToken: token };
  };
}

/** Sets `req.user` (and `sessionToken` or `apiToken`) from the request's credential; routes decide whether one is required. */
export function loadSession(deps: AuthenticateDeps | RedisSessionStore) {
  const resolve = principalResolver(deps);
  return async (req: Request, _res: Response, next: NextFunction) => {
    const principal = await resolve(req);
    if (principal) {
      req.user = principal.user;
      if (principal.sessionToken) req.sessionToken = principal.sessionToken;
      if (principal.apiToken) req.apiToken = principal.apiToken;
    }
    next();
  };
}

/** Requires a signed-in user holding one of `roles` (any role when empty); admins pass every check. */
export function requireRole(...roles: Role[]) {
  const check = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.user) throw new UnauthenticatedError('请先登录 (sign in first)');
    if (roles.length > 0 && !req.user.roles.some((r) => r === 'admin' || roles.includes(r))) {
      throw new ForbiddenError(`this action needs one of the roles: ${roles.join(', ')}`);
    }
    next();
  };
  // Read by the OpenAPI document (401 when not signed in).
  return Object.assign(check, { requiresSignIn: true as const });
}
