/** Quantile by linear interpolation between closest ranks (the definition spreadsheets use); undefined for no data. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** A share as a percentage with one decimal, or undefined when there is nothing to divide by. */
export function percent(part: number, whole: number): number | undefined {
  return whole === 0 ? undefined : Math.round((part / whole) * 1000) / 10;
}

/** Seconds as staff read a duration: 45秒, 12分钟, 3.5小时, 2.1天. */
export function humanDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  if (seconds < 60) return `${Math.round(seconds)}秒`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}分钟`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)}小时`;
  return `${(seconds / 86_400).toFixed(1)}天`;
}

/** 环比 as words: 较上期增加 12（+20.0%）. */
export function comparedWithPrevious(current: number, previous: number | undefined): string {
  if (previous === undefined) return '';
  if (previous === 0) return current === 0 ? '与上期持平' : `上期为0，本期新增 ${current}`;
  const diff = current - previous;
  const pct = ((diff / previous) * 100).toFixed(1);
  if (diff === 0) return '与上期持平';
  return `较上期${diff > 0 ? '增加' : '减少'} ${Math.abs(diff)}（${diff > 0 ? '+' : ''}${pct}%）`;
}
