import { createHmac } from 'node:crypto';
import { loadYamlFile } from '../config/load-yaml.js';
import { z } from 'zod';

/**
 * 值班员 duty officer, 科室负责人 section chief, 分管领导 leader in charge, 第一责任人 first responsible
 * person, 审计员 auditor (read-only, audit included), 只读 viewer, 管理员 admin.
 */
export const RoleSchema = z.enum(['admin', 'duty', 'section_chief', 'leader', 'first_responsible', 'auditor', 'viewer']);
export type Role = z.infer<typeof RoleSchema>;

export const UsernameSchema = z.string().regex(/^[a-zA-Z0-9._-]{2,40}$/, 'username: 2–40 letters, digits, dot, underscore or dash');

export const UserSchema = z.object({
  username: UsernameSchema,
  displayName: z.string().min(1).max(80),
  /** 科室: the section a person belongs to; its section chief is their chief. */
  section: z.string().min(1).max(80).optional(),
  roles: z.array(RoleSchema).min(1),
  passwordHash: z.string().startsWith('scrypt$'),
  email: z.string().email().optional(),
  mobile: z.string().regex(/^\+?[0-9-]{5,20}$/).optional(),
  /** A disabled account cannot sign in and its sessions end. */
  disabled: z.boolean().optional(),
});
export type User = z.infer<typeof UserSchema>;
/** What the API returns and keeps in a session: never the hash. */
export type PublicUser = Omit<User, 'passwordHash'>;

export function loadUsers(file: string): User[] {
  return loadYamlFile(z.object({ users: z.array(UserSchema) }), file, 'users_invalid').users;
}

/**
 * How an audit record names a username nobody has: a keyed hash (HMAC-SHA-256 under a server key),
 * not the text typed, which may be a password typed into the wrong box and would otherwise stay in
 * the append-only audit trail for good; keyed, so it cannot be checked against guesses without the key.
 */
/** The key of {@link unknownUsernameId}, derived from the server's audit checkpoint key (so it lives outside Elasticsearch too). */
export function unknownUsernameKey(serverKey: Buffer): Buffer {
  return createHmac('sha256', serverKey).update('qianshao: unknown usernames in the audit trail').digest();
}

export function unknownUsernameId(typed: string, key: Buffer): string {
  return `unknown:${createHmac('sha256', key).update(typed).digest('hex').slice(0, 24)}`;
}

export function toPublicUser({ passwordHash: _hash, ...user }: User): PublicUser {
  return user;
}
