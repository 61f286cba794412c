import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuditActor, AuditLog } from '../../core/audit/audit-log.js';
import { hashPassword, verifyPassword } from '../../core/auth/password.js';
import { permissionsOf } from '../../core/auth/permissions.js';
import { decideAfterFailure, lockedMessage, type LockoutPolicy } from '../../core/auth/lockout.js';
import { toPublicUser, unknownUsernameId } from '../../core/auth/user.js';
import type { LoginAttempts, LoginRate, UserStore } from '../../core/auth/user-store.js';
import { AccountLockedError, ForbiddenError, TooManyRequestsError, UnauthenticatedError } from '../../core/errors.js';
import { SESSION_COOKIE, requireRole } from '../authenticate.js';
import { actorOf } from '../authorize.js';
import type { RedisSessionStore } from '../sessions.js';
import { parseBody } from '../parse-body.js';
import { afterAccountChange } from '../account-change.js';
import type { RouteDoc } from '../openapi/openapi.js';

export const LoginSchema = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
export const PasswordSchema = z.string().min(8, 'password: at least 8 characters').max(256);
export const ChangePasswordSchema = z.object({ currentPassword: z.string().min(1).max(256), newPassword: PasswordSchema });

/** A hash to verify against for unknown usernames, so timing does not reveal which accounts exist. */
const DUMMY_HASH = hashPassword('not-a-real-password-qianshao');

export interface AuthRoutesDeps {
  users: UserStore;
  sessions: RedisSessionStore;
  attempts: LoginAttempts;
  /** Log-in attempts per client address. */
  loginRate: LoginRate;
  /**
   * The key of the hash that names unknown usernames in the audit trail (derived from a server
   * secret, so the same name gets the same id in every process); a random one per process if absent.
   */
  unknownUsernameKey?: Buffer;
  audit: AuditLog;
  lockout: LockoutPolicy;
  timeZone: string;
  secureCookie: boolean;
  ttlSeconds: number;
  now?: () => Date;
}

/** Someone not yet signed in; the username they claim is the audit record's entity. */
const ANONYMOUS: AuditActor = { kind: 'user', id: 'anonymous', roles: [] };

