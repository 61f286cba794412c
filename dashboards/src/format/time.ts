/** Every time on screen is Asia/Shanghai, whatever the browser's own zone. */
const TZ = 'Asia/Shanghai';

const full = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const short = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
const dateOnly = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });

function parse(iso: string | number | Date | undefined | null): Date | undefined {
  if (iso === undefined || iso === null || iso === '') return undefined;
  const d = iso instanceof Date ? iso : new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function formatTime(iso: string | number | Date | undefined | null): string {
  const d = parse(iso);
  return d ? full.format(d) : '—';
}

export function formatShort(iso: string | number | Date | undefined | null): string {
  const d = parse(iso);
  return d ? short.format(d) : '—';
}

export function formatDate(iso: string | number | Date | undefined | null): string {
  const d = parse(iso);
  return d ? dateOnly.format(d) : '—';
}

/** "3小时12分" / "45秒": a duration for countdowns (absolute value; the caller says before/after). */
export function formatDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}天${h}小时`;
  if (h > 0) return `${h}小时${String(m).padStart(2, '0')}分`;
  if (m > 0) return `${m}分${String(sec).padStart(2, '0')}秒`;
  return `${sec}秒`;
}

/** "5分钟前" for recent times, the Shanghai date-time otherwise. */
export function formatAgo(iso: string | undefined, now = Date.now()): string {
  const d = parse(iso);
  if (!d) return '—';
  const diff = now - d.getTime();
  if (diff < 0) return formatShort(d);
  if (diff < 60_000) return '刚刚';
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)}分钟前`;
  if (diff < 86_400_000) return `${Math.floor(diff / 3_600_000)}小时前`;
  return formatShort(d);
}
