import { z } from 'zod';
import { isHoliday, type Calendar } from '../calendar/sensitive-periods.js';
import { ChainRoleSchema, type ChainRole } from '../escalation/policy.js';
import type { Recipient } from '../notify/notification.js';
import { localParts, parseClockTime, zonedInstant } from '../time/zoned-time.js';

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM');
const Instant = z.string().datetime({ offset: true });
const DaySchema = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'workday', 'weekend', 'holiday']);

export const PersonSchema = z.object({
  username: z.string().regex(/^[a-zA-Z0-9._-]{2,40}$/),
  displayName: z.string().min(1),
  section: z.string().optional(),
  /** Place in the responsibility chain; people without one only take shifts. */
  chainRole: ChainRoleSchema.optional(),
  mobile: z.string().regex(/^\+?\d{6,15}$/, 'digits only, e.g. 13800000000').optional(),
  email: z.string().email().optional(),
  /** Notification channel ids (see the notify configuration); in-app is always on. */
  channels: z.array(z.string().min(1)).default([]),
});
export type Person = z.infer<typeof PersonSchema>;

export const ShiftSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** Local times; a shift whose end is not after its start runs past midnight (20:00 → 08:00). */
  from: ClockTime,
  to: ClockTime,
  /** Days the shift starts on; empty = every day. `holiday` shifts replace the others on holidays. */
  days: z.array(DaySchema).default([]),
  people: z.array(z.string()).min(1),
});
export type Shift = z.infer<typeof ShiftSchema>;

export const DelegationSchema = z.object({
  from: z.string(),
  to: z.string(),
  start: Instant,
  end: Instant,
  reason: z.string().default(''),
});
export const LeaveSchema = z.object({ username: z.string(), start: Instant, end: Instant, reason: z.string().default('') });
export const HandoverSchema = z.object({ at: Instant, from: z.string(), to: z.string(), note: z.string(), openAlerts: z.number().int().nonnegative() });

export const RosterSchema = z
  .object({
    people: z.array(PersonSchema).min(1),
    shifts: z.array(ShiftSchema).default([]),
    delegations: z.array(DelegationSchema).default([]),
    leave: z.array(LeaveSchema).default([]),
    handovers: z.array(HandoverSchema).default([]),
  })
  .superRefine((roster, ctx) => {
    const names = new Set(roster.people.map((p) => p.username));
    roster.shifts.forEach((s, i) =>
      s.people.forEach((u, j) => {
        if (!names.has(u)) ctx.addIssue({ code: 'custom', path: ['shifts', i, 'people', j], message: `unknown person "${u}"` });
      }),
    );
    roster.delegations.forEach((d, i) => {
      for (const key of ['from', 'to'] as const) if (!names.has(d[key])) ctx.addIssue({ code: 'custom', path: ['delegations', i, key], message: `unknown person "${d[key]}"` });
      if (d.start >= d.end) ctx.addIssue({ code: 'custom', path: ['delegations', i, 'end'], message: 'end must be after start' });
    });
    roster.leave.forEach((l, i) => {
      if (!names.has(l.username)) ctx.addIssue({ code: 'custom', path: ['leave', i, 'username'], message: `unknown person "${l.username}"` });
      if (l.start >= l.end) ctx.addIssue({ code: 'custom', path: ['leave', i, 'end'], message: 'end must be after start' });
    });
  });
export type Roster = z.infer<typeof RosterSchema>;

/** A person picked for a notification, and why it is them. */
export interface DutyPick {
  person: Person;
  /** e.g. `shift:night`, `role:leader`, `delegate-of:leader`, `fallback:no-shift` */
  via: string;
}

const DAY_KEYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function within(at: Date, start: string, end: string): boolean {
  const t = at.getTime();
  return Date.parse(start) <= t && t < Date.parse(end);
}

function onLeave(roster: Roster, username: string, at: Date): boolean {
  return roster.leave.some((l) => l.username === username && within(at, l.start, l.end));
}

/**
 * Who acts for `username` at `at`: the person, or while on leave (or delegated away) the delegate;
 * followed transitively, so a delegate on leave hands on to theirs. Empty when nobody can act.
 */
