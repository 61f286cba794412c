import type { Alert } from '../alerts/alert.js';
import type { Calendar } from '../calendar/sensitive-periods.js';
import { actingFor, onDutyAt, peopleForRole, type DutyPick, type Roster } from '../duty/roster.js';
import { ChainRoleSchema, type ChainRole } from './policy.js';

/**
 * The people a notification goes to: the holders of `roles` now (with leave and delegation
 * applied), plus the alert's assignee (a person, or everyone of a section) when `toAssignee`.
 */
export function resolveRecipients(
  alert: Pick<Alert, 'assignee'>,
  roles: readonly ChainRole[],
  toAssignee: boolean,
  roster: Roster,
  at: Date,
  timeZone: string,
  calendar: Calendar,
): DutyPick[] {
  const picks: DutyPick[] = [];
  if (toAssignee && alert.assignee) {
    if (alert.assignee.kind === 'person') picks.push(...actingFor(roster, alert.assignee.id, at).map((p) => ({ ...p, via: p.via || 'assignee' })));
    else
      for (const person of roster.people.filter((p) => p.section === alert.assignee!.id))
        picks.push(...actingFor(roster, person.username, at).map((p) => ({ ...p, via: p.via || `section:${alert.assignee!.id}` })));
  }
  for (const role of roles) picks.push(...peopleForRole(roster, role, at, timeZone, calendar));
  if (picks.length === 0 && (toAssignee || roles.length > 0)) picks.push(...onDutyAt(roster, at, timeZone, calendar));
  const seen = new Set<string>();
  return picks.filter((p) => (seen.has(p.person.username) ? false : (seen.add(p.person.username), true)));
}

/** Roles told the moment an alert of this level arises: the duty officer, or the whole chain for the levels the policy names. */
export function rolesAtOnce(level: number, topOfChainAtOnce: readonly number[]): ChainRole[] {
  return topOfChainAtOnce.includes(level) ? [...ChainRoleSchema.options] : ['duty'];
}
