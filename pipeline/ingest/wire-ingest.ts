import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { isNegative, signalKeysOf, type SignalThresholds } from '../../core/signals/early-signal.js';
import type { EventStore, SignalStore } from '../elasticsearch/es-event-store.js';
import type { PostStore } from '../elasticsearch/es-post-store.js';
import { RedisEventClusterer } from '../events/redis-event-clusterer.js';
import type { Queues } from '../queues.js';
import { RedisSignalTracker } from '../signals/redis-signal-tracker.js';
import { RedisSeenStore } from './dedupe.js';
import { RedisPendingDeletions } from './pending-deletions.js';
import { createCpuTurns } from './cpu-turns.js';
import { RedisPostClaims, type PostClaimOptions } from './post-claims.js';
import { createIngestPath, type IngestDeps } from './ingest-path.js';

export interface IngestWiringDeps {
  redis: Redis;
  prefix: string;
  segment: IngestDeps['segment'];
  classify: IngestDeps['classify'];
  posts: PostStore;
  events: EventStore;
  signals: SignalStore;
  queues: Pick<Queues, 'alert'>;
  eventWindowHours: number;
  signalThresholds: SignalThresholds;
  /** How long a post's seen record outlives its last write (default 30 days); a post seen after that is recovered from Elasticsearch. */
  seenRetentionMs?: number;
  /** Lease and wait of the per-post claim (defaults: 30 s, 10 s). */
  claims?: PostClaimOptions;
  now(): Date;
}

/** The ingest path with its Redis adapters, as a worker process runs it (stages and stores come from the composition root). */
export function wireIngest(deps: IngestWiringDeps) {
  const clusterer = new RedisEventClusterer(deps.redis, deps.prefix, { windowMs: deps.eventWindowHours * 3_600_000 });
  const tracker = new RedisSignalTracker(deps.redis, deps.prefix, deps.signalThresholds, deps.now);
  return createIngestPath({
    claims: new RedisPostClaims(deps.redis, deps.prefix, deps.claims),
    seen: new RedisSeenStore(deps.redis, deps.prefix, deps.seenRetentionMs),
    cpuTurn: createCpuTurns(),
    pendingDeletions: new RedisPendingDeletions(deps.redis, deps.prefix),
    segment: deps.segment,
    classify: deps.classify,
    cluster: async (post) =>
      (await clusterer.assign({ id: post.id, title: post.title, text: post.text, sourceId: post.sourceId, kind: post.kind, at: post.at, negative: isNegative(post) }))
        .event,
    detectSignals: (post) => tracker.observe({ id: post.id, at: post.at, negative: isNegative(post), keys: signalKeysOf(post) }),
    posts: deps.posts,
    writeEvent: (event) => deps.events.write(event),
    writeSignal: (signal) => deps.signals.write(signal),
    handOver: async (h) => void (await deps.queues.alert.add('evaluate', h, { jobId: `${h.postId}-${h.contentHash}` })),
    // A position's deletions count under their own scope: a spike of them is an early signal and an alert.
    observeDeletion: (d) => tracker.observe({ id: `deleted:${d.postId}`, at: d.at, negative: false, keys: [{ scope: 'deletions', key: d.sourceId }] }),
    uncountDeletion: (d) => tracker.uncount({ id: `deleted:${d.postId}`, at: d.at, negative: false, keys: [{ scope: 'deletions', key: d.sourceId }] }, d.counted),
    raiseDeletionSpike: async (s) => void (await deps.queues.alert.add('deletion-spike', s, { jobId: `deletion-spike-${s.id}-${s.count}` })),
    handOverChange: async (c) => void (await deps.queues.alert.add('post-change', c, { jobId: `post-change-${c.postId}-${c.change}-${createHash('sha256').update(c.key).digest('hex').slice(0, 16)}` })),
    now: deps.now,
  });
}
