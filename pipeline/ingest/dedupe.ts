import type { Redis } from 'ioredis';
import { logObservation, type ObservationLog } from '../../core/posts/post-observations.js';
import type { IndexedPost } from '../../core/posts/post.js';

/** `stale`: the item was observed before what is indexed already (or before its deletion): it does not replace it. */
export type DedupeDecision = 'new' | 'changed' | 'duplicate' | 'stale';

/**
 * Exact dedupe on identity and content: a re-crawl of an unchanged post is a duplicate, unless the
 * post was marked deleted meanwhile (it is back: a change). Which wording is current does not
 * depend on which job ran last: an item observed (`collectedAt`) before the last observation applied
 * is stale; at the same instant, the deletion counts as later, and of two wordings the one with
 * the greater content hash is current.
 */
export function decideDedupe(seen: Pick<SeenPost, 'hash' | 'deletedAt' | 'observedAt'> | null | undefined, item: { contentHash: string; collectedAt: string }): DedupeDecision {
  if (!seen) return 'new';
  const deleted = seen.deletedAt !== undefined;
  if (!deleted && seen.hash === item.contentHash) return 'duplicate';
  if (seen.observedAt !== undefined && observedBefore(item, seen.observedAt, deleted || item.contentHash < seen.hash)) return 'stale';
  return 'changed';
}

function observedBefore(item: { collectedAt: string }, observedAt: string, losesTie: boolean): boolean {
  const [mine, last] = [Date.parse(item.collectedAt), Date.parse(observedAt)];
  return mine < last || (mine === last && losesTie);
}

/** What is remembered of a post once it is indexed, with the log of its observations (`post-observations.ts`). */
export interface SeenPost extends ObservationLog {
  /** Content hash last indexed. */
  hash: string;
  /** The concrete index the post lives in, so an edit months later updates it there. */
  home?: string;
  /** The post's time as first indexed (a post without a published date keeps its first collection time). */
  at?: string;
  /** When the post was marked deleted (cleared when it appears again). */
  deletedAt?: string;
  /** When the last observation applied was made: the indexed wording's `collectedAt`, or the crawl that found the post gone. */
  observedAt?: string;
  /** Earlier observations of the current words (duplicates) while the post stands, oldest first, the last `MAX_SIGHTINGS` before `observedAt`. */
  sightings?: string[];
}

/** Earlier sightings remembered per post: a wording or deletion delayed behind more of them takes the oldest kept as the current words' return. */
export const MAX_SIGHTINGS = 4;

/**
 * What is remembered once the current words of a standing post are seen again at `at` (a
 * duplicate): a later sighting is the last observation, an earlier one joins the sightings.
 * `undefined` when that sighting is known.
 */
export function noteSighting(seen: SeenPost, at: string): SeenPost | undefined {
  const logged = { ...seen, ...logObservation(seen, { at, hash: seen.hash }) };
  if (seen.observedAt === undefined) return { ...logged, observedAt: at };
  const known = [...(seen.sightings ?? []), seen.observedAt];
  if (known.some((t) => Date.parse(t) === Date.parse(at))) return undefined;
  const all = [...known, at].sort((a, b) => Date.parse(a) - Date.parse(b));
  return { ...logged, observedAt: all.at(-1)!, sightings: all.slice(0, -1).slice(-MAX_SIGHTINGS) };
}

/**
 * When the current words of a standing post were first seen after `at` (a wording or a deletion
 * observed then and ingested late: the post read the current words again from then on); the last
 * observation when none is remembered in between.
 */
export function returnAfter(seen: Pick<SeenPost, 'observedAt' | 'sightings'>, at: string): string | undefined {
  return [...(seen.sightings ?? []), seen.observedAt].find((t) => t !== undefined && Date.parse(t) > Date.parse(at)) ?? seen.observedAt;
}

/**
 * What is remembered of a post recovered from its indexed document, when its seen record expired
 * or Redis lost it (it keeps nothing on disk): the wording indexed, where, its time and any deletion.
 * Its observation log is not known, so a late observation is placed as for a post seen before logs
 * were kept (`observationsCut`); the indexed wording's collection is the last observation known.
 */
