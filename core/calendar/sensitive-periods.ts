import { z } from 'zod';
import { localDate } from '../time/zoned-time.js';

const MonthDay = z.string().regex(/^(\d{4}-)?\d{2}-\d{2}$/, 'a date: MM-DD (every year) or YYYY-MM-DD');

/**
 * 重要时间节点、敏感时期: calendar windows that raise alert levels (and may count as holidays for the
 * duty roster). `MM-DD` dates repeat every year (元旦 01-01, 国庆 10-01…10-07); `YYYY-MM-DD` dates
 * are for moving holidays (春节) and the unit's own meetings and anniversaries.
 */
export const SensitivePeriodSchema = z
  .object({
    name: z.string().min(1),
    from: MonthDay,
    to: MonthDay,
    /** Levels raised by this many steps (1 = blue → yellow); 0 only marks a holiday. */
    raiseLevels: z.number().int().min(0).max(3).default(1),
    /** A public holiday: holiday shifts of the roster apply. */
    holiday: z.boolean().default(false),
    /** Only alerts of these rule categories are raised; empty = all. */
    categories: z.array(z.string()).default([]),
  })
  .refine((p) => p.from.length === p.to.length, { message: 'from and to must both be MM-DD or both YYYY-MM-DD', path: ['to'] });
export type SensitivePeriod = z.infer<typeof SensitivePeriodSchema>;

export const CalendarSchema = z.object({ periods: z.array(SensitivePeriodSchema).default([]) });
export type Calendar = z.infer<typeof CalendarSchema>;

function covers(period: SensitivePeriod, ymd: string): boolean {
  if (period.from.length === 10) return period.from <= ymd && ymd <= period.to;
  const md = ymd.slice(5);
  // An annual window may wrap the year end (12-31 … 01-02).
  return period.from <= period.to ? period.from <= md && md <= period.to : md >= period.from || md <= period.to;
}

/** The periods in force on the local date of `at`. */
export function periodsAt(calendar: Calendar, at: Date, timeZone: string): SensitivePeriod[] {
  const ymd = localDate(at, timeZone);
  return calendar.periods.filter((p) => covers(p, ymd));
}

export function isHoliday(calendar: Calendar, at: Date, timeZone: string): boolean {
  return periodsAt(calendar, at, timeZone).some((p) => p.holiday);
}