export function authRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const client = (req: Request) => ({ ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '').slice(0, 200) });

  /** Unknown usernames are named in the audit trail by a keyed hash (what was typed may be a password). */
  const unknownKey = deps.unknownUsernameKey ?? randomBytes(32);
  const nameOf = async (username: string) => ((await deps.users.get(username)) ? username : unknownUsernameId(username, unknownKey));
  const recordLock = (username: string, until: Date, failures: number, requestId: string | undefined) =>
    deps.audit.record({
      actor: { kind: 'system', id: 'lockout', roles: [] },
      entity: { type: 'user', id: username },
      action: 'user.locked',
      after: { until: until.toISOString(), failures },
      reason: `${failures} failed log-ins within ${deps.lockout.windowMinutes} minutes`,
      ...(requestId ? { requestId } : {}),
    });

  router.post('/auth/login', async (req, res) => {
    const body = parseBody(LoginSchema, req.body);
    // Per address first: guesses spread over many usernames cost a password check and an audit record each.
    const rate = await deps.loginRate.take(req.ip ?? 'unknown');
    if (!rate.allowed) throw new TooManyRequestsError('登录尝试过于频繁，请稍后再试 (too many log-in attempts from this address)', rate.retryAfterMs);
    // Let in before the password is checked only while failures and attempts being checked stay under the limit.
    const admission = await deps.attempts.admit(body.username);
    if (!admission.admitted) {
      if ('busy' in admission) throw new TooManyRequestsError('该账号正在登录中，请稍候再试 (log-ins of this account are being checked; try again in a moment)', 1_000);
      if (admission.lockedNow) await recordLock(await nameOf(body.username), admission.until, deps.lockout.maxFailures, req.requestId);
      throw new AccountLockedError(lockedMessage(admission.until, deps.timeZone), admission.until);
    }

    const user = await deps.users.get(body.username);
    const ok = await verifyPassword(body.password, user?.passwordHash ?? (await DUMMY_HASH));
    if (!user || !ok) {
      const failures = await deps.attempts.failed(body.username, admission.attempt);
      const decision = decideAfterFailure(failures, deps.lockout, now());
      const named = user ? body.username : unknownUsernameId(body.username, unknownKey);
      await deps.audit.record({
        actor: ANONYMOUS,
        entity: { type: 'session', id: named },
        action: 'session.login_failed',
        after: { ...client(req), failures, known: Boolean(user) },
        requestId: req.requestId,
      });
      if (decision.kind === 'lock') {
        // Parallel failures may all reach the limit: one of them locks, and only that one is recorded.
        if (await deps.attempts.lock(body.username, decision.until)) await recordLock(named, decision.until, failures, req.requestId);
        const until = (await deps.attempts.lockedUntil(body.username)) ?? decision.until;
        throw new AccountLockedError(lockedMessage(until, deps.timeZone), until);
      }
      throw new UnauthenticatedError('用户名或密码错误 (wrong username or password)');
    }
    // A sibling attempt may have locked the account while this one was checked: the lock stands.
    const lockedMeanwhile = await deps.attempts.succeeded(user.username, admission.attempt);
    await deps.loginRate.succeeded(req.ip ?? 'unknown');
    if (lockedMeanwhile) throw new AccountLockedError(lockedMessage(lockedMeanwhile, deps.timeZone), lockedMeanwhile);
    if (user.disabled) {
      await deps.audit.record({ actor: ANONYMOUS, entity: { type: 'session', id: user.username }, action: 'session.login_refused', reason: 'account disabled', after: client(req), requestId: req.requestId });
      throw new ForbiddenError('账号已停用，请联系管理员 (this account is disabled)');
    }
    const publicUser = toPublicUser(user);
    const token = await deps.sessions.create(publicUser);
    // A password reset or a disabling that landed while this password was checked ended every session
    // but this one: read the account again, and end this one too.
    const current = await deps.users.get(user.username);
    if (!current || current.disabled || current.passwordHash !== user.passwordHash) {
      await deps.sessions.destroy(token);
      throw new UnauthenticatedError('账号刚被修改，请重新登录 (the account changed while signing in; sign in again)');
    }
    await deps.audit.record({
      actor: { kind: 'user', id: user.username, displayName: user.displayName, roles: [...user.roles] },
      entity: { type: 'session', id: user.username },
      action: 'session.login',
      after: client(req),
      requestId: req.requestId,
    });
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: deps.secureCookie, maxAge: deps.ttlSeconds * 1000, path: '/' });
    res.json({ user: publicUser, permissions: permissionsOf(publicUser.roles) });
  });

  router.post('/auth/logout', requireRole(), async (req, res) => {
    if (req.sessionToken) {
      await deps.sessions.destroy(req.sessionToken);
      await deps.audit.record({ actor: actorOf(req), entity: { type: 'session', id: req.user!.username }, action: 'session.logout', requestId: req.requestId });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });

  router.get('/auth/me', requireRole(), (req, res) => {
    const user = req.user!;
    res.json({ user, permissions: req.apiToken ? req.apiToken.permissions : permissionsOf(user.roles) });
  });

  /** A person changes their own password (knowing the current one); their other sessions end. */
  router.post('/auth/password', requireRole(), async (req, res) => {
    const body = parseBody(ChangePasswordSchema, req.body);
    if (req.apiToken || !req.user) throw new ForbiddenError('API tokens have no password');
    const user = await deps.users.get(req.user.username);
    if (!user || !(await verifyPassword(body.currentPassword, user.passwordHash))) throw new ForbiddenError('当前密码不正确 (the current password is wrong)');
    const passwordHash = await hashPassword(body.newPassword);
    await deps.users.update(user.username, (u) => ({ ...u, passwordHash }));
    await afterAccountChange([() => deps.sessions.accountsChanged(), () => deps.sessions.destroyAll(user.username)], () =>
      deps.audit.record({ actor: actorOf(req), entity: { type: 'user', id: user.username }, action: 'user.password_changed', requestId: req.requestId }),
    );
    const token = await deps.sessions.create(toPublicUser(user));
    res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: deps.secureCookie, maxAge: deps.ttlSeconds * 1000, path: '/' });
    res.status(204).end();
  });
  return router;
}

export const authRouteDocs: RouteDoc[] = [
  { method: 'post', path: '/auth/login', tag: 'auth', summary: '登录（连续失败将锁定账号）', body: LoginSchema, responses: { '200': '已登录，返回用户与权限', '401': '用户名或密码错误', '403': '账号已停用', '423': '账号已锁定（信息中给出解锁时间）', '429': '同一地址登录尝试过于频繁（Retry-After 给出秒数）' } },
  { method: 'post', path: '/auth/logout', tag: 'auth', summary: '退出登录', responses: { '204': '已退出' } },
  { method: 'get', path: '/auth/me', tag: 'auth', summary: '当前用户（或令牌）及其权限' },
  { method: 'post', path: '/auth/password', tag: 'auth', summary: '修改本人密码（其他会话失效）', body: ChangePasswordSchema, responses: { '204': '已修改' } },
];
