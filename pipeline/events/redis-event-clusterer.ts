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
    if (!('qsEventAdd' in this.redis)) this.redis.defineCommand('qsEventAdd', { lua: EVENT_ADD_LUA });
    if (!('qsLshCandidates' in this.redis)) this.redis.defineCommand('qsLshCandidates', { lua: LSH_CANDIDATES_LUA });
    this.cmd = this.redis as unknown as ClusterCommands;
  }

  private readonly cmd: ClusterCommands;

  async assign(post: ClusterablePost): Promise<ClusterOutcome> {
    const at = Date.parse(post.at);
    const postKey = `${this.prefix}:lsh:p:${post.id}`;
    const signature = minhash(`${post.title}\n${post.text}`);
    const bands = bandKeys(signature).map((k) => `${this.prefix}:lsh:b:${k}`);
    // One round trip: the post's event if it has one, else its band mates (most shared bands first).
    const found = (await this.cmd.qsLshCandidates(1 + bands.length, postKey, ...bands, post.id, String(this.maxCandidates), `${this.prefix}:lsh:p:`)) as
      | [string]
      | (string | null)[][];
    if (typeof found[0] === 'string') {
      const known = found[0];
      return { event: await this.commit(known, post, at, postKey, [], ''), decision: { kind: 'known', reason: 'already-assigned', eventId: known } };
    }
    const candidates: ClusterCandidate[] = (found as (string | null)[][]).flatMap(([id, sig, event, candidateAt]) =>
      id && sig && event && candidateAt ? [{ postId: id, eventId: event, signature: decodeSignature(sig), at: Number(candidateAt) }] : [],
    );
    const decision = decideCluster({ signature, at }, candidates, this.opts.windowMs);
    const eventId = decision.kind === 'join' ? decision.eventId : eventIdOf(post.id);
    return { event: await this.commit(eventId, post, at, postKey, bands, encodeSignature(signature)), decision };
  }

  /** One round trip: records the post in its bands (when `sig` is given) and adds it to the event. */
  private async commit(eventId: string, post: ClusterablePost, at: number, postKey: string, bands: string[], sig: string): Promise<EventRecord> {
    const base = `${this.prefix}:event:{${eventId}}`;
    const bandTtl = Math.ceil(this.opts.windowMs / 1000);
    // Event state outlives the band index so a late post of a quiet event still finds its counts.
    const eventTtl = Math.ceil((this.opts.windowMs * 4) / 1000);
    const raw = (await this.cmd.qsEventAdd(
      6 + bands.length,
      base,
      `${base}:posts`,
      `${base}:ids`,
      `${base}:sources`,
      `${base}:timeline`,
      postKey,
      ...bands,
      post.id,
      String(at),
      post.kind === 'comment' || post.kind === 'message' || post.kind === 'reply' ? '1' : '0',
      post.negative ? '1' : '0',
      (post.title || post.text).slice(0, 120),
      post.sourceId,
      hourOf(at),
      String(eventTtl),
      String(EVENT_POST_IDS_KEPT),
      eventId,
      sig,
      String(bandTtl),
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

interface ClusterCommands {
  qsEventAdd(numKeys: number, ...args: string[]): Promise<unknown>;
  qsLshCandidates(numKeys: number, ...args: string[]): Promise<unknown>;
}

/**
 * KEYS: the post's key, then its band keys. ARGV: post id, max candidates, post key prefix.
 * Returns `{ event }` when the post was assigned before, else up to max candidates as
 * `{ id, sig, event, at }`, the ones sharing most bands first. Reads candidate keys it derives
 * (single-node Redis; a Redis Cluster would need hash tags per band).
 */
const LSH_CANDIDATES_LUA = `
local known = redis.call('HGET', KEYS[1], 'event')
if known then return { known } end
local freq = {}
for i = 2, #KEYS do
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if id ~= ARGV[1] then freq[id] = (freq[id] or 0) + 1 end
  end
end
local ids = {}
for id, n in pairs(freq) do ids[#ids + 1] = id end
table.sort(ids, function(a, b) if freq[a] ~= freq[b] then return freq[a] > freq[b] end return a < b end)
local out = {}
for i = 1, math.min(#ids, tonumber(ARGV[2])) do
  local row = redis.call('HMGET', ARGV[3] .. ids[i], 'sig', 'event', 'at')
  out[#out + 1] = { ids[i], row[1], row[2], row[3] }
end
return out
`;

/**
 * KEYS: state hash, member set, kept-ids list, sources set, timeline hash, the post's key, then its
 * band keys (none when the post was assigned before).
 * ARGV: post id, time ms, is comment, is negative, title, source id, hour, event ttl s, ids kept,
 * event id, signature, band ttl s.
 * Records the post in its bands; counts it only when it is new to the event; refreshes expiry;
 * returns the state.
 */
const EVENT_ADD_LUA = `
local state, members, ids, sources, timeline = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local at = tonumber(ARGV[2])
if #KEYS > 6 then
  local bandTtl = tonumber(ARGV[12])
  redis.call('HSET', KEYS[6], 'sig', ARGV[11], 'event', ARGV[10], 'at', ARGV[2])
  redis.call('EXPIRE', KEYS[6], bandTtl)
  for i = 7, #KEYS do
    redis.call('SADD', KEYS[i], ARGV[1])
    redis.call('EXPIRE', KEYS[i], bandTtl)
  end
end
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
