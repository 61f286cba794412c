import { CollectedItemSchema, type CollectedItem } from '../../core/posts/collected-item.js';
import type { IndexedPost, NormalizedPost } from '../../core/posts/post.js';
import type { AlertHandOver, EventRecord } from '../../core/events/event.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';
import { InvalidInputError } from '../../core/errors.js';
import { decidePendingDeletion, type DeletionDecision, type PendingDeletionDecision } from '../../core/posts/post-change.js';
import { isLastWording, logOf, pendingLogOf } from '../../core/posts/post-observations.js';
import type { PostStore } from '../elasticsearch/es-post-store.js';
import type { PostClassification } from './classify.js';
import { decideDedupe, noteSighting, seenOfIndexed, type DedupeDecision, type SeenPost, type SeenStore } from './dedupe.js';
import { normalizeItem, postIdOf } from './normalize.js';
import type { PostClaim, PostClaims } from './post-claims.js';
import { changeOfRevision, deletionChangeOf, historyOfIngest, keepEarlierWording, logIngest, noteDeletion, tellIngest, type DeletionDeps, type KnownOfPost } from './post-revisions.js';
import type { Segmentation } from './segment.js';

export interface IngestDeps extends DeletionDeps {
  /** One worker at a time per post, across jobs and processes. */
  claims: PostClaims;
  seen: SeenStore;
  /** Resolves when this item's turn for the CPU-bound stages has come (`cpu-turns.ts`). */
  cpuTurn(): Promise<void>;
  segment(text: string): Segmentation;
  classify(post: { title: string; text: string }): PostClassification;
  /** Assigns the post to an event (MinHash LSH) and returns the event's new state. */
  cluster(post: IndexedPost): Promise<EventRecord>;
  /** Counts the post towards its keys' baselines; returns the early signals it raises. */
  detectSignals(post: IndexedPost): Promise<SignalRecord[]>;
  /** Durable writes; `posts.upsert` resolves with the index the post lives in. */
  posts: PostStore;
  writeEvent(event: EventRecord): Promise<void>;
  writeSignal(signal: SignalRecord): Promise<void>;
  /** Hands a post that got a level (lexicon hits, a fired scheme, personal data) to alert evaluation (the `alert` queue). */
  handOver(handOver: AlertHandOver): Promise<void>;
  now(): Date;
}

export interface IngestOutcome {
  postId: string;
  /** For a deletion: whether the indexed post was marked (its text is kept), already was, or a tombstone waits for its ingest. */
  decision: DedupeDecision | DeletionDecision;
  /** A new post that had a pending tombstone: indexed and marked deleted, or back since. */
  pendingDeletion?: Exclude<PendingDeletionDecision, 'none'>;
  /** A stale item whose words were new to the post: kept among its versions where they belong. */
  keptAsVersion?: true;
  /** A stale wording with a level: handed over to alert evaluation, as it would have been in order; or a duplicate with a level whose seen record was recovered (its hand-over may have been lost with Redis). */
  handedOver?: true;
  /** A stale wording the post had when it was found gone (its job ran after the deletion): indexed as the deleted post's wording. */
  wordingWhenDeleted?: true;
  hits: number;
  eventId?: string;
  signals?: number;
}

/**
 * The whole ingest path on one screen: normalize → claim → dedupe → segment → classify → index →
 * cluster → hand over. The event is assigned just before the write so the post carries its
 * `eventId`, and the post, its event and any signal go to Elasticsearch together in one bulk round;
 * every step is idempotent, so a retry after a failed write re-does nothing twice. An item (or a
 * deletion) is processed under its post's claim, from the seen lookup to `seen.remember`, so two
 * copies in flight at once are processed one after the other and the second finds the first's
 * work. The job is acknowledged only after every write resolved (durably indexed) and the post is
 * remembered as seen. Before each write that must be the holder's alone (the post, its hand-over,
 * `seen.remember`) the claim is checked: one that ran out fails the item retryably (`claim_lost`).
 */
export interface IngestPath {
  (raw: unknown): Promise<IngestOutcome>;
  /**
   * The items of a batch job about to be ingested: where the posts without a seen record live is
   * looked up now, in one round, so that an item's own lookup (see `ingestPost`) finds it done.
   */
  lookAhead(items: readonly unknown[]): void;
}

/** How long a location looked up ahead is used (a batch's items start within seconds of its job). */
const LOOKED_AHEAD_MS = 10_000;
/** Locations held ahead at most: beyond what the items in flight will soon ask for, a backlog's jobs look for themselves. */
const LOOKED_AHEAD_MAX = 1_000;

