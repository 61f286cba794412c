import type { NextFunction, Request, Response } from 'express';
import type { PublicUser, Role } from '../core/auth/user.js';
import { ForbiddenError, UnauthenticatedError } from '../core/errors.js';
import type { RedisSessionStore } from './sessions.js';

export const SESSION_COOKIE = 'qs_session';

declare module 'express-serve-static-core' {
  interface Request {
    user?: PublicUser;
    sessionToken?: string;
  }
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Resolves the session cookie (or `Authorization: Bearer`) to a user; routes decide whether one is required. */
export function loadSession(sessions: RedisSessionStore) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const token = bearer ?? readCookie(req, SESSION_COOKIE);
    if (token) {
      const user = await sessions.get(token);
      if (user) {
        req.user = user;
        req.sessionToken = token;
      }
    }
    next();
  };
}

/** Requires a signed-in user holding one of `roles` (any role when empty); admins pass every check. */
export function requireRole(...roles: Role[]) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!req.user) throw new UnauthenticatedError('请先登录 (sign in first)');
    if (roles.length > 0 && !req.user.roles.some((r) => r === 'admin' || roles.includes(r))) {
      throw new ForbiddenError(`this action needs one of the roles: ${roles.join(', ')}`);
    }
    next();
  };
}
