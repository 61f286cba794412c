import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { decideCluster, eventHeat, hourOf, type ClusterCandidate, type ClusterDecision } from '../../core/events/cluster.js';
import { EVENT_POST_IDS_KEPT, type EventRecord } from '../../core/events/event.js';
import { bandKeys, decodeSignature, encodeSignature, minhash } from '../../core/events/minhash.js';

/** What clustering needs of a post. */
export interface ClusterablePost {
  id: string;
  title: string;
  text: string;
  sourceId: string;
  kind: string;
  /** The post's own time (ISO). */
  at: string;
  negative: boolean;
}

export interface ClusterOutcome {
  event: EventRecord;
  decision: ClusterDecision | { kind: 'known'; reason: 'already-assigned'; eventId: string };
}

export interface EventClustererOptions {
  /** Posts further apart than this never join one event. */
  windowMs: number;
  /** At most this many candidates are verified per post (the most frequent band mates first). */
  maxCandidates?: number;
}

/**
 * Assigns posts to events with MinHash LSH, the band index shared by every worker in Redis:
 * `<p>:lsh:b:<band key>` sets of post ids and `<p>:lsh:p:<post id>` (signature, event, time), both
 * expiring after the window; event state under `<p>:event:{<id>}` updated by one Lua script, which
 * counts a post once however often it is re-processed. Port-free on purpose: it is the adapter.
 *
 * Left out: two near-duplicates processed at the same instant by two workers may open two events
 * (neither sees the other yet); the next post of the story joins the older one.
 */
export class RedisEventClusterer {
  private readonly maxCandidates: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: EventClustererOptions,
  ) {
    this.maxCandidates = opts.maxCandidates ?? 64;
    if (!('qsEventAdd' in this.redis)) this.redis.defineCommand('qsEventAdd', { numberOfKeys: 5, lua: EVENT_ADD_LUA });
  }

  async assign(post: ClusterablePost): Promise<ClusterOutcome> {
    const at = Date.parse(post.at);
    const postKey = `${this.prefix}:lsh:p:${post.id}`;
    const known = await this.redis.hget(postKey, 'event');
    if (known) return { event: await this.addToEvent(known, post, at), decision: { kind: 'known', reason: 'already-assigned', eventId: known } };

    const signature = minhash(`${post.title}\n${post.text}`);
    const bands = bandKeys(signature).map((k) => `${this.prefix}:lsh:b:${k}`);
    const candidates = await this.candidates(bands, post.id);
    const decision = decideCluster({ signature, at }, candidates, this.opts.windowMs);
    const eventId = decision.kind === 'join' ? decision.eventId : eventIdOf(post.id);

    const ttl = Math.ceil(this.opts.windowMs / 1000);
    const m = this.redis.multi();
    m.hset(postKey, { sig: encodeSignature(signature), event: eventId, at: String(at) });
    m.expire(postKey, ttl);
    for (const band of bands) {
      m.sadd(band, post.id);
      m.expire(band, ttl);
    }
    await m.exec();
    return { event: await this.addToEvent(eventId, post, at), decision };
  }

  private async candidates(bands: string[], self: string): Promise<ClusterCandidate[]> {
    if (bands.length === 0) return [];
    const p = this.redis.pipeline();
    for (const band of bands) p.smembers(band);
    const members = (await p.exec()) ?? [];
    const frequency = new Map<string, number>();
    for (const [, ids] of members) for (const id of (ids as string[] | null) ?? []) if (id !== self) frequency.set(id, (frequency.get(id) ?? 0) + 1);
    const ids = [...frequency].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, this.maxCandidates).map(([id]) => id);
    if (ids.length === 0) return [];
    const q = this.redis.pipeline();
    for (const id of ids) q.hmget(`${this.prefix}:lsh:p:${id}`, 'sig', 'event', 'at');
    const rows = (await q.exec()) ?? [];
    return rows.flatMap(([, row], i) => {
      const [sig, event, at] = (row as (string | null)[] | null) ?? [];
      return sig && event && at ? [{ postId: ids[i]!, eventId: event, signature: decodeSignature(sig), at: Number(at) }] : [];
    });
  }

  private async addToEvent(eventId: string, post: ClusterablePost, at: number): Promise<EventRecord> {
    const base = `${this.prefix}:event:{${eventId}}`;
    // Event state outlives the band index so a late post of a quiet event still finds its counts.
    const ttl = Math.ceil((this.opts.windowMs * 4) / 1000);
    const raw = (await (this.redis as unknown as EventAddCommand).qsEventAdd(
      base,
      `${base}:posts`,
      `${base}:ids`,
      `${base}:sources`,
      `${base}:timeline`,
      post.id,
      String(at),
      post.kind === 'comment' || post.kind === 'message' || post.kind === 'reply' ? '1' : '0',
      post.negative ? '1' : '0',
      (post.title || post.text).slice(0, 120),
      post.sourceId,
      hourOf(at),
      String(ttl),
      String(EVENT_POST_IDS_KEPT),
    )) as [string[], string[], string[], string[]];
    const [stateFlat, ids, sources, timelineFlat] = raw;
    const state = pairs(stateFlat);
    const timeline = Object.entries(pairs(timelineFlat))
      .map(([hour, count]) => ({ hour, count: Number(count) }))
      .sort((a, b) => (a.hour < b.hour ? -1 : 1));
    const postCount = Number(state.posts ?? 0);
    const commentCount = Number(state.comments ?? 0);
    const negativeCount = Number(state.negative ?? 0);
    const lastHourCount = timeline[timeline.length - 1]?.count ?? 0;
    return {
      id: eventId,
      title: state.title ?? '',
      postIds: ids,
      sourceIds: sources.sort(),
      postCount,
      commentCount,
      negativeCount,
      firstSeen: new Date(Number(state.first)).toISOString(),
      lastSeen: new Date(Number(state.last)).toISOString(),
      heat: eventHeat({ postCount, commentCount, negativeCount, lastHourCount }),
      timeline,
      updatedAt: new Date().toISOString(),
      version: Number(state.version ?? 1),
    };
  }
}

