import type { Redis } from 'ioredis';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import type { Validators } from './fetch-page.js';

/** What the crawler remembers of one fetched page between runs. */
export interface PageMemory {
  label: string;
  fetchedAt: string;
  validators?: Validators;
  /** SHA-256 of the raw body: an unchanged body is not extracted again. */
  bodyHash?: string;
  /** The links the page's route followed, replayed when the page did not change. */
  links?: { label: string; url: string; signature?: string }[];
  /** Ids of the items the page yielded (an article and its comments): one missing later was deleted. */
  itemIds?: string[];
  /** How the list page that linked here showed the entry (title and date); a change means an edit. */
  signature?: string;
  /** Date the list showed, ISO: recent entries are re-fetched for new comments. */
  listedAt?: string;
  /** Set when the page was last fetched because no list showed it any more. */
  unlisted?: boolean;
}

/** What the crawler remembers of one collected item. */
export interface ItemMemory {
  hash: string;
  url: string;
  kind: string;
  platformId?: string;
  parentRef?: string;
  title?: string;
  /** When a deletion has been signalled, so it is signalled once. */
  deletedAt?: string;
}

/** Pages and items remembered together: one group of a crawl's state writes. */
export interface CrawlStateChanges {
  pages: ReadonlyMap<string, PageMemory>;
  items: ReadonlyMap<string, ItemMemory>;
}

/**
 * The crawler's memory of one source, between runs: validators and outcome per URL, content hash per
 * item. Port: it deliberately leaves out page bodies (the evidence store keeps those) and anything
 * the pipeline decides (dedupe, classification).
 */
export interface CrawlState {
  pages(urls: readonly string[]): Promise<Map<string, PageMemory>>;
  savePage(url: string, page: PageMemory): Promise<void>;
  /** Every URL remembered with this label (for list diffing of detail pages). */
  urlsWithLabel(label: string): Promise<string[]>;
  items(ids: readonly string[]): Promise<Map<string, ItemMemory>>;
  saveItems(items: ReadonlyMap<string, ItemMemory>): Promise<void>;
  /** Writes a group of pages and items at once: all of them or, on a failure, none. */
  write(changes: CrawlStateChanges): Promise<void>;
}

export class MemoryCrawlState implements CrawlState {
  private readonly pageMap = new Map<string, PageMemory>();
  private readonly itemMap = new Map<string, ItemMemory>();

  async pages(urls: readonly string[]): Promise<Map<string, PageMemory>> {
    return new Map(urls.flatMap((u) => (this.pageMap.has(u) ? [[u, this.pageMap.get(u)!] as const] : [])));
  }
  async savePage(url: string, page: PageMemory): Promise<void> {
    this.pageMap.set(url, page);
  }
  async urlsWithLabel(label: string): Promise<string[]> {
    return [...this.pageMap].filter(([, p]) => p.label === label).map(([u]) => u);
  }
  async items(ids: readonly string[]): Promise<Map<string, ItemMemory>> {
    return new Map(ids.flatMap((id) => (this.itemMap.has(id) ? [[id, this.itemMap.get(id)!] as const] : [])));
  }
  async saveItems(items: ReadonlyMap<string, ItemMemory>): Promise<void> {
    for (const [id, item] of items) this.itemMap.set(id, item);
  }
  async write(changes: CrawlStateChanges): Promise<void> {
    for (const [url, page] of changes.pages) this.pageMap.set(url, page);
    await this.saveItems(changes.items);
  }
}

/** Two Redis hashes per source: `<prefix>:crawl:<source>:pages` and `…:items`, values JSON. */
export class RedisCrawlState implements CrawlState {
  private readonly pagesKey: string;
  private readonly itemsKey: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
    sourceId: string,
  ) {
    this.pagesKey = `${prefix}:crawl:${sourceId}:pages`;
    this.itemsKey = `${prefix}:crawl:${sourceId}:items`;
  }

  private async read<T>(key: string, fields: readonly string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    if (fields.length === 0) return out;
    const values = await this.redis.hmget(key, ...fields);
    values.forEach((v, i) => {
      if (v) out.set(fields[i]!, JSON.parse(v) as T);
    });
    return out;
  }

  pages(urls: readonly string[]): Promise<Map<string, PageMemory>> {
    return this.read<PageMemory>(this.pagesKey, urls);
  }
  async savePage(url: string, page: PageMemory): Promise<void> {
    await this.redis.hset(this.pagesKey, url, JSON.stringify(page));
  }
  async urlsWithLabel(label: string): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.pagesKey, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        if ((JSON.parse(flat[i + 1]!) as PageMemory).label === label) out.push(flat[i]!);
      }
    } while (cursor !== '0');
    return out;
  }
  items(ids: readonly string[]): Promise<Map<string, ItemMemory>> {
    return this.read<ItemMemory>(this.itemsKey, ids);
  }
  async saveItems(items: ReadonlyMap<string, ItemMemory>): Promise<void> {
    if (items.size === 0) return;
    await this.redis.hset(this.itemsKey, Object.fromEntries([...items].map(([id, m]) => [id, JSON.stringify(m)])));
  }
  /** One round trip: at most one HSET per hash in a MULTI, so a crash never keeps half a group. */
  async write(changes: CrawlStateChanges): Promise<void> {
    if (changes.pages.size + changes.items.size === 0) return;
    const multi = this.redis.multi();
    if (changes.pages.size > 0) multi.hset(this.pagesKey, Object.fromEntries([...changes.pages].map(([url, p]) => [url, JSON.stringify(p)])));
    if (changes.items.size > 0) multi.hset(this.itemsKey, Object.fromEntries([...changes.items].map(([id, m]) => [id, JSON.stringify(m)])));
    const results = await multi.exec();
    // ioredis reports a command's failure inside the results, not by rejecting.
    const failed = results?.find(([err]) => err)?.[0];
    if (failed) throw failed;
    if (!results) throw new Error(`crawl state write to ${this.pagesKey} was discarded`);
  }
}

/**
 * Emits each remembered item in `ids` once as `deleted` (no text: the indexed post keeps what it
 * said) and marks it deleted in the crawl state. Returns how many were emitted.
 */
export async function emitDeletions(
  state: Pick<CrawlState, 'items' | 'saveItems'>,
  ids: readonly string[],
  sourceId: string,
  at: string,
  onItem: (item: CollectedItem) => Promise<void>,
  memories?: Map<string, ItemMemory>,
): Promise<number> {
  const known = memories ?? (await state.items([...ids]));
  const updates = new Map<string, ItemMemory>();
  for (const id of ids) {
    const m = known.get(id);
    if (!m || m.deletedAt) continue;
    await onItem({
      sourceId,
      kind: m.kind as CollectedItem['kind'],
      url: m.url,
      ...(m.platformId ? { platformId: m.platformId } : {}),
      ...(m.parentRef ? { parentRef: m.parentRef } : {}),
      ...(m.title ? { title: m.title } : {}),
      text: '',
      collectedAt: at,
      change: 'deleted',
      previousHash: m.hash,
    });
    updates.set(id, { ...m, deletedAt: at });
  }
  await state.saveItems(updates);
  return updates.size;
}