export function createIngestPath(deps: IngestDeps): IngestPath {
  const ahead = new Map<string, { at: number; where: Promise<string | undefined> }>();
  const locate = (postId: string): Promise<string | undefined> => {
    const hit = ahead.get(postId);
    ahead.delete(postId);
    return hit && Date.now() - hit.at < LOOKED_AHEAD_MS ? hit.where : deps.posts.locate(postId);
  };
  const lookAhead = (items: readonly unknown[]): void => {
    if (ahead.size >= LOOKED_AHEAD_MAX) return;
    const ids = items.flatMap((raw) => {
      const item = raw as Partial<CollectedItem> | null;
      return item && typeof item.sourceId === 'string' && typeof item.kind === 'string' && item.change !== 'deleted' ? [postIdOf(item as CollectedItem)] : [];
    });
    deps.seen.unremembered(ids).then(
      (missing) => {
        const now = Date.now();
        for (const [id, { at }] of ahead) if (now - at >= LOOKED_AHEAD_MS) ahead.delete(id);
        for (const id of missing) {
          const where = deps.posts.locate(id);
          where.catch(() => undefined);
          ahead.set(id, { at: now, where });
        }
      },
      () => undefined, // each item looks for itself
    );
  };
  const ingest = async (raw: unknown): Promise<IngestOutcome> => {
    const parsed = CollectedItemSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new InvalidInputError(`collected item rejected: ${why}`, 'invalid_item');
    }
    const id = postIdOf(parsed.data);
    // The seen record and any pending tombstone are read in the claim's round trip (see `claimAndRead`).
    const { claim, value: known } = await deps.claims.claimAndRead(id, async () => {
      const [seen, pending] = await Promise.all([deps.seen.lookup(id), deps.pendingDeletions.get(id)]);
      return { seen, pending };
    });
    try {
      // A deletion carries no text: the indexed post is marked, never overwritten, so what was said stays.
      if (parsed.data.change === 'deleted') return { ...(await noteDeletion(deps, parsed.data, claim, known)), hits: 0 };
      return await ingestPost(deps, normalizeItem(parsed.data), claim, known, locate);
    } finally {
      // A claim that cannot be given up now frees the post when its lease runs out.
      await claim.release().catch(() => undefined);
    }
  };
  return Object.assign(ingest, { lookAhead });
}