export function eventIdOf(openingPostId: string): string {
  return `ev-${createHash('sha256').update(openingPostId).digest('hex').slice(0, 24)}`;
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

interface EventAddCommand {
  qsEventAdd(...args: string[]): Promise<unknown>;
}

/**
 * KEYS: state hash, member set, kept-ids list, sources set, timeline hash.
 * ARGV: post id, time ms, is comment, is negative, title, source id, hour, ttl s, ids kept.
 * Counts the post only when it is new to the event; always refreshes expiry; returns the state.
 */
const EVENT_ADD_LUA = `
local state, members, ids, sources, timeline = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local at = tonumber(ARGV[2])
if redis.call('SADD', members, ARGV[1]) == 1 then
  redis.call('HINCRBY', state, 'posts', 1)
  redis.call('HINCRBY', state, 'comments', tonumber(ARGV[3]))
  redis.call('HINCRBY', state, 'negative', tonumber(ARGV[4]))
  redis.call('HINCRBY', state, 'version', 1)
  redis.call('HSETNX', state, 'title', ARGV[5])
  local first = tonumber(redis.call('HGET', state, 'first'))
  if first == nil or at < first then redis.call('HSET', state, 'first', ARGV[2]) end
  local last = tonumber(redis.call('HGET', state, 'last'))
  if last == nil or at > last then redis.call('HSET', state, 'last', ARGV[2]) end
  redis.call('SADD', sources, ARGV[6])
  redis.call('HINCRBY', timeline, ARGV[7], 1)
  if redis.call('LLEN', ids) < tonumber(ARGV[9]) then redis.call('RPUSH', ids, ARGV[1]) end
end
local ttl = tonumber(ARGV[8])
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
return { redis.call('HGETALL', state), redis.call('LRANGE', ids, 0, -1), redis.call('SMEMBERS', sources), redis.call('HGETALL', timeline) }
`;
