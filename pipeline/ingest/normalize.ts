import { createHash } from 'node:crypto';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import type { NormalizedPost } from '../../core/posts/post.js';
import { xmlSafeText } from '../../core/text/xml-safe-text.js';

function sha(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/**
 * Collapses runs of spaces (including full-width and no-break) and blank lines; keeps paragraph
 * breaks. Drops what no office file may hold (`xmlSafeText`) and U+E000/U+E001, the private-use
 * characters the search highlighter marks hits with.
 */
export function normalizeText(text: string): string {
  return xmlSafeText(text.replace(/[\f\v]/g, ' '))
    .replace(/[\uE000\uE001]/g, '')
    .replace(/\r\n?/g, '\n')
    .replace(/[\t \u00a0\u3000\u200b\ufeff]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function postIdOf(item: Pick<CollectedItem, 'sourceId' | 'kind' | 'platformId' | 'url'>): string {
  return sha([item.sourceId, item.kind, item.platformId ?? item.url]);
}

/**
 * The ingest job id of an item: its post identity plus what it says. Adding the same item twice
 * (a re-crawl, a re-submitted push batch) finds the existing job; an edited item gets a new job.
 * A change the collector observed (an edit, a deletion, a return after one) is also keyed by when
 * it was seen: delete → restore → delete again, or A → B → A → B, are new observations each time,
 * where the words alone would repeat an earlier job's id and be swallowed as a duplicate.
 */
export function ingestJobIdOf(item: Pick<CollectedItem, 'sourceId' | 'kind' | 'platformId' | 'url' | 'title' | 'text' | 'reply' | 'change' | 'collectedAt'>): string {
  const observed = item.change === 'edited' || item.change === 'deleted' ? `\u0000${item.change}\u0000${item.collectedAt}` : '';
  return createHash('sha256').update(`${postIdOf(item)}\u0000${item.title ?? ''}\u0000${item.text}\u0000${item.reply?.text ?? ''}${observed}`).digest('hex').slice(0, 40);
}

export function normalizeItem(item: CollectedItem): NormalizedPost {
  const title = normalizeText(item.title ?? '');
  const text = normalizeText(item.text);
  const reply = item.reply ? { ...item.reply, text: normalizeText(item.reply.text) } : undefined;
  return {
    ...item,
    title,
    text,
    ...(reply ? { reply } : {}),
    id: postIdOf(item),
    contentHash: sha([title, text, reply?.text ?? '', reply?.at ?? '']),
  };
}
