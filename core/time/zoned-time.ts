/**
 * Wall-clock time in the unit's timezone (shifts, quiet hours, holidays are local). Uses Intl only,
 * so any IANA zone works; Asia/Shanghai has no daylight saving, others are handled by re-checking
 * the offset at the computed instant.
 */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localParts(at: Date, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? 'Sun'] ?? 0,
  };
}

function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant when the local wall clock in `timeZone` shows the given date and time. */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - offsetMs(new Date(guess), timeZone);
  return new Date(guess - offsetMs(new Date(first), timeZone));
}

/** Minutes since local midnight. */
export function minuteOfDay(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  return p.hour * 60 + p.minute;
}

/** `HH:MM` → minutes since midnight; `24:00` is allowed as an end. */
export function parseClockTime(text: string): number {
  const m = /^([01]?\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!m || (Number(m[1]) === 24 && m[2] !== '00')) throw new Error(`not a time of day (HH:MM): ${text}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** `YYYY-MM-DD` of the local date. */
export function localDate(at: Date, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** `HH:MM` of the local time, for messages like "will send 07:00". */
export function localClock(at: Date, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

/** The next instant (≥ `from`) at which the local clock shows `minuteOfDay`. */
export function nextLocalTime(from: Date, minute: number, timeZone: string): Date {
  const p = localParts(from, timeZone);
  const today = zonedInstant(p.year, p.month, p.day, Math.floor(minute / 60), minute % 60, timeZone);
  if (today.getTime() >= from.getTime()) return today;
  const tomorrow = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  return zonedInstant(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), Math.floor(minute / 60), minute % 60, timeZone);
}
