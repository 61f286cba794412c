import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCKOUT, decideAfterFailure, lockedMessage } from '../../../core/auth/lockout.js';
import { checkToken, generateToken, parseToken, tokenPermissions, ungrantable, type ApiToken } from '../../../core/auth/api-token.js';

const now = new Date('2026-03-01T02:00:00Z');

describe('lock-out after failed log-ins', () => {
  it.each<[number, string]>([
    [1, 'counted'], // first failure: four left
    [4, 'counted'], // one left
    [5, 'lock'], // the fifth within the window locks
    [9, 'lock'], // failures past the limit keep it locked
  ])('%i failures in the window → %s', (failures, kind) => {
    expect(decideAfterFailure(failures, DEFAULT_LOCKOUT, now).kind).toBe(kind);
  });

  it('locks for 15 minutes from the failure that reached the limit', () => {
    expect(decideAfterFailure(5, DEFAULT_LOCKOUT, now)).toEqual({ kind: 'lock', until: new Date('2026-03-01T02:15:00Z') });
    expect(decideAfterFailure(2, DEFAULT_LOCKOUT, now)).toEqual({ kind: 'counted', remaining: 3 });
  });

  it('says until when, in the unit time zone', () => {
    expect(lockedMessage(new Date('2026-03-01T02:15:00Z'), 'Asia/Shanghai')).toContain('锁定至 2026/03/01 10:15:00');
  });
});

describe('API tokens', () => {
  const { id, secret, token, secretHash } = generateToken();
  const stored: ApiToken = { id, name: 't', roles: [], permissions: ['alert.read'], secretHash, createdBy: 'admin', createdAt: now.toISOString() };

  it('parses its own format and nothing else', () => {
    expect(parseToken(token)).toEqual({ id, secret });
    expect(parseToken(`${token}x`)).toBeUndefined();
    expect(parseToken('qst_zz')).toBeUndefined();
  });

  it.each<[string, Partial<ApiToken>, string, string]>([
    ['the right secret', {}, secret, 'valid'],
    ['a wrong secret', {}, secret.replace(/.$/, secret.endsWith('A') ? 'B' : 'A'), 'wrong_secret'],
    ['a revoked token', { revokedAt: now.toISOString() }, secret, 'revoked'],
    ['an expired token', { expiresAt: '2026-03-01T01:59:59Z' }, secret, 'expired'],
    ['a token expiring later', { expiresAt: '2026-03-02T00:00:00Z' }, secret, 'valid'],
  ])('%s → %s', (_what, change, given, expected) => {
    expect(checkToken({ ...stored, ...change }, given, now)).toBe(expected);
  });

  it('acts with its explicit permissions plus those of its roles', () => {
    expect(tokenPermissions({ roles: [], permissions: ['ingest.push'] })).toEqual(['ingest.push']);
    expect(tokenPermissions({ roles: ['viewer'], permissions: ['audit.read'] })).toContain('audit.read');
    expect(tokenPermissions({ roles: ['viewer'], permissions: [] })).not.toContain('alert.acknowledge');
  });

  it('a creator cannot grant what they do not hold, except ingest.push', () => {
    expect(ungrantable(['section_chief'], { roles: [], permissions: ['users.write', 'alert.read'] })).toEqual(['users.write']);
    expect(ungrantable(['admin'], { roles: [], permissions: ['ingest.push'] })).toEqual([]);
    expect(ungrantable(['duty'], { roles: ['leader'], permissions: [] })).toContain('alert.change_level');
  });
});
