import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { hashPassword } from '../../core/auth/password.js';
import { permissionsOf } from '../../core/auth/permissions.js';
import { RoleSchema, UserSchema, UsernameSchema, toPublicUser, type Role } from '../../core/auth/user.js';
import type { LoginAttempts, UserStore } from '../../core/auth/user-store.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { actorOf, requirePermission } from '../authorize.js';
import { parseBody } from '../parse-body.js';
import type { RedisSessionStore } from '../sessions.js';
import { afterAccountChange } from '../account-change.js';
import { PasswordSchema } from './auth-routes.js';
import type { RouteDoc } from '../openapi/openapi.js';

export const CreateUserSchema = UserSchema.omit({ passwordHash: true, disabled: true }).extend({ password: PasswordSchema }).strict();
export const UpdateUserSchema = z
  .object({
    displayName: z.string().min(1).max(80),
    section: z.string().min(1).max(80).nullable(),
    roles: z.array(RoleSchema).min(1),
    email: z.string().email().nullable(),
    mobile: z.string().regex(/^\+?[0-9-]{5,20}$/).nullable(),
    disabled: z.boolean(),
  })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });
export const ResetPasswordSchema = z.object({ password: PasswordSchema }).strict();
export const UsernameParamsSchema = z.object({ username: UsernameSchema });

/**
 * An API token administers only accounts whose roles grant nothing beyond its own permissions, and
 * grants no more: a token holding `users.write` would otherwise make an admin, or reset an admin's
 * password and sign in as them. (People with `users.write` are admins, who hold every permission.)
 */
function assertWithinTokenGrant(req: Request, roles: readonly Role[], what: string): void {
  if (!req.apiToken) return;
  const beyond = permissionsOf(roles).filter((p) => !req.apiToken!.permissions.includes(p));
  if (beyond.length > 0) throw new ForbiddenError(`API 令牌不能${what}超出其自身权限的账号 (an API token cannot ${what === '授予' ? 'grant' : 'administer'} roles beyond its own permissions: ${beyond.join(', ')})`);
}

/** Accounts: anyone signed in may list people (to assign work); `users.write` administers them. */
export function userRoutes(deps: { users: UserStore; sessions: RedisSessionStore; attempts: LoginAttempts; audit: AuditLog }): Router {
  const router = Router();

  router.get('/users', requirePermission('roster.read'), async (_req, res) => {
    res.json({ users: (await deps.users.list()).map(toPublicUser) });
  });

  router.get('/users/:username', requirePermission('roster.read'), async (req, res) => {
    const { username } = parseBody(UsernameParamsSchema, req.params);
    const user = await deps.users.get(username);
    if (!user) throw new NotFoundError(`用户 ${username} 不存在 (no such user)`);
    res.json({ user: toPublicUser(user), permissions: permissionsOf(user.roles) });
  });

  router.post('/users', requirePermission('users.write'), async (req, res) => {
    const { password, ...body } = parseBody(CreateUserSchema, req.body);
    assertWithinTokenGrant(req, body.roles, '授予');
    const user = { ...body, passwordHash: await hashPassword(password) };
    await deps.users.create(user);
    await afterAccountChange([() => deps.sessions.accountsChanged()], () =>
      deps.audit.record({ actor: actorOf(req), entity: { type: 'user', id: user.username }, action: 'user.create', after: toPublicUser(user), requestId: req.requestId }),
    );
    res.status(201).json({ user: toPublicUser(user) });
  });

  router.patch('/users/:username', requirePermission('users.write'), async (req, res) => {
    const { username } = parseBody(UsernameParamsSchema, req.params);
    const change = parseBody(UpdateUserSchema, req.body);
    if (username === req.user!.username && (change.disabled === true || (change.roles && !change.roles.includes('admin')))) {
      throw new ConflictError('不能停用自己或移除自己的管理员角色 (you cannot disable yourself or drop your own admin role)', 'self_lockout');
    }
    if (change.roles) assertWithinTokenGrant(req, change.roles, '授予');
    const { before, after } = await deps.users.update(username, (u) => {
      assertWithinTokenGrant(req, u.roles, '管理');
      const next = { ...u };
      for (const [key, value] of Object.entries(change)) {
        if (value === null) delete (next as Record<string, unknown>)[key];
        else (next as Record<string, unknown>)[key] = value;
      }
      if (next.disabled === false) delete next.disabled;
      return next;
    });
    const action = change.disabled === true ? 'user.disable' : change.disabled === false ? 'user.enable' : change.roles ? 'user.change_roles' : 'user.update';
    await afterAccountChange([() => deps.sessions.accountsChanged(), async () => after.disabled && !before.disabled && (await deps.sessions.destroyAll(username))], () =>
      deps.audit.record({ actor: actorOf(req), entity: { type: 'user', id: username }, action, before: toPublicUser(before), after: toPublicUser(after), requestId: req.requestId }),
    );
    res.json({ user: toPublicUser(after) });
  });

  router.post('/users/:username/password', requirePermission('users.write'), async (req, res) => {
    const { username } = parseBody(UsernameParamsSchema, req.params);
    const { password } = parseBody(ResetPasswordSchema, req.body);
    const passwordHash = await hashPassword(password);
    await deps.users.update(username, (u) => {
      assertWithinTokenGrant(req, u.roles, '管理');
      return { ...u, passwordHash };
    });
    let ended = 0;
    await afterAccountChange([() => deps.sessions.accountsChanged(), async () => (ended = await deps.sessions.destroyAll(username)), () => deps.attempts.clear(username)], () =>
      deps.audit.record({ actor: actorOf(req), entity: { type: 'user', id: username }, action: 'user.reset_password', after: { sessionsEnded: ended }, requestId: req.requestId }),
    );
    res.status(204).end();
  });

  router.post('/users/:username/unlock', requirePermission('users.write'), async (req, res) => {
    const { username } = parseBody(UsernameParamsSchema, req.params);
    const target = await deps.users.get(username);
    if (!target) throw new NotFoundError(`用户 ${username} 不存在 (no such user)`);
    assertWithinTokenGrant(req, target.roles, '管理');
    const until = await deps.attempts.lockedUntil(username);
    await deps.attempts.clear(username);
    await deps.audit.record({ actor: actorOf(req), entity: { type: 'user', id: username }, action: 'user.unlock', before: { lockedUntil: until?.toISOString() ?? null }, requestId: req.requestId });
    res.status(204).end();
  });
  return router;
}

export const userRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/users', tag: 'users', summary: '人员列表' },
  { method: 'get', path: '/users/:username', tag: 'users', summary: '人员详情及权限', params: UsernameParamsSchema },
  { method: 'post', path: '/users', tag: 'users', summary: '新建账号', body: CreateUserSchema, responses: { '201': '已创建', '409': '用户名已存在' } },
  { method: 'patch', path: '/users/:username', tag: 'users', summary: '修改账号（角色、科室、联系方式、停用）', params: UsernameParamsSchema, body: UpdateUserSchema, responses: { '200': '已修改', '409': '不能停用自己或移除自己的管理员角色' } },
  { method: 'post', path: '/users/:username/password', tag: 'users', summary: '重置密码（该用户所有会话失效）', params: UsernameParamsSchema, body: ResetPasswordSchema, responses: { '204': '已重置' } },
  { method: 'post', path: '/users/:username/unlock', tag: 'users', summary: '解除登录锁定', params: UsernameParamsSchema, responses: { '204': '已解锁' } },
];
