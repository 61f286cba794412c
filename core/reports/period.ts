import { InvalidInputError } from '../errors.js';

/**
 * A reporting period in the unit's time zone (Asia/Shanghai, UTC+8 all year): `2026-W47`, `2026-11`,
 * `2026-Q3`, `2026-H2`, `2026`, or a custom `2026-07-01..2026-09-30` (both days included).
 * `from` is inclusive and `to` exclusive, as instants.
 */
export interface Period {
  kind: 'week' | 'month' | 'quarter' | 'half' | 'year' | 'custom';
  /** As given, normalised: also the report's key. */
  key: string;
  /** 2026年第三季度, 2026年11月, … */
  label: string;
  from: Date;
  to: Date;
}

const OFFSET_MS = 8 * 3600_000;

/** Midnight in Shanghai of a calendar day, as an instant. */
function shanghaiMidnight(year: number, month: number, day: number): Date {
  return new Date(Date.UTC(year, month - 1, day) - OFFSET_MS);
}

function dayOf(text: string, what: string): { y: number; m: number; d: number } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) throw new InvalidInputError(`${what}: "${text}" is not a date (YYYY-MM-DD)`, 'invalid_period');
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) throw new InvalidInputError(`${what}: ${text} does not exist`, 'invalid_period');
  return { y, m, d };
}

const QUARTER_NAMES = ['一', '二', '三', '四'];

export function parsePeriod(text: string): Period {
  const t = text.trim();
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})$/.exec(t))) {
    const y = Number(m[1]);
    return { kind: 'year', key: t, label: `${y}年`, from: shanghaiMidnight(y, 1, 1), to: shanghaiMidnight(y + 1, 1, 1) };
  }
  if ((m = /^(\d{4})-H([12])$/i.exec(t))) {
    const [y, h] = [Number(m[1]), Number(m[2])];
    return { kind: 'half', key: `${y}-H${h}`, label: `${y}年${h === 1 ? '上' : '下'}半年`, from: shanghaiMidnight(y, h === 1 ? 1 : 7, 1), to: h === 1 ? shanghaiMidnight(y, 7, 1) : shanghaiMidnight(y + 1, 1, 1) };
  }
  if ((m = /^(\d{4})-Q([1-4])$/i.exec(t))) {
    const [y, q] = [Number(m[1]), Number(m[2])];
    return { kind: 'quarter', key: `${y}-Q${q}`, label: `${y}年第${QUARTER_NAMES[q - 1]}季度`, from: shanghaiMidnight(y, q * 3 - 2, 1), to: q === 4 ? shanghaiMidnight(y + 1, 1, 1) : shanghaiMidnight(y, q * 3 + 1, 1) };
  }
  if ((m = /^(\d{4})-(\d{2})$/.exec(t))) {
    const [y, mo] = [Number(m[1]), Number(m[2])];
    if (mo < 1 || mo > 12) throw new InvalidInputError(`period: month ${mo} does not exist`, 'invalid_period');
    return { kind: 'month', key: t, label: `${y}年${mo}月`, from: shanghaiMidnight(y, mo, 1), to: mo === 12 ? shanghaiMidnight(y + 1, 1, 1) : shanghaiMidnight(y, mo + 1, 1) };
  }
  if ((m = /^(\d{4})-W(\d{2})$/i.exec(t))) {
    const [y, w] = [Number(m[1]), Number(m[2])];
    // ISO week: week 1 holds the year's first Thursday; weeks start on Monday.
    const jan4 = new Date(Date.UTC(y, 0, 4));
    const monday1 = Date.UTC(y, 0, 4 - ((jan4.getUTCDay() + 6) % 7));
    const weeks = new Date(Date.UTC(y, 11, 28)).getUTCDay() === 4 || new Date(Date.UTC(y, 0, 1)).getUTCDay() === 4 ? 53 : 52;
    if (w < 1 || w > weeks) throw new InvalidInputError(`period: ${y} has no week ${w}`, 'invalid_period');
    const start = monday1 + (w - 1) * 7 * 86_400_000;
    const s = new Date(start);
    const e = new Date(start + 6 * 86_400_000);
    return {
      kind: 'week',
      key: `${y}-W${String(w).padStart(2, '0')}`,
      label: `${y}年第${w}周（${s.getUTCMonth() + 1}月${s.getUTCDate()}日—${e.getUTCMonth() + 1}月${e.getUTCDate()}日）`,
      from: new Date(start - OFFSET_MS),
      to: new Date(start + 7 * 86_400_000 - OFFSET_MS),
    };
  }
  if ((m = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(t))) {
    const a = dayOf(m[1]!, 'period start');
    const b = dayOf(m[2]!, 'period end');
    const from = shanghaiMidnight(a.y, a.m, a.d);
    const to = shanghaiMidnight(b.y, b.m, b.d + 1);
    if (to <= from) throw new InvalidInputError(`period: ${m[2]} is before ${m[1]}`, 'invalid_period');
    return { kind: 'custom', key: t, label: `${a.y}年${a.m}月${a.d}日至${b.y}年${b.m}月${b.d}日`, from, to };
  }
  throw new InvalidInputError(`period: "${text}" is not one of 2026, 2026-H2, 2026-Q3, 2026-11, 2026-W47, 2026-07-01..2026-09-30`, 'invalid_period');
}

