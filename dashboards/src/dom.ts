/**
 * Builds DOM from tags and text. Strings always become text nodes: crawled content is hostile and
 * never reaches innerHTML anywhere in the dashboard.
 */
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return el;
}

/** Text with the ranges [start, end) wrapped in <mark>, built from text nodes only. */
export function highlight(text: string, ranges: readonly { start: number; end: number }[]): DocumentFragment {
  const frag = document.createDocumentFragment();
  const sorted = [...ranges].sort((a, b) => a.start - b.start || b.end - a.end);
  let pos = 0;
  for (const r of sorted) {
    if (r.start < pos) continue; // overlapping match: the longer, earlier one is already marked
    frag.append(document.createTextNode(text.slice(pos, r.start)), h('mark', {}, text.slice(r.start, r.end)));
    pos = r.end;
  }
  frag.append(document.createTextNode(text.slice(pos)));
  return frag;
}

const shanghai = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : shanghai.format(d);
}
