import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { decideCluster, eventHeat, hourOf, type ClusterCandidate, type ClusterDecision } from '../../core/events/cluster.js';
import { EVENT_POST_IDS_KEPT, eventTitleOf, type EventRecord } from '../../core/events/event.js';
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
 * Assigns posts to events with MinHash LSH, the band index shared by every worker in Redis: one hash
 * per time slice of the window's length, `<p>:lsh:s:<slice>`, by the post's own time, whose fields
 * are band keys and whose values the ids of the latest posts in that band bucket (at most
 * `BUCKET_IDS_KEPT`, space-separated); `<p>:lsh:p:<post id>` holds a post's signature, event and
 * time. A post looks in its own slice and the two beside it (every post within the window of its
 * time is there) with one HMGET each and records itself with one HSET, where a set per band bucket
 * took 32 SMEMBERS, 32 SADD and 32 EXPIRE. Event state under `<p>:event:{<id>}` is updated by one
 * Lua script, which counts a post once however often it is re-processed. Port-free on purpose: it
 * is the adapter.
 *
 * A post without band mates opens its event in the same script that found none, so of two
 * near-duplicates in flight at once the second sees the first. Left out: two that both find other
 * band mates (below the threshold) and decide at the same instant may open two events; the next
 * post of the story joins the older one.
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
    if (!('qsEventAssign' in this.redis)) this.redis.defineCommand('qsEventAssign', { lua: EVENT_ASSIGN_LUA });
    this.cmd = this.redis as unknown as ClusterCommands;
  }

  private readonly cmd: ClusterCommands;

  async assign(post: ClusterablePost): Promise<ClusterOutcome> {
    const at = Date.parse(post.at);
    const postKey = `${this.prefix}:lsh:p:${post.id}`;
    const signature = minhash(`${post.title}\n${post.text}`);
    const bands = bandKeys(signature);
    const slices = this.slicesAround(at);
    const sig = encodeSignature(signature);
    const opening = eventIdOf(post.id);
    // One round trip for most posts: a post seen before is added to its event again, a post with no
    // band mates opens its own event at once; only a post with band mates comes back for a decision.
    const found = JSON.parse(await this.cmd.qsEventAssign(
      4,
      postKey,
      ...slices,
      post.id,
      String(this.maxCandidates),
      `${this.prefix}:lsh:p:`,
      `${this.prefix}:event:{`,
      opening,
      ...this.addArgs(post, at, sig),
      ...bands,
    )) as [string, ...unknown[]];
    if (found[0] === 'known') {
      const [, eventId, reply] = found as [string, string, EventReply];
      return { event: toEvent(eventId, reply), decision: { kind: 'known', reason: 'already-assigned', eventId } };
    }
    if (found[0] === 'opened') {
      const [, eventId, reply] = found as [string, string, EventReply];
      return { event: toEvent(eventId, reply), decision: decideCluster({ signature, at }, [], this.opts.windowMs) };
    }
    const candidates: ClusterCandidate[] = listOf(found[1] as (string | false)[][]).flatMap(([id, candidateSig, event, candidateAt]) =>
      id && candidateSig && event && candidateAt ? [{ postId: id, eventId: event, signature: decodeSignature(candidateSig), at: Number(candidateAt) }] : [],
    );
    const decision = decideCluster({ signature, at }, candidates, this.opts.windowMs);
    const eventId = decision.kind === 'join' ? decision.eventId : opening;
    return { event: await this.commit(eventId, post, at, postKey, slices, bands, sig), decision };
  }

  /** The slice keys before, of and after the post's time: `[previous, own, next]`. */
  private slicesAround(at: number): [string, string, string] {
    const slice = Math.floor(at / this.opts.windowMs);
    const key = (n: number) => `${this.prefix}:lsh:s:${n}`;
    return [key(slice - 1), key(slice), key(slice + 1)];
  }

  /** ARGV of the add-to-event step after the event id: time, is comment, is negative, title, source, hour, event ttl, ids kept, signature, band ttl, bucket ids kept. */
  private addArgs(post: ClusterablePost, at: number, sig: string): string[] {
    // A slice is written while posts of its time arrive and read by posts up to a window later.
    const bandTtl = Math.ceil((this.opts.windowMs * 2) / 1000);
    // Event state outlives the band index so a late post of a quiet event still finds its counts.
    const eventTtl = Math.ceil((this.opts.windowMs * 4) / 1000);
    return [
      String(at),
      post.kind === 'comment' || post.kind === 'message' || post.kind === 'reply' ? '1' : '0',
      post.negative ? '1' : '0',
      eventTitleOf(post),
      post.sourceId,
      hourOf(at),
      String(eventTtl),
      String(EVENT_POST_IDS_KEPT),
      sig,
      String(bandTtl),
      String(BUCKET_IDS_KEPT),
    ];
  }

  /** One round trip: records the post in its bands and adds it to the event. */
  private async commit(eventId: string, post: ClusterablePost, at: number, postKey: string, slices: string[], bands: string[], sig: string): Promise<EventRecord> {
    const reply = JSON.parse(await this.cmd.qsEventAdd(4, postKey, ...slices, post.id, `${this.prefix}:event:{`, eventId, ...this.addArgs(post, at, sig), ...bands)) as EventReply;
    return toEvent(eventId, reply);
  }
}

