import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolation } from '../support/isolation.js';
import { DEMO_AUDIT_KEY, startDemoApi, type AppProcess } from '../support/app-process.js';
import { ApiClient, anonymous } from '../support/api-client.js';
import type { AuditRecord } from '../../core/audit/audit-log.js';
import { unknownUsernameId, unknownUsernameKey } from '../../core/auth/user.js';
import { permissionsOf } from '../../core/auth/permissions.js';

/** The api role alone, with the demo accounts, against real Redis and Elasticsearch. */
describe('people and roles over the real HTTP API', () => {
  const iso = isolation();
  let app: AppProcess;
  let base: string;
  let admin: ApiClient;
  let auditor: ApiClient;

  const auditOf = async (query: string) => (await auditor.get<{ records: AuditRecord[] }>(`/api/audit?${query}`)).body.records;
  const createUser = async (username: string, roles: string[], password = 'initial-pass-1') => {
    const res = await admin.post('/api/users', { username, displayName: `测试${username}`, section: '网信办', roles, password });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };

  beforeAll(async () => {
    ({ app, base } = await startDemoApi(iso));
    admin = await ApiClient.login(base, 'admin');
    auditor = await ApiClient.login(base, 'auditor');
  });
  afterAll(async () => {
    await app?.stop();
    await iso.cleanup();
  });

  it('seeds the YAML accounts into Elasticsearch and audits their creation', async () => {
    const { body } = await admin.get<{ users: { username: string; passwordHash?: string }[] }>('/api/users');
    expect(body.users.map((u) => u.username)).toEqual(expect.arrayContaining(['admin', 'duty', 'chief', 'leader', 'secretary', 'auditor']));
    expect(body.users.every((u) => u.passwordHash === undefined)).toBe(true);
    const seeded = await auditOf('entityType=user&entityId=duty');
    expect(seeded.some((r) => r.action === 'user.create' && r.actor.kind === 'system')).toBe(true);
  });

  it('audits log-in and log-out, and a logged-out session no longer works', async () => {
    const duty = await ApiClient.login(base, 'duty');
    expect((await duty.get('/api/auth/me')).status).toBe(200);
    expect((await duty.post('/api/auth/logout')).status).toBe(204);
    expect((await duty.get('/api/auth/me')).status).toBe(401);
    const actions = (await auditOf('entityType=session&entityId=duty')).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['session.login', 'session.logout']));
    const login = (await auditOf('entityType=session&entityId=duty')).find((r) => r.action === 'session.login')!;
    expect(login.actor).toMatchObject({ kind: 'user', id: 'duty', roles: ['duty'] });
    expect(login.requestId).toMatch(/.{8,}/);
  });

  it('locks an account after 5 failed log-ins within 15 minutes, says until when, and audits it', async () => {
    await createUser('lockme', ['duty'], 'right-password-1');
    for (let i = 1; i <= 4; i++) {
      const res = await anonymous(base).post('/api/auth/login', { username: 'lockme', password: `wrong-${i}` });
      expect(res.status).toBe(401);
    }
    const fifth = await anonymous(base).post<{ error: { code: string; message: string } }>('/api/auth/login', { username: 'lockme', password: 'wrong-5' });
    expect(fifth.status).toBe(423);
    expect(fifth.body.error.code).toBe('account_locked');
    expect(fifth.body.error.message).toMatch(/锁定至 \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}/);
    // Even the right password is refused while locked.
    expect((await anonymous(base).post('/api/auth/login', { username: 'lockme', password: 'right-password-1' })).status).toBe(423);
    const failed = await auditOf('entityType=session&entityId=lockme');
    expect(failed.filter((r) => r.action === 'session.login_failed')).toHaveLength(5);
    const locked = await auditOf('entityType=user&entityId=lockme');
    expect(locked.some((r) => r.action === 'user.locked')).toBe(true);
    // An admin unlocks it; the right password works again.
    expect((await admin.post('/api/users/lockme/unlock')).status).toBe(204);
    await ApiClient.login(base, 'lockme', 'right-password-1');
  });

  it('counts failures for unknown usernames too, without saying the account does not exist', async () => {
    const res = await anonymous(base).post<{ error: { message: string } }>('/api/auth/login', { username: 'nobody-here', password: 'x' });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('用户名或密码错误');
    // Named by a hash: what was typed may be a password typed into the wrong box.
    const [rec] = await auditOf(`entityType=session&entityId=${unknownUsernameId('nobody-here', unknownUsernameKey(Buffer.from(DEMO_AUDIT_KEY)))}`);
    expect(rec).toMatchObject({ action: 'session.login_failed', actor: { id: 'anonymous' } });
  });

  it('administers accounts: create, change roles (applies to open sessions), reset password, disable', async () => {
    await createUser('staff1', ['viewer'], 'staff-pass-1');
    expect((await admin.post('/api/users', { username: 'staff1', displayName: 'x', roles: ['viewer'], password: 'another-pass' })).status).toBe(409);
    const staff = await ApiClient.login(base, 'staff1', 'staff-pass-1');
    expect((await staff.get('/api/audit')).status).toBe(403);

    const changed = await admin.patch<{ user: { roles: string[] } }>('/api/users/staff1', { roles: ['auditor'] });
    expect(changed.status).toBe(200);
    expect(changed.body.user.roles).toEqual(['auditor']);
    expect((await staff.get('/api/audit')).status).toBe(200);
    const roleChange = (await auditOf('entityType=user&entityId=staff1')).find((r) => r.action === 'user.change_roles')!;
    expect(roleChange).toMatchObject({ actor: { id: 'admin' }, before: { roles: ['viewer'] }, after: { roles: ['auditor'] } });
    expect(JSON.stringify(roleChange)).not.toContain('scrypt$');

    expect((await admin.post('/api/users/staff1/password', { password: 'new-staff-pass' })).status).toBe(204);
    expect((await staff.get('/api/auth/me')).status).toBe(401);
    const again = await ApiClient.login(base, 'staff1', 'new-staff-pass');

    expect((await admin.patch('/api/users/staff1', { disabled: true })).status).toBe(200);
    expect((await again.get('/api/auth/me')).status).toBe(401);
    const refused = await anonymous(base).post('/api/auth/login', { username: 'staff1', password: 'new-staff-pass' });
    expect(refused.status).toBe(403);
    expect((await auditOf('entityType=user&entityId=staff1')).map((r) => r.action)).toEqual(
      expect.arrayContaining(['user.create', 'user.change_roles', 'user.reset_password', 'user.disable']),
    );
  });

  it('refuses invalid account bodies naming the field, unknown accounts with 404, and an admin disabling themself', async () => {
    const bad = await admin.post<{ error: { code: string; message: string } }>('/api/users', { username: 'a b', displayName: '', roles: ['nope'], password: 'short' });
    expect(bad.status).toBe(400);
    for (const field of ['username', 'displayName', 'roles', 'password']) expect(bad.body.error.message).toContain(field);
    expect((await admin.patch('/api/users/ghost', { displayName: '幽灵' })).status).toBe(404);
    expect((await admin.post('/api/users/ghost/password', { password: 'long-enough-1' })).status).toBe(404);
    expect((await admin.patch('/api/users/admin', { disabled: true })).status).toBe(409);
    expect((await admin.patch('/api/users/admin', {})).status).toBe(400);
  });

  it('API tokens: shown once, stored hashed, act with their permissions only, audited as the token, revocable', async () => {
    const created = await admin.post<{ secret: string; token: { id: string; effectivePermissions: string[] } }>('/api/tokens', {
      name: '12345热线对接',
      permissions: ['alert.read', 'ingest.push', 'audit.read'],
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^qst_[a-f0-9]{16}_/);
    const listed = await admin.get<{ tokens: Record<string, unknown>[] }>('/api/tokens');
    // The secret is all after `qst_<16 hex>_` (it may itself hold underscores).
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret.slice('qst_'.length + 17));
    expect(listed.body.tokens[0]).not.toHaveProperty('secretHash');

    const integration = anonymous(base).withBearer(created.body.secret);
    expect((await integration.get('/api/audit/verify')).status).toBe(200);
    expect((await integration.get('/api/users')).status).toBe(403);
    expect((await integration.post('/api/users', { username: 'x1', displayName: 'x', roles: ['admin'], password: 'whatever-1' })).status).toBe(403);
    const me = await integration.get<{ user: { username: string }; permissions: string[] }>('/api/auth/me');
    expect(me.body.permissions.sort()).toEqual(['alert.read', 'audit.read', 'ingest.push']);

    const forged = anonymous(base).withBearer(created.body.secret.slice(0, -2) + 'xx');
    expect((await forged.get('/api/audit/verify')).status).toBe(401);

    const tokenRecord = (await auditOf(`entityType=token&entityId=${created.body.token.id}`)).find((r) => r.action === 'token.create')!;
    expect(JSON.stringify(tokenRecord)).not.toContain(created.body.secret);

    expect((await admin.delete(`/api/tokens/${created.body.token.id}`)).status).toBe(200);
    expect((await admin.delete(`/api/tokens/${created.body.token.id}`)).status).toBe(409);
    expect((await admin.delete('/api/tokens/0123456789abcdef')).status).toBe(404);
    expect((await integration.get('/api/audit/verify')).status).toBe(401);
  });

  it('a token acting is audited as the token, and cannot grant more than it holds', async () => {
    const maker = await admin.post<{ secret: string; token: { id: string } }>('/api/tokens', { name: '令牌管理', permissions: ['tokens.write', 'alert.read'] });
    const client = anonymous(base).withBearer(maker.body.secret);
    expect((await client.post('/api/tokens', { name: '越权', permissions: ['users.write'] })).status).toBe(403);
    const child = await client.post<{ token: { id: string } }>('/api/tokens', { name: '只读', permissions: ['alert.read'] });
    expect(child.status).toBe(201);
    const [rec] = await auditOf(`entityType=token&entityId=${child.body.token.id}`);
    expect(rec!.actor).toMatchObject({ kind: 'token', id: maker.body.token.id, displayName: '令牌管理' });
  });

  it('a token holding users.write administers and grants no roles beyond its own permissions', async () => {
    const granted = [...permissionsOf(['viewer']), 'users.write'];
    const maker = await admin.post<{ secret: string }>('/api/tokens', { name: '账号同步', permissions: granted });
    expect(maker.status).toBe(201);
    const client = anonymous(base).withBearer(maker.body.secret);
    expect((await client.post('/api/users', { username: 'synced1', displayName: '同步', roles: ['viewer'], password: 'synced-pass-1' })).status).toBe(201);
    expect((await client.post('/api/users', { username: 'rogue1', displayName: '越权', roles: ['admin'], password: 'rogue-pass-1' })).status).toBe(403);
    expect((await client.patch('/api/users/synced1', { roles: ['admin'] })).status).toBe(403);
    // An admin's account is beyond it: no password reset (then a log-in as the admin), no change.
    expect((await client.post('/api/users/admin/password', { password: 'taken-over-1' })).status).toBe(403);
    expect((await client.patch('/api/users/admin', { displayName: 'x' })).status).toBe(403);
    expect((await client.post('/api/users/admin/unlock')).status).toBe(403);
    expect((await anonymous(base).post('/api/auth/login', { username: 'admin', password: 'taken-over-1' })).status).toBe(401);
  });

  it('an expired token is refused', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const created = await admin.post<{ secret: string }>('/api/tokens', { name: '短期', permissions: ['alert.read'], expiresAt: soon });
    expect(created.status).toBe(201);
    const client = anonymous(base).withBearer(created.body.secret);
    expect((await client.get('/api/auth/me')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1800));
    expect((await client.get('/api/auth/me')).status).toBe(401);
    expect((await admin.post('/api/tokens', { name: '过去', permissions: ['alert.read'], expiresAt: '2020-01-01T00:00:00Z' })).status).toBe(400);
  });

  it('GET /api/audit/verify: the chain holding every record of this run verifies', async () => {
    const res = await auditor.get<{ ok: boolean; records: number }>('/api/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.records).toBeGreaterThan(10);
  });
});
