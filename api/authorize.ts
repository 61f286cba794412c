import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AuditActor } from '../core/audit/audit-log.js';
import { can, type Permission } from '../core/auth/permissions.js';
import type { Role } from '../core/auth/user.js';
import { ForbiddenError, UnauthenticatedError } from '../core/errors.js';
import './authenticate.js';

declare module 'express-serve-static-core' {
  interface Request {
    requestId?: string;
  }
}

/** Gives every request an id (or keeps a sane caller-supplied `X-Request-Id`) for the audit trail and logs. */
export function assignRequestId() {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.headers['x-request-id'];
    req.requestId = typeof given === 'string' && /^[A-Za-z0-9._-]{8,80}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    next();
  };
}

/** Requires a signed-in user whose roles grant `permission`, or an API token granted it (see core/auth/permissions.ts). */
/** Whether a user (by their roles) or an API token (by its own permissions) holds `permission`. */
export function grants(who: { user: { roles: readonly Role[] }; apiToken?: { permissions: readonly Permission[] } }, permission: Permission): boolean {
  return who.apiToken ? who.apiToken.permissions.includes(permission) : can(who.user.roles, permission);
}

export function requirePermission(permission: Permission) {
  const check = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.user) throw new UnauthenticatedError('请先登录 (sign in first)');
    const granted = grants({ user: req.user, ...(req.apiToken ? { apiToken: req.apiToken } : {}) }, permission);
    if (!granted) throw new ForbiddenError(`没有权限：${permission} (${req.apiToken ? 'this token does' : 'your roles do'} not grant ${permission})`);
    next();
  };
  // Read by the OpenAPI document, which lists each route's permission.
  return Object.assign(check, { requiredPermission: permission });
}

/** Who is acting in this request, for the audit trail. Only call behind `requirePermission`. */
export function actorOf(req: Request): AuditActor {
  if (!req.user) throw new UnauthenticatedError('请先登录 (sign in first)');
  if (req.apiToken) return { kind: 'token', id: req.apiToken.id, displayName: req.apiToken.name, roles: [...req.user.roles] };
  return { kind: 'user', id: req.user.username, displayName: req.user.displayName, roles: [...req.user.roles] };
}