export function seenOfIndexed(post: Pick<IndexedPost, 'contentHash' | 'at' | 'collectedAt' | 'deleted'>, home: string): SeenPost {
  const observed = post.deleted ? { deletedAt: post.deleted.at, observedAt: post.deleted.crawl.at } : { observedAt: post.collectedAt };
  return { hash: post.contentHash, home, at: post.at, ...observed, observationsCut: true };
}

/**
 * Remembers, per post id, what was last indexed. Written only after the post is indexed, so a
 * crash between the two re-processes the post instead of losing it. Read and written under the
 * post's claim (`post-claims.ts`). A record missing is not proof the post is new: the ingest path
 * recovers it from Elasticsearch (`seenOfIndexed`).
 * Port: what it leaves out is near-duplicate detection (MinHash events), which is a later stage.
 */
export interface SeenStore {
  lookup(postId: string): Promise<SeenPost | null>;
  remember(postId: string, seen: SeenPost): Promise<void>;
  /** Of `postIds`, those without a record now (a hint: read again under the post's claim). */
  unremembered(postIds: readonly string[]): Promise<string[]>;
}

/** Default retention of a seen record after its last write (`pipeline.seenRetentionDays`). */
export const SEEN_RETENTION_DAYS = 30;

/**
 * One key per post, `<p>:seen:<post id>`, expiring `retentionMs` after its last write: every item of
 * the post that reaches ingest (a new sighting, an edit, a deletion) writes it; crawlers hand over
 * only posts new or changed, so one left alone leaves Redis and is recovered from its document (its
 * observation log cut) if it is ever edited, deleted or pushed again.
 */
export class RedisSeenStore implements SeenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionMs: number = SEEN_RETENTION_DAYS * 86_400_000,
  ) {}

  async lookup(postId: string): Promise<SeenPost | null> {
    return parseSeen(await this.redis.get(`${this.prefix}:seen:${postId}`));
  }

  async remember(postId: string, seen: SeenPost): Promise<void> {
    await this.redis.set(`${this.prefix}:seen:${postId}`, JSON.stringify(seen), 'PX', this.retentionMs);
  }

  async unremembered(postIds: readonly string[]): Promise<string[]> {
    const known = await Promise.all(postIds.map((id) => this.redis.exists(`${this.prefix}:seen:${id}`)));
    return postIds.filter((_, i) => known[i] === 0);
  }
}

/** Records written before homes were remembered hold the bare hash. */
function parseSeen(raw: string | null): SeenPost | null {
  if (raw === null) return null;
  return raw.startsWith('{') ? (JSON.parse(raw) as SeenPost) : { hash: raw };
}

/**
 * Moves the one hash of seen records the layout before retention kept (`<p>:seen`, never shrinking)
 * into per-post keys with the retention, 500 fields a script; a key already written by the new
 * layout stays (`NX`). Run in the background at a worker's start; several at once are harmless.
 * A post looked up before its record moved is recovered from Elasticsearch meanwhile. Resolves with
 * the records moved.
 */
export async function adoptLegacySeenHash(redis: Redis, prefix: string, retentionMs: number = SEEN_RETENTION_DAYS * 86_400_000): Promise<number> {
  let moved = 0;
  let cursor = '0';
  do {
    const [next, count] = (await redis.eval(ADOPT_SEEN_CHUNK, 1, `${prefix}:seen`, cursor, `${prefix}:seen:`, retentionMs)) as [string, number];
    cursor = next;
    moved += count;
  } while (cursor !== '0');
  return moved;
}

const ADOPT_SEEN_CHUNK = `
local page = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', 500)
local fields = page[2]
local moved = 0
for i = 1, #fields, 2 do
  if redis.call('SET', ARGV[2] .. fields[i], fields[i + 1], 'PX', ARGV[3], 'NX') then moved = moved + 1 end
  redis.call('HDEL', KEYS[1], fields[i])
end
return { page[1], moved }
`;