/** The period just before, of the same kind and length, for comparisons (环比). */
export function previousPeriod(p: Period): Period {
  switch (p.kind) {
    case 'year':
      return parsePeriod(String(Number(p.key) - 1));
    case 'half': {
      const [y, h] = [Number(p.key.slice(0, 4)), Number(p.key.slice(-1))];
      return parsePeriod(h === 2 ? `${y}-H1` : `${y - 1}-H2`);
    }
    case 'quarter': {
      const [y, q] = [Number(p.key.slice(0, 4)), Number(p.key.slice(-1))];
      return parsePeriod(q === 1 ? `${y - 1}-Q4` : `${y}-Q${q - 1}`);
    }
    case 'month': {
      const [y, mo] = [Number(p.key.slice(0, 4)), Number(p.key.slice(5))];
      return parsePeriod(mo === 1 ? `${y - 1}-12` : `${y}-${String(mo - 1).padStart(2, '0')}`);
    }
    case 'week':
    case 'custom': {
      const length = p.to.getTime() - p.from.getTime();
      const from = new Date(p.from.getTime() - length);
      const fmt = (d: Date) => new Date(d.getTime() + OFFSET_MS).toISOString().slice(0, 10);
      const prev = parsePeriod(`${fmt(from)}..${fmt(new Date(p.from.getTime() - 1))}`);
      return { ...prev, label: `上一期（${prev.label}）` };
    }
  }
}

/** A date as staff write it in a report: 2026年11月25日. */
export function formatChineseDate(d: Date): string {
  const s = new Date(d.getTime() + OFFSET_MS);
  return `${s.getUTCFullYear()}年${s.getUTCMonth() + 1}月${s.getUTCDate()}日`;
}

/** `YYYY-MM-DD HH:mm` in Shanghai time. */
export function formatShanghai(d: Date): string {
  return new Date(d.getTime() + OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** The last complete period of a kind before `now` (Shanghai time): what a scheduled report covers. */
export function lastCompletePeriod(kind: 'week' | 'month' | 'quarter' | 'year', now: Date): Period {
  const local = new Date(now.getTime() + OFFSET_MS);
  const [y, m] = [local.getUTCFullYear(), local.getUTCMonth() + 1];
  switch (kind) {
    case 'year':
      return parsePeriod(String(y - 1));
    case 'quarter': {
      const q = Math.ceil(m / 3);
      return parsePeriod(q === 1 ? `${y - 1}-Q4` : `${y}-Q${q - 1}`);
    }
    case 'month':
      return parsePeriod(m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`);
    case 'week': {
      // The ISO week of the same weekday seven days ago.
      const d = new Date(Date.UTC(y, m - 1, local.getUTCDate() - 7));
      const thursday = new Date(d.getTime() + (3 - ((d.getUTCDay() + 6) % 7)) * 86_400_000);
      const isoYear = thursday.getUTCFullYear();
      const week = 1 + Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 4) + ((new Date(Date.UTC(isoYear, 0, 4)).getUTCDay() + 6) % 7) * 86_400_000) / (7 * 86_400_000));
      return parsePeriod(`${isoYear}-W${String(week).padStart(2, '0')}`);
    }
  }
}
