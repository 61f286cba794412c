/**
 * Dates the way Chinese government pages print them — 2024-05-01 10:30, 2024/5/1, 2024.05.01,
 * 2024年5月1日 10时30分, ２０２４年５月１日, 二〇二四年五月一日 — returned as ISO 8601 in Beijing
 * time (`+08:00`, China has no daylight saving). Pages show local time, so a date without an offset
 * is taken as Beijing time; an explicit offset (`Z`, `+00:00`) is converted.
 *
 * With `now`, the forms comment widgets print are understood too: 刚刚, 5分钟前, 3小时前, 2天前,
 * 今天 10:30, 昨天, 前天, and dates without a year (05-01 10:30, 5月1日), which take the year that
 * puts them closest before `now`. Without `now` those are not guessed.
 *
 * Invalid dates (month 13, 2月30日, 25:00) are skipped, not corrected.
 */

const BEIJING_OFFSET_MS = 8 * 3600_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Time after a date: ` 10:30`, `T10:30:00`, ` 10时30分`, with an optional offset. */
const TIME = String.raw`(?:\s*(?<iso>T)?\s*(?<hour>\d{1,2})\s*[:：时]\s*(?<minute>\d{1,2})(?:\s*[:：分]\s*(?<second>\d{1,2})(?:\.\d+)?)?\s*秒?(?<zone>Z|[+-]\d{2}:?\d{2})?)?`;
const FULL_DATE = new RegExp(String.raw`(?<!\d)(?<year>\d{4})\s*[-/.年]\s*(?<month>\d{1,2})\s*[-/.月]\s*(?<day>\d{1,2})(?!\d)\s*日?` + TIME, 'g');
const YEARLESS_DATE = new RegExp(String.raw`(?<![\d./-])(?<month>\d{1,2})\s*(?:-|/|月)\s*(?<day>\d{1,2})(?![\d./-])\s*日?` + TIME, 'g');
const RELATIVE = /(刚刚|刚才)|(\d+)\s*(秒|分钟|小时|天|周)前|(今天|昨天|前天)(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2}))?/;

const CN_DIGITS: Record<string, number> = { 〇: 0, 零: 0, Ｏ: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
/** 一 … 三十一 as used for months and days. */
function chineseSmallNumber(s: string): number | undefined {
  const m = /^([一二三])?(十)?([一二三四五六七八九])?$/.exec(s);
  if (!m || s === '') return undefined;
  const [, tens, ten, units] = m;
  if (!ten) return tens && !units ? CN_DIGITS[tens] : units && !tens ? CN_DIGITS[units] : undefined;
  return (tens ? CN_DIGITS[tens]! : 1) * 10 + (units ? CN_DIGITS[units]! : 0);
}

/** Full-width digits and Chinese-numeral dates (二〇二四年五月一日) to ASCII; keeps everything else. */
function foldDigits(text: string): string {
  return text
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[：]/g, ':')
    .replace(/([〇零Ｏ一二三四五六七八九]{4})年([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})日/g, (whole, y: string, mo: string, d: string) => {
      const month = chineseSmallNumber(mo);
      const day = chineseSmallNumber(d);
      if (month === undefined || day === undefined) return whole;
      return `${[...y].map((c) => CN_DIGITS[c]).join('')}年${month}月${day}日`;
    });
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function valid(p: Parts): boolean {
  if (p.year < 1900 || p.year > 2100 || p.month < 1 || p.month > 12 || p.day < 1) return false;
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return false;
  const check = new Date(Date.UTC(p.year, p.month - 1, p.day));
  return check.getUTCMonth() === p.month - 1 && check.getUTCDate() === p.day;
}

function format(p: Parts): string {
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}+08:00`;
}

/** Beijing wall-clock parts of an instant. */
function beijingParts(instant: number): Parts {
  const b = new Date(instant + BEIJING_OFFSET_MS);
  return { year: b.getUTCFullYear(), month: b.getUTCMonth() + 1, day: b.getUTCDate(), hour: b.getUTCHours(), minute: b.getUTCMinutes(), second: b.getUTCSeconds() };
}

/** The instant of Beijing wall-clock parts. */
function beijingInstant(p: Parts): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - BEIJING_OFFSET_MS;
}

function offsetMinutes(zone: string): number | undefined {
  if (zone === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return minutes > 14 * 60 ? undefined : (m[1] === '-' ? -1 : 1) * minutes;
}

const num = (v: string | undefined, fallback = 0) => (v === undefined ? fallback : Number(v));

function absolute(text: string): string | undefined {
  for (const m of text.matchAll(FULL_DATE)) {
    const g = m.groups ?? {};
    const p: Parts = { year: num(g.year), month: num(g.month), day: num(g.day), hour: num(g.hour), minute: num(g.minute), second: num(g.second) };
    if (!valid(p)) continue;
    // An offset counts only in ISO form (2024-05-01T10:30:00+08:00), so that a range such as
    // 10:30-11:30 is not read as an offset; Z always counts.
    const zone = g.zone === 'Z' || g.iso ? g.zone : undefined;
    if (zone === undefined) return format(p);
    const offset = offsetMinutes(zone);
    if (offset === undefined) continue;
    const instant = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - offset * 60_000;
    return format(beijingParts(instant));
  }
  return undefined;
}

function relative(text: string, now: Date): string | undefined {
  const m = RELATIVE.exec(text);
  if (m) {
    if (m[1]) return format(beijingParts(now.getTime()));
    if (m[2] && m[3]) {
      const unit = { 秒: 1_000, 分钟: 60_000, 小时: 3_600_000, 天: 86_400_000, 周: 7 * 86_400_000 }[m[3]] ?? 0;
      return format(beijingParts(now.getTime() - Number(m[2]) * unit));
    }
    if (m[4]) {
      const daysBack = { 今天: 0, 昨天: 1, 前天: 2 }[m[4]] ?? 0;
      const day = beijingParts(now.getTime() - daysBack * 86_400_000);
      const p: Parts = { ...day, hour: num(m[5]), minute: num(m[6]), second: 0 };
      return valid(p) ? format(p) : undefined;
    }
  }
  const today = beijingParts(now.getTime());
  for (const y of text.matchAll(YEARLESS_DATE)) {
    const g = y.groups ?? {};
    const base = { month: num(g.month), day: num(g.day), hour: num(g.hour), minute: num(g.minute), second: num(g.second) };
    // The year that puts the date closest before now (a day of slack for clocks and time zones).
    for (const year of [today.year, today.year - 1]) {
      const p: Parts = { year, ...base };
      if (valid(p) && beijingInstant(p) <= now.getTime() + 86_400_000) return format(p);
    }
  }
  return undefined;
}

/** The first date in `text`, as `YYYY-MM-DDTHH:mm:ss+08:00`; undefined when there is none. */
export function parseChineseDate(text: string, now?: Date): string | undefined {
  const folded = foldDigits(text);
  return absolute(folded) ?? (now && !Number.isNaN(now.getTime()) ? relative(folded, now) : undefined);
}