async function ingestPost(deps: IngestDeps, post: NormalizedPost, claim: PostClaim, known: KnownOfPost, locate: (postId: string) => Promise<string | undefined>): Promise<IngestOutcome> {
  // No seen record is not proof the post is new: its record expired, or Redis lost it. Recovered from
  // the indexed document, an old post re-crawled is a duplicate (or an edit of what is indexed), never
  // a new post overwriting its history and handed over to the alerts again.
  const locating = known.seen ? undefined : locate(post.id);
  locating?.catch(() => undefined);
  // While Elasticsearch looks, the words are cut and classified as for a new post (most are): pure
  // work, used unless the post turns out to be indexed with these words already.
  let early: { segmentation: Segmentation; classification: PostClassification } | undefined;
  if (locating) {
    await deps.cpuTurn();
    early = { segmentation: deps.segment(`${post.title}\n${post.text}`), classification: deps.classify(post) };
  }
  const located = await locating;
  const recovered = located === undefined ? undefined : await deps.posts.get(post.id, located);
  const seen = known.seen ?? (recovered ? seenOfIndexed(recovered, located!) : null);
  const pending = known.pending;
  const decision = decideDedupe(seen, post);
  if (decision === 'duplicate') {
    // Seen again later: a delayed deletion or wording observed in between is then stale, not current.
    // Seen earlier than ingested so far: the post may have stood with these words since before it was first seen.
    const sighting = noteSighting(seen!, post.collectedAt);
    if (sighting && Date.parse(post.collectedAt) < Date.parse(seen!.observedAt!)) await keepEarlierWording(deps, post, seen!, await deps.posts.get(post.id, seen!.home), claim);
    // Recovered after Redis lost the post's record, its hand-over may have been lost with the queue:
    // handed over again (the alert's id comes from the event and rule, so one already raised only merges it).
    const handedOver = recovered?.level !== undefined && recovered.eventId !== undefined;
    if (handedOver) {
      claim.assertHeld();
      await deps.handOver({ postId: post.id, index: located!, eventId: recovered.eventId!, contentHash: recovered.contentHash });
    }
    if (sighting) {
      claim.assertHeld();
      await deps.seen.remember(post.id, sighting);
    }
    return { postId: post.id, decision, hits: 0, ...(handedOver ? { handedOver } : {}) };
  }
  // A stale item is placed by the post as indexed: among its versions, or, when the post's log replayed
  // ends on it (the wording a deleted post had when it went), as that post's wording (the deletion stays).
  const indexedNow = decision === 'stale' ? await deps.posts.get(post.id, seen!.home) : undefined;
  // A tombstone only waits for a post never indexed; one left by a crash after `remember` is ignored.
  const tombstones = seen ? undefined : pending;
  const log = logIngest(seen, post, tombstones);
  const wordingWhenDeleted = indexedNow !== undefined && isLastWording(indexedNow, post, log ?? logOf(seen));
  if (decision === 'stale' && !wordingWhenDeleted) return { postId: post.id, decision, hits: 0, ...(await ingestStaleWording(deps, post, seen!, indexedNow, claim)) };
  const pendingDeletion = decidePendingDeletion(tombstones?.at(-1), post.collectedAt);
  // Where the post already lives: remembered, located above, or (a record of before homes were kept) looked up while the stages below run.
  const home = seen?.home !== undefined || !seen ? Promise.resolve<string | undefined>(seen?.home ?? located) : deps.posts.locate(post.id);
  home.catch(() => undefined);

  // Segmentation, classification and MinHash (in `cluster`, up to its Redis call) run in this item's turn.
  if (!early) await deps.cpuTurn();
  const segmentation = early?.segmentation ?? deps.segment(`${post.title}\n${post.text}`);
  const classification = early?.classification ?? deps.classify(post);
  const at = post.publishedAt ?? seen?.at ?? post.collectedAt;
  const classified: IndexedPost = { ...post, at, ...segmentation, ...classification, indexedAt: deps.now().toISOString() };

  const event = await deps.cluster(classified);
  const indexed: IndexedPost = { ...classified, eventId: event.id };
  const signals = await deps.detectSignals(indexed);
  const where = await home;
  // An edit keeps the earlier wording, a return from deletion keeps the deletion (read real-time where it lives).
  const previous = decision === 'changed' ? await deps.posts.get(post.id, where) : indexedNow;
  const { revision, history } = historyOfIngest(previous, indexed, log, wordingWhenDeleted || tombstones !== undefined);
  Object.assign(indexed, history);
  // A post alone is not yet an event: the event is written from its second post on.
  claim.assertHeld();
  const [index] = await Promise.all([
    deps.posts.upsert(indexed, where),
    ...(event.postCount > 1 ? [deps.writeEvent(event)] : []),
    ...signals.map((s) => deps.writeSignal(s)),
  ]);

  claim.assertHeld();
  if (indexed.level !== undefined) await deps.handOver({ postId: post.id, index, eventId: event.id, contentHash: post.contentHash });
  const change = indexed.deleted ? deletionChangeOf(indexed, indexed.deleted) : changeOfRevision(indexed, revision);
  // A wording ingested late, or after tombstones, tells and counts what the order observed would have (a new post: only `change`).
  const late = wordingWhenDeleted || tombstones ? { before: tombstones ? pendingLogOf(tombstones) : logOf(seen), after: log } : undefined;
  const deletionSignals = await tellIngest(deps, indexed, late, change);
  // A deleted post keeps its last observation (a later crawl may have found it still gone).
  const lastObservedAt = wordingWhenDeleted ? seen!.observedAt! : (tombstones?.at(-1)?.crawl.at ?? indexed.deleted?.crawl.at);
  const deletion = indexed.deleted ? { deletedAt: indexed.deleted.at, observedAt: lastObservedAt! } : { observedAt: post.collectedAt };
  claim.assertHeld();
  await deps.seen.remember(post.id, { hash: post.contentHash, home: index, at, ...deletion, ...(log ?? logOf(seen)) });
  if (tombstones) await deps.pendingDeletions.drop(post.id);
  return {
    postId: post.id,
    decision,
    ...(pendingDeletion !== 'none' ? { pendingDeletion } : {}),
    ...(wordingWhenDeleted ? { wordingWhenDeleted } : {}),
    hits: indexed.hits.length,
    eventId: event.id,
    signals: signals.length + deletionSignals,
  };
}

/**
 * A wording observed before the post's current one, ingested after it: classified as an in-order
 * ingest would have, kept among the versions with what classify found, and, when it has a level,
 * handed over to alert evaluation, which reads that version (`wordingOf`): a sensitive wording
 * edited away before its job ran still raises its alert with its own words.
 */
async function ingestStaleWording(deps: IngestDeps, post: NormalizedPost, seen: SeenPost, current: IndexedPost | undefined, claim: PostClaim): Promise<Pick<IngestOutcome, 'keptAsVersion' | 'handedOver'>> {
  const classified = { ...post, ...deps.classify(post) };
  const kept = await keepEarlierWording(deps, classified, seen, current, claim);
  if (kept.log) {
    claim.assertHeld();
    await deps.seen.remember(post.id, { ...seen, ...kept.log });
  }
  if (!kept.holds || classified.level === undefined) return kept.changed ? { keptAsVersion: true } : {};
  claim.assertHeld();
  await deps.handOver({ postId: post.id, ...kept.holds, contentHash: post.contentHash });
  return { ...(kept.changed ? { keptAsVersion: true } : {}), handedOver: true };
}
