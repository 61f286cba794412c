/**
 * Report periods the page offers, as the keys the API parses (core/reports/period.ts): `2026-W47`,
 * `2026-11`, `2026-Q3`, `2026`, `2026-07-01..2026-09-30`. Dates are the unit's (Asia/Shanghai).
 */
export type PeriodKind = 'week' | 'month' | 'quarter' | 'year' | 'custom';

export const PERIOD_KIND_LABEL: Record<PeriodKind, string> = { week: '周', month: '月', quarter: '季度', year: '年', custom: '自定义' };

export interface PeriodOption {
  key: string;
  label: string;
}

const CN_QUARTER = ['一', '二', '三', '四'];

/** The Shanghai calendar date of an instant, as a UTC-midnight Date (for calendar arithmetic). */
function shanghaiDay(at: Date): Date {
  const d = new Date(at.getTime() + 8 * 3_600_000);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/** ISO 8601 week-numbering year and week of a calendar date. */
export function isoWeek(day: Date): { year: number; week: number } {
  const d = new Date(day.getTime());
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  return { year: d.getUTCFullYear(), week: Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7) };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The current and recent periods of a kind, newest first. */
export function recentPeriods(kind: Exclude<PeriodKind, 'custom'>, now: Date, count = 12): PeriodOption[] {
  const today = shanghaiDay(now);
  const out: PeriodOption[] = [];
  for (let i = 0; i < count; i++) {
    if (kind === 'week') {
      const { year, week } = isoWeek(new Date(today.getTime() - i * 7 * 86_400_000));
      out.push({ key: `${year}-W${pad(week)}`, label: `${year}年第${week}周${i === 0 ? '（本周）' : ''}` });
    } else if (kind === 'month') {
      const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - i, 1));
      out.push({ key: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`, label: `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${i === 0 ? '（本月）' : ''}` });
    } else if (kind === 'quarter') {
      const q0 = today.getUTCFullYear() * 4 + Math.floor(today.getUTCMonth() / 3) - i;
      const year = Math.floor(q0 / 4);
      const q = q0 % 4;
      out.push({ key: `${year}-Q${q + 1}`, label: `${year}年第${CN_QUARTER[q]}季度${i === 0 ? '（本季度）' : ''}` });
    } else {
      if (i >= 5) break;
      const year = today.getUTCFullYear() - i;
      out.push({ key: String(year), label: `${year}年${i === 0 ? '（本年）' : ''}` });
    }
  }
  return out;
}

/** The kind of a period key, so a link (e.g. from a scheduled report's notification) selects it. */
export function kindOf(key: string): PeriodKind {
  if (/^\d{4}-W\d{2}$/.test(key)) return 'week';
  if (/^\d{4}-\d{2}$/.test(key)) return 'month';
  if (/^\d{4}-Q[1-4]$/.test(key)) return 'quarter';
  if (/^\d{4}$/.test(key)) return 'year';
  return 'custom';
}

/** A custom range from two picked days (inclusive), as the API's `from..to` key. */
export function customKey(from: Date, to: Date): string {
  const day = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${day(from)}..${day(to)}`;
}