export function actingFor(roster: Roster, username: string, at: Date, seen = new Set<string>()): DutyPick[] {
  if (seen.has(username)) return [];
  seen.add(username);
  const person = roster.people.find((p) => p.username === username);
  if (!person) return [];
  const delegation = roster.delegations.find((d) => d.from === username && within(at, d.start, d.end));
  if (delegation) return actingFor(roster, delegation.to, at, seen).map((p) => ({ ...p, via: `delegate-of:${username}` }));
  if (onLeave(roster, username, at)) return [];
  return [{ person, via: '' }];
}

function shiftApplies(shift: Shift, day: Date, timeZone: string, holiday: boolean, holidayShiftsExist: boolean): boolean {
  if (holiday && holidayShiftsExist) return shift.days.includes('holiday');
  if (shift.days.length === 0) return true;
  const wd = localParts(day, timeZone).weekday;
  const key = DAY_KEYS[wd]!;
  const weekend = wd === 0 || wd === 6;
  return shift.days.includes(key) || (shift.days.includes('weekend') && weekend) || (shift.days.includes('workday') && !weekend && !holiday);
}

/** The shifts running at `at` (a night shift that started yesterday counts). */
export function shiftsAt(roster: Roster, at: Date, timeZone: string, calendar: Calendar): Shift[] {
  const holidayShiftsExist = roster.shifts.some((s) => s.days.includes('holiday'));
  const p = localParts(at, timeZone);
  const minute = p.hour * 60 + p.minute;
  const yesterday = new Date(zonedInstant(p.year, p.month, p.day, 12, 0, timeZone).getTime() - 24 * 3600_000);
  return roster.shifts.filter((shift) => {
    const from = parseClockTime(shift.from);
    const to = parseClockTime(shift.to);
    const today = shiftApplies(shift, at, timeZone, isHoliday(calendar, at, timeZone), holidayShiftsExist);
    if (from < to) return today && from <= minute && minute < to;
    // Past midnight: the evening part belongs to today's shift, the early part to yesterday's.
    if (minute >= from) return today;
    return minute < to && shiftApplies(shift, yesterday, timeZone, isHoliday(calendar, yesterday, timeZone), holidayShiftsExist);
  });
}

/** Who receives new alerts now (24小时值班); falls back to the duty officers of the chain when no shift covers `at`. */
export function onDutyAt(roster: Roster, at: Date, timeZone: string, calendar: Calendar): DutyPick[] {
  const picks: DutyPick[] = [];
  for (const shift of shiftsAt(roster, at, timeZone, calendar)) {
    for (const username of shift.people) {
      for (const pick of actingFor(roster, username, at)) picks.push({ person: pick.person, via: pick.via ? `shift:${shift.id},${pick.via}` : `shift:${shift.id}` });
    }
  }
  if (picks.length === 0) {
    for (const person of roster.people.filter((p) => p.chainRole === 'duty')) {
      for (const pick of actingFor(roster, person.username, at)) picks.push({ person: pick.person, via: 'fallback:no-shift' });
    }
  }
  return dedupe(picks);
}

/** The people holding `role` at `at` (the duty officer role means whoever is on duty now). */
export function peopleForRole(roster: Roster, role: ChainRole, at: Date, timeZone: string, calendar: Calendar): DutyPick[] {
  if (role === 'duty') return onDutyAt(roster, at, timeZone, calendar);
  const picks = roster.people
    .filter((p) => p.chainRole === role)
    .flatMap((p) => actingFor(roster, p.username, at).map((pick) => ({ person: pick.person, via: pick.via ? `role:${role},${pick.via}` : `role:${role}` })));
  return dedupe(picks);
}

function dedupe(picks: DutyPick[]): DutyPick[] {
  const seen = new Set<string>();
  return picks.filter((p) => (seen.has(p.person.username) ? false : (seen.add(p.person.username), true)));
}

export function recipientOf(person: Person): Recipient {
  return { username: person.username, displayName: person.displayName, ...(person.email ? { email: person.email } : {}), ...(person.mobile ? { mobile: person.mobile } : {}) };
}

/** Channel ids a person is reached through; in-app always. */
export function channelsOf(person: Person): string[] {
  return ['inapp', ...person.channels.filter((c) => c !== 'inapp')];
}
