import { Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../core/audit/audit-log.js';
import { generateToken, tokenPermissions, ungrantable, type ApiToken, type PublicApiToken } from '../../core/auth/api-token.js';
import { PERMISSIONS } from '../../core/auth/permissions.js';
import { RoleSchema } from '../../core/auth/user.js';
import type { TokenStore } from '../../core/auth/user-store.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../../core/errors.js';
import { actorOf, requirePermission } from '../authorize.js';
import { parseBody } from '../parse-body.js';
import type { RouteDoc } from '../openapi/openapi.js';

export const CreateTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(80),
    roles: z.array(RoleSchema).default([]),
    permissions: z.array(z.enum(PERMISSIONS)).default([]),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export const TokenParamsSchema = z.object({ id: z.string().regex(/^[a-f0-9]{16}$/, 'id: 16 hex digits') });

const publicToken = ({ secretHash: _hash, ...token }: ApiToken): PublicApiToken & { effectivePermissions: string[] } => ({
  ...token,
  effectivePermissions: tokenPermissions(token),
});

/** API tokens for integrations (`tokens.write`): the secret is shown once, only its hash is kept. */
export function tokenRoutes(deps: { tokens: TokenStore; audit: AuditLog; now?: () => Date }): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());

  router.get('/tokens', requirePermission('tokens.write'), async (_req, res) => {
    res.json({ tokens: (await deps.tokens.list()).map(publicToken) });
  });

  router.post('/tokens', requirePermission('tokens.write'), async (req, res) => {
    const body = parseBody(CreateTokenSchema, req.body);
    if (body.roles.length === 0 && body.permissions.length === 0) throw new InvalidInputError('permissions: a token needs at least one role or permission', 'invalid_body');
    if (body.expiresAt && new Date(body.expiresAt).getTime() <= now().getTime()) throw new InvalidInputError('expiresAt: must be in the future', 'invalid_body');
    const denied = req.apiToken ? tokenPermissions(body).filter((p) => !req.apiToken!.permissions.includes(p)) : ungrantable(req.user!.roles, body);
    if (denied.length > 0) throw new ForbiddenError(`不能授予自己没有的权限：${denied.join(', ')} (you cannot grant what you do not hold)`);
    const { id, token, secretHash } = generateToken();
    const stored: ApiToken = {
      id,
      name: body.name,
      roles: body.roles,
      permissions: body.permissions,
      secretHash,
      createdBy: actorOf(req).id,
      createdAt: now().toISOString(),
      ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt).toISOString() } : {}),
    };
    await deps.tokens.create(stored);
    await deps.audit.record({ actor: actorOf(req), entity: { type: 'token', id }, action: 'token.create', after: publicToken(stored), requestId: req.requestId });
    // The only time the secret leaves the server.
    res.status(201).json({ token: publicToken(stored), secret: token });
  });

  router.delete('/tokens/:id', requirePermission('tokens.write'), async (req, res) => {
    const { id } = parseBody(TokenParamsSchema, req.params);
    const existing = await deps.tokens.get(id);
    if (!existing) throw new NotFoundError(`令牌 ${id} 不存在 (no such token)`);
    if (existing.revokedAt) throw new ConflictError(`令牌 ${id} 已撤销 (already revoked)`, 'already_revoked');
    const by = actorOf(req).id;
    const { before, after } = await deps.tokens.update(id, (t) => ({ ...t, revokedAt: now().toISOString(), revokedBy: by }));
    await deps.audit.record({ actor: actorOf(req), entity: { type: 'token', id }, action: 'token.revoke', before: publicToken(before), after: publicToken(after), requestId: req.requestId });
    res.json({ token: publicToken(after) });
  });
  return router;
}

export const tokenRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/tokens', tag: 'tokens', summary: 'API 令牌列表（不含密钥）' },
  { method: 'post', path: '/tokens', tag: 'tokens', summary: '创建 API 令牌（密钥仅此一次返回）', body: CreateTokenSchema, responses: { '201': '已创建，返回 secret' } },
  { method: 'delete', path: '/tokens/:id', tag: 'tokens', summary: '撤销 API 令牌', params: TokenParamsSchema, responses: { '200': '已撤销', '409': '已撤销过' } },
];
