import type { Redis } from 'ioredis';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { CrawlError } from './crawl-error.js';
import type { CrawlFence } from './crawl-lock.js';
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
  /**
   * Writes a group of pages and items at once: all of them or, on a failure, none. A store shared
   * between runs refuses the writes of a run that lost the source's run lock (a `superseded`
   * CrawlError), as does each save above.
   */
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

/**
 * Lua: writes a group of crawl state only while the run lock holds the writer's token. KEYS[1] the
 * lock, KEYS[2] the pages hash, KEYS[3] the items hash; ARGV[1] the token, ARGV[2] the number of
 * page fields, then field/value pairs, pages first. Answers 1 when written, 0 when refused (nothing
 * written). One HSET per field: a group may hold more fields than Lua's unpack() takes.
 */
const WRITE_IF_LOCK_HELD = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local pageEnd = 2 + 2 * tonumber(ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', i <= pageEnd and KEYS[2] or KEYS[3], ARGV[i], ARGV[i + 1]) end
return 1`;

/**
 * Two Redis hashes per source: `<prefix>:crawl:<source>:pages` and `…:items`, values JSON. Every
 * write is fenced by the source's run lock: refused (a `superseded` CrawlError, nothing written)
 * once the lock no longer holds this run's token, so a run that stood still past its lease never
 * overwrites the memory of the run that took over.
 */
export class RedisCrawlState implements CrawlState {
  private readonly pagesKey: string;
  private readonly itemsKey: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly sourceId: string,
    private readonly fence: CrawlFence,
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
  savePage(url: string, page: PageMemory): Promise<void> {
    return this.write({ pages: new Map([[url, page]]), items: new Map() });
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
  saveItems(items: ReadonlyMap<string, ItemMemory>): Promise<void> {
    return this.write({ pages: new Map(), items });
  }
  /**
   * One round trip, one Lua step: the lock checked and every field written, so a crash never keeps
   * half a group and a lost lock keeps none of it.
   *
   * @throws CrawlError `superseded` when the run lock is no longer this run's
   */
  async write(changes: CrawlStateChanges): Promise<void> {
    if (changes.pages.size + changes.items.size === 0) return;
    const fields = [...changes.pages, ...changes.items].flatMap(([field, memory]) => [field, JSON.stringify(memory)]);
    const written = await this.redis.eval(WRITE_IF_LOCK_HELD, 3, this.fence.key, this.pagesKey, this.itemsKey, this.fence.token, String(changes.pages.size), ...fields);
    if (written !== 1) throw new CrawlError('superseded', `crawl state of ${this.sourceId} not written: its run lock ${this.fence.key} is no longer this run's`);
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
