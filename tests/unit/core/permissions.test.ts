import { describe, expect, it } from 'vitest';
import { PERMISSIONS, can, permissionsOf, type Permission } from '../../../core/auth/permissions.js';
import type { Role } from '../../../core/auth/user.js';

describe('the permission matrix', () => {
  it.each<[Role, Permission, boolean]>([
    ['duty', 'alert.acknowledge', true], // the duty officer signs for alerts
    ['duty', 'plan.trigger', true], // and starts response plans
    ['duty', 'alert.change_level', false], // but a level change needs a section chief or above
    ['duty', 'users.write', false], // and never administers accounts
    ['duty', 'audit.read', false],
    ['section_chief', 'alert.change_level', true],
    ['section_chief', 'ledger.verify', true],
    ['section_chief', 'rules.write', true],
    ['leader', 'alert.change_level', true],
    ['leader', 'rules.write', false],
    ['first_responsible', 'alert.close', true],
    ['auditor', 'audit.read', true], // the auditor reads the audit trail
    ['auditor', 'alert.acknowledge', false], // and changes nothing
    ['auditor', 'ledger.write', false],
    ['viewer', 'alert.read', true],
    ['viewer', 'alert.acknowledge', false],
    ['admin', 'users.write', true],
    ['admin', 'pipeline.admin', true],
    ['admin', 'ingest.push', false], // pushing items is for integration tokens, not people
  ])('%s → %s: %s', (role, permission, expected) => {
    expect(can([role], permission)).toBe(expected);
  });

  it('grants the union of several roles', () => {
    expect(can(['auditor', 'duty'], 'alert.acknowledge')).toBe(true);
    expect(can(['auditor', 'duty'], 'audit.read')).toBe(true);
  });

  it('lists permissions in the matrix order, with nothing an auditor could change', () => {
    const auditor = permissionsOf(['auditor']);
    expect(auditor.every((p) => p.endsWith('.read'))).toBe(true);
    expect(permissionsOf(['admin']).length).toBe(PERMISSIONS.length - 1);
  });
});
