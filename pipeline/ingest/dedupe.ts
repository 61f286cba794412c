import type { Redis } from 'ioredis';
import { logObservation, type ObservationLog } from '../../core/posts/post-observations.js';

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
 * Remembers, per post id, what was last indexed. Written only after the post is indexed, so a
 * crash between the two re-processes the post instead of losing it. Read and written under the
 * post's claim (`post-claims.ts`).
 * Port: what it leaves out is near-duplicate detection (MinHash events), which is a later stage.
 */
export interface SeenStore {
  lookup(postId: string): Promise<SeenPost | null>;
  remember(postId: string, seen: SeenPost): Promise<void>;
}

export class RedisSeenStore implements SeenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async lookup(postId: string): Promise<SeenPost | null> {
    const raw = await this.redis.hget(`${this.prefix}:seen`, postId);
    if (raw === null) return null;
    // Records written before homes were remembered hold the bare hash.
    return raw.startsWith('{') ? (JSON.parse(raw) as SeenPost) : { hash: raw };
  }

  async remember(postId: string, seen: SeenPost): Promise<void> {
    await this.redis.hset(`${this.prefix}:seen`, postId, JSON.stringify(seen));
  }
}