/** A bucket's value (space-separated ids, or false) with `id` appended once, the latest `kept` kept. */
const WITH_ID_LUA = `
local function withId(v, id, kept)
  if not v then return id end
  if string.find(' ' .. v .. ' ', ' ' .. id .. ' ', 1, true) then return v end
  v = v .. ' ' .. id
  local _, spaces = string.gsub(v, ' ', ' ')
  if spaces >= kept then v = string.sub(v, string.find(v, ' ', 1, true) + 1) end
  return v
end
`;

/**
 * Moves the band index of the layout before time slices (a set of post ids per band bucket,
 * `<p>:lsh:b:<band key>`) into the slice hashes, each id into the slice of its post's time, then
 * drops the sets: after an upgrade, near-duplicates of an event opened before it still find it.
 * Safe beside running workers (each set moves in one script) and to run again; returns the sets moved.
 */
export async function adoptLegacyBandSets(redis: Redis, prefix: string, windowMs: number): Promise<number> {
  if (!('qsAdoptBandSet' in redis)) redis.defineCommand('qsAdoptBandSet', { numberOfKeys: 1, lua: ADOPT_BAND_SET_LUA });
  const adopt = (redis as unknown as { qsAdoptBandSet(key: string, ...args: string[]): Promise<number> }).qsAdoptBandSet.bind(redis);
  const legacy = `${prefix}:lsh:b:`;
  const ttl = String(Math.ceil((windowMs * 2) / 1000));
  let moved = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${legacy}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      await adopt(key, `${prefix}:lsh:p:`, `${prefix}:lsh:s:`, String(windowMs), String(BUCKET_IDS_KEPT), key.slice(legacy.length), ttl);
      moved += 1;
    }
  } while (cursor !== '0');
  return moved;
}

/**
 * KEYS: one legacy band set. ARGV: post key prefix, slice key prefix, window ms, ids kept, band key,
 * slice ttl. Appends each member with a known time to its slice's field for the band (latest kept).
 */
