import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { PERMISSIONS, can, type Permission } from './permissions.js';
import { RoleSchema, type Role } from './user.js';

/**
 * API tokens for integrations (a CMS pushing items, a reporting system reading alerts). The secret
 * is shown once at creation (`qst_<id>_<secret>`); only its SHA-256 is stored — the secret is 32
 * random bytes, so a slow hash adds nothing. A token acts with exactly the permissions it was given
 * (explicitly or through roles), never more than its creator holds; `ingest.push` is for tokens only.
 */
export const ApiTokenSchema = z.object({
  id: z.string().regex(/^[a-f0-9]{16}$/),
  name: z.string().min(1).max(80),
  roles: z.array(RoleSchema),
  permissions: z.array(z.enum(PERMISSIONS)),
  secretHash: z.string().regex(/^[a-f0-9]{64}$/),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
});
export type ApiToken = z.infer<typeof ApiTokenSchema>;
export type PublicApiToken = Omit<ApiToken, 'secretHash'>;

export const TOKEN_PREFIX = 'qst_';
const TOKEN_PATTERN = /^qst_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;

export function generateToken(): { id: string; secret: string; token: string; secretHash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${TOKEN_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export type TokenCheck = 'valid' | 'wrong_secret' | 'revoked' | 'expired';

export function checkToken(stored: ApiToken, secret: string, now: Date): TokenCheck {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(stored.secretHash, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'wrong_secret';
  if (stored.revokedAt) return 'revoked';
  if (stored.expiresAt && new Date(stored.expiresAt).getTime() <= now.getTime()) return 'expired';
  return 'valid';
}

/** Everything a token may do: its explicit permissions plus those its roles grant. */
export function tokenPermissions(token: Pick<ApiToken, 'roles' | 'permissions'>): Permission[] {
  return PERMISSIONS.filter((p) => token.permissions.includes(p) || can(token.roles, p));
}

/** The permissions a creator asks for but may not grant (they do not hold them), `ingest.push` excepted. */
export function ungrantable(creatorRoles: readonly Role[], wanted: { roles: readonly Role[]; permissions: readonly Permission[] }): Permission[] {
  return tokenPermissions({ roles: [...wanted.roles], permissions: [...wanted.permissions] }).filter((p) => p !== 'ingest.push' && !can(creatorRoles, p));
}
