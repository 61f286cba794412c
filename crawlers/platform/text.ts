import { blockText, cleanText, loadPage } from '../shared/html.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as ISO 8601 in Beijing time (`2026-11-24T10:00:00+08:00`), the way items carry dates. */
export function toBeijingIso(instant: Date): string {
  const b = new Date(instant.getTime() + 8 * 3600_000);
  return `${b.getUTCFullYear()}-${pad(b.getUTCMonth() + 1)}-${pad(b.getUTCDate())}T${pad(b.getUTCHours())}:${pad(b.getUTCMinutes())}:${pad(b.getUTCSeconds())}+08:00`;
}

/** Seconds since the epoch (the WeChat API's `update_time`, `create_time`) in Beijing time; undefined for garbage. */
export function fromUnixSeconds(value: unknown): string | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 4_102_444_800) return undefined;
  return toBeijingIso(new Date(n * 1000));
}

/**
 * Plain text of an HTML fragment from a platform (an article body, a post, a comment): paragraphs
 * kept as lines, markup, scripts and styles dropped. `<img alt>` of emoticons ([怒], [泪]) is kept,
 * because those carry sentiment.
 */
export function htmlToText(html: string): string {
  if (!/[<&]/.test(html)) return cleanText(html);
  const $ = loadPage(`<body>${html}</body>`);
  $('img[alt]').each((_, img) => {
    const alt = $(img).attr('alt') ?? '';
    $(img).replaceWith(/^\[[^\]]{1,8}\]$/.test(alt) ? alt : '');
  });
  const body = $('body').get(0);
  return body ? blockText($, body) : '';
}