const ADOPT_BAND_SET_LUA = `${WITH_ID_LUA}
local window, kept = tonumber(ARGV[3]), tonumber(ARGV[4])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local at = tonumber(redis.call('HGET', ARGV[1] .. id, 'at'))
  if at then
    local slice = ARGV[2] .. string.format('%d', math.floor(at / window))
    redis.call('HSET', slice, ARGV[5], withId(redis.call('HGET', slice, ARGV[5]), id, kept))
    if redis.call('TTL', slice) < tonumber(ARGV[6]) then redis.call('EXPIRE', slice, ARGV[6]) end
  end
end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * An event as the band index holds it now (real-time, for as long as its state lives: four event
 * windows), or undefined. For readers that cannot wait for Elasticsearch: a one-post event has no
 * document, and its post may not be searchable yet when its alert is already on the wall.
 */
export async function readEventState(redis: Redis, prefix: string, eventId: string): Promise<EventRecord | undefined> {
  const base = `${prefix}:event:{${eventId}}`;
  const replies = await redis.multi().hgetall(base).lrange(`${base}:ids`, 0, -1).smembers(`${base}:sources`).hgetall(`${base}:timeline`).exec();
  if (!replies) return undefined;
  for (const [err] of replies) if (err) throw err;
  const [state, ids, sources, timeline] = replies.map(([, value]) => value) as [Record<string, string>, string[], string[], Record<string, string>];
  if (!state.posts) return undefined;
  return toEvent(eventId, [Object.entries(state).flat(), ids, sources, Object.entries(timeline).flat()]);
}

/** The event's state hash, kept post ids, sources and timeline hash, as the scripts return them. */
type EventReply = [string[], string[], string[], string[]];

function toEvent(eventId: string, [stateFlat, idList, sourceList, timelineFlat]: EventReply): EventRecord {
  const state = pairs(listOf(stateFlat));
  const [ids, sources] = [listOf(idList), listOf(sourceList)];
  const timeline = Object.entries(pairs(listOf(timelineFlat)))
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

/**
 * Post ids kept per band bucket and slice, the latest: near-duplicates share many of their 32 bands,
 * so the latest few of an event in each are enough to find it, and a bucket that many unrelated
 * posts fall into (a boilerplate line) stays small.
 */
export const BUCKET_IDS_KEPT = 16;

export function eventIdOf(openingPostId: string): string {
  return `ev-${createHash('sha256').update(openingPostId).digest('hex').slice(0, 24)}`;
}

/** The scripts reply in JSON (one string to decode instead of one value per field and id); Lua's JSON writes an empty list as `{}`. */
function listOf<T>(value: T[] | Record<string, never>): T[] {
  return Array.isArray(value) ? value : [];
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

interface ClusterCommands {
  qsEventAdd(numKeys: number, ...args: string[]): Promise<string>;
  qsEventAssign(numKeys: number, ...args: string[]): Promise<string>;
}

/**
 * Adds a post to an event (shared by both scripts). `bands`: also record the post and its signature
 * in its band buckets of its own slice, KEYS[3] (false when the post was assigned before): the
 * fields named from ARGV `b` on, each value the latest ids kept, space-separated. Counts the post
 * only when it is new to the event; refreshes expiry; returns the state, kept ids, sources and
 * timeline. `a` holds the add arguments from `i` on: time, is comment, is negative, title, source,
 * hour, event ttl, ids kept, signature, band ttl, bucket ids kept. Reads keys it derives
 * (single-node Redis; a Redis Cluster would need hash tags).
 */
const ADD_TO_EVENT_LUA = `${WITH_ID_LUA}
local function recordBands(slice, postId, fields, kept, ttl)
  if #fields == 0 then return end
  local values = redis.call('HMGET', slice, unpack(fields))
  local pairs_ = {}
  for k = 1, #fields do
    pairs_[#pairs_ + 1] = fields[k]
    pairs_[#pairs_ + 1] = withId(values[k], postId, kept)
  end
  redis.call('HSET', slice, unpack(pairs_))
  redis.call('EXPIRE', slice, ttl)
end
local function addToEvent(eventPrefix, eventId, postKey, postId, bands, a, i)
  local base = eventPrefix .. eventId .. '}'
  local state, members, ids, sources, timeline = base, base .. ':posts', base .. ':ids', base .. ':sources', base .. ':timeline'
  local atText = a[i]
  local at = tonumber(atText)
  if bands then
    local bandTtl = tonumber(a[i + 9])
    redis.call('HSET', postKey, 'sig', a[i + 8], 'event', eventId, 'at', atText)
    redis.call('EXPIRE', postKey, bandTtl)
    recordBands(KEYS[3], postId, bands, tonumber(a[i + 10]), bandTtl)
  end
  if redis.call('SADD', members, postId) == 1 then
    redis.call('HINCRBY', state, 'posts', 1)
    redis.call('HINCRBY', state, 'comments', tonumber(a[i + 1]))
    redis.call('HINCRBY', state, 'negative', tonumber(a[i + 2]))
    redis.call('HINCRBY', state, 'version', 1)
    redis.call('HSETNX', state, 'title', a[i + 3])
    local first = tonumber(redis.call('HGET', state, 'first'))
    if first == nil or at < first then redis.call('HSET', state, 'first', atText) end
    local last = tonumber(redis.call('HGET', state, 'last'))
    if last == nil or at > last then redis.call('HSET', state, 'last', atText) end
    redis.call('SADD', sources, a[i + 4])
    redis.call('HINCRBY', timeline, a[i + 5], 1)
    if redis.call('LLEN', ids) < tonumber(a[i + 7]) then redis.call('RPUSH', ids, postId) end
  end
  local ttl = tonumber(a[i + 6])
  for _, key in ipairs({ state, members, ids, sources, timeline }) do redis.call('EXPIRE', key, ttl) end
  return { redis.call('HGETALL', state), redis.call('LRANGE', ids, 0, -1), redis.call('SMEMBERS', sources), redis.call('HGETALL', timeline) }
end
local function bandFields(from)
  local fields = {}
  for k = from, #ARGV do fields[#fields + 1] = ARGV[k] end
  return fields
end
`;

/**
 * KEYS: the post's key, then the slices before, of and after its time. ARGV: post id, max
 * candidates, post key prefix, event key prefix, the event id the post would open, then the add
 * arguments (11), then the post's band keys.
 * Returns `{ 'known', event, state }` when the post was assigned before (it is added again, which
 * counts nothing twice), `{ 'opened', event, state }` when no other post shares a band (it opens
 * its own event), else `{ 'candidates', rows }` with up to max candidates as `{ id, sig, event, at }`,
 * the ones sharing most bands first, for the caller to decide and then run `qsEventAdd`.
 */
const EVENT_ASSIGN_LUA = `${ADD_TO_EVENT_LUA}
local known = redis.call('HGET', KEYS[1], 'event')
if known then return cjson.encode({ 'known', known, addToEvent(ARGV[4], known, KEYS[1], ARGV[1], false, ARGV, 6) }) end
local fields = bandFields(17)
local freq = {}
local any = false
if #fields > 0 then
  for s = 2, 4 do
    for _, v in ipairs(redis.call('HMGET', KEYS[s], unpack(fields))) do
      if v then
        for id in string.gmatch(v, '%S+') do
          if id ~= ARGV[1] then freq[id] = (freq[id] or 0) + 1; any = true end
        end
      end
    end
  end
end
if not any then return cjson.encode({ 'opened', ARGV[5], addToEvent(ARGV[4], ARGV[5], KEYS[1], ARGV[1], fields, ARGV, 6) }) end
local ids = {}
for id, n in pairs(freq) do ids[#ids + 1] = id end
table.sort(ids, function(a, b) if freq[a] ~= freq[b] then return freq[a] > freq[b] end return a < b end)
local out = {}
for i = 1, math.min(#ids, tonumber(ARGV[2])) do
  local row = redis.call('HMGET', ARGV[3] .. ids[i], 'sig', 'event', 'at')
  out[#out + 1] = { ids[i], row[1], row[2], row[3] }
end
return cjson.encode({ 'candidates', out })
`;

/**
 * KEYS: the post's key, then the slices before, of and after its time. ARGV: post id, event key
 * prefix, event id, then the add arguments (11), then the post's band keys. Records the post in its
 * bands and adds it to the event (after a decision on candidates).
 */
const EVENT_ADD_LUA = `${ADD_TO_EVENT_LUA}
return cjson.encode(addToEvent(ARGV[2], ARGV[3], KEYS[1], ARGV[1], bandFields(15), ARGV, 4))
`;
