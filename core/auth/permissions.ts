import type { Role } from './user.js';

/**
 * What each role may do. One table, read by the API (`requirePermission`) and by the dashboard
 * (which hides what a role cannot do). The responsibility chain (值班员 → 科室负责人 → 分管领导 →
 * 第一责任人) acts on alerts; the auditor reads everything and changes nothing.
 */
export const PERMISSIONS = [
  'alert.read',
  'alert.acknowledge',
  'alert.assign',
  'alert.escalate',
  'alert.change_level',
  'alert.respond',
  'alert.close',
  'alert.false_positive',
  'alert.reopen',
  'plan.trigger',
  'plan.complete_step',
  'ledger.read',
  'ledger.write',
  'ledger.verify',
  'audit.read',
  'search.read',
  'rules.read',
  'rules.write',
  'sources.read',
  'sources.write',
  'crawl.run',
  'reports.read',
  'reports.write',
  'meetings.write',
  'roster.read',
  'roster.write',
  'policies.write',
  'channels.write',
  'users.write',
  'tokens.write',
  'pipeline.admin',
  'ingest.push',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ: Permission[] = ['alert.read', 'ledger.read', 'search.read', 'rules.read', 'sources.read', 'reports.read', 'roster.read'];
const HANDLE: Permission[] = [
  'alert.acknowledge',
  'alert.assign',
  'alert.escalate',
  'alert.respond',
  'alert.close',
  'alert.false_positive',
  'alert.reopen',
  'plan.trigger',
  'plan.complete_step',
  'ledger.write',
];
const LEAD: Permission[] = [...HANDLE, 'alert.change_level', 'ledger.verify', 'reports.write', 'meetings.write', 'audit.read', 'crawl.run'];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  // 值班员: watches the wall, signs for alerts, starts plans, records what was done.
  duty: [...READ, ...HANDLE, 'crawl.run'],
  // 科室负责人: everything the duty officer does, plus levels, verification, rules, sources, roster.
  section_chief: [...READ, ...LEAD, 'rules.write', 'sources.write', 'roster.write'],
  // 分管领导 (直接责任人) and 第一责任人: act on alerts and the ledger, read the audit.
  leader: [...READ, ...LEAD],
  first_responsible: [...READ, ...LEAD],
  // 审计员: reads everything, changes nothing.
  auditor: [...READ, 'audit.read'],
  // 只读: the wall and reports.
  viewer: [...READ],
  admin: [...PERMISSIONS].filter((p) => p !== 'ingest.push'),
};

/** Whether any of `roles` grants `permission`. */
export function can(roles: readonly Role[], permission: Permission): boolean {
  return roles.some((role) => ROLE_PERMISSIONS[role].includes(permission));
}

/** Every permission `roles` grant, for the dashboard's role-aware layout. */
export function permissionsOf(roles: readonly Role[]): Permission[] {
  return PERMISSIONS.filter((p) => can(roles, p));
}
