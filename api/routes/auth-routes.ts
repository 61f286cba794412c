import { Router } from 'express';
import { z } from 'zod';
import { verifyPassword } from '../../core/auth/password.js';
import { permissionsOf } from '../../core/auth/permissions.js';
import { toPublicUser, type User } from '../../core/auth/user.js';
import { InvalidInputError, UnauthenticatedError } from '../../core/errors.js';
import { SESSION_COOKIE, requireRole } from '../authenticate.js';
import type { RedisSessionStore } from '../sessions.js';
import { parseBody } from '../parse-body.js';

const LoginSchema = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });

export function authRoutes(deps: { users: readonly User[]; sessions: RedisSessionStore; secureCookie: boolean; ttlSeconds: number }): Router {
  const router = Router();
  router.post('/auth/login', async (req, res) => {
    const body = parseBody(LoginSchema, req.body);
    const user = deps.users.find((u) => u.username === body.username);
    // Verify against a hash even for unknown users so timing does not reveal which usernames exist.
    const ok = await verifyPassword(body.password, user?.passwordHash ?? deps.users[0]?.passwordHash ?? 'scrypt$00$00');
    if (!user || !ok) throw new UnauthenticatedError('用户名或密码错误 (wrong username or password)');
    const publicUser = toPublicUser(user);
    const token = await deps.sessions.create(publicUser);
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: deps.secureCookie, maxAge: deps.ttlSeconds * 1000, path: '/' });
    res.json({ user: publicUser, permissions: permissionsOf(publicUser.roles) });
  });
  router.post('/auth/logout', requireRole(), async (req, res) => {
    if (req.sessionToken) await deps.sessions.destroy(req.sessionToken);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });
  router.get('/auth/me', requireRole(), (req, res) => {
    if (!req.user) throw new InvalidInputError('no session');
    res.json({ user: req.user, permissions: permissionsOf(req.user.roles) });
  });
  return router;
}
