import { randomBytes } from 'node:crypto';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import {
  ChainVerifier,
  GENESIS_HASH,
  buildRecord,
  checkpointSignatureValid,
  signCheckpoint,
  type AuditCheckpoint,
} from '../../core/audit/audit-chain.js';
import { systemActor, type AuditInput, type AuditLog, type AuditOnce, type AuditQuery, type AuditRecord, type AuditVerifyResult, type RecordOnceOutcome } from '../../core/audit/audit-log.js';
import { ConflictError, UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { answeredByElasticsearch, translateEsError } from './es-client.js';
import { RENEW_IF_OWNER } from '../redis/owned-key.js';

type ChainLink = { seq: number; hash: string };
type Head = ChainLink | null;

/** The action of the record that names records appended after a record of their batch that was never stored. */
const CHAIN_FORK = 'audit.chain_fork';

/** How many times a bulk is sent while its outcome stays unknown (the first send and the resends). */
const BULK_SENDS = 3;

export interface EsAuditLogDeps {
  es: Client;
  /** Index of the records (`_id` = sequence number); one shard, so a bulk's creates apply in order. */
  index: string;
  /** Index of the signed checkpoints of the chain head. */
  checkpointIndex: string;
  redis: Redis;
  /** Redis key prefix; the chain head cache, the writer lock and the once-key markers live under `<prefix>:audit:`. */
  prefix: string;
  /** HMAC key for checkpoints, kept outside Elasticsearch (see `loadCheckpointKey`). */
  checkpointKey: Buffer;
  now?: () => Date;
  /** Where a fork of the chain is reported (see the class). */
  log?: Logger;
  /** How long a writer may hold the lock without renewing it; it renews while alive, and sends a bulk only while at least half of it is left. */
  lockTtlMs?: number;
  /** Most records appended under one lock hold (one `_bulk` when the holder trusts the head; see the class). */
  maxBatch?: number;
  /** How long Redis keeps the marker of a once-key (`recordOnce`); past it, a key that may have been recorded is looked up in Elasticsearch. */
  onceMarkerTtlMs?: number;
}

/** A hold of the writer lock. */
interface WriterLock {
  token: string;
  /** Whether the previous holder released it cleanly (else the cached head may be stale). */
  clean: boolean;
  cachedHead: Head;
  markers: (number | undefined)[];
  /**
   * Throws `audit_lock_lost` unless the lock is sure to stay held for half its TTL at least, renewing
   * it first if the lease is shorter (only off the normal path: the renewals keep it longer).
   */
  ensureLease(): Promise<void>;
  stop(): void;
}

interface Waiting {
  input: AuditInput;
  once?: AuditOnce;
  resolve(outcome: RecordOnceOutcome): void;
  reject(err: unknown): void;
}

/**
 * Takes the lock and reads the cached head; says whether the previous holder released it cleanly
 * (else the head may be stale), and reads the markers of the batch's once-keys (KEYS[4..]).
 */
const LOCK_ACQUIRE = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local dirty = redis.call('get', KEYS[2])
  redis.call('set', KEYS[2], ARGV[1])
  local code = 1
  if dirty then code = 2 end
  local out = {code, redis.call('get', KEYS[3]) or ''}
  for i = 4, #KEYS do out[#out + 1] = redis.call('get', KEYS[i]) or '' end
  return out
end
return {0, ''}`;
/**
 * Releases the lock; with a head, advances the cached head and marks the release clean. Sets the
 * markers of the once-keys appended or found appended by other writers (KEYS[4..], their sequence
 * numbers ARGV[4..]) in any case: they are facts about records already durable. A clean release thus
 * leaves a marker for every once-key up to the cached head (until it expires).
 */
const LOCK_RELEASE = `
for i = 4, #KEYS do redis.call('set', KEYS[i], ARGV[i], 'PX', ARGV[3]) end
if redis.call('get', KEYS[1]) == ARGV[1] then
  if ARGV[2] ~= '' then
    redis.call('set', KEYS[3], ARGV[2])
    redis.call('del', KEYS[2])
  end
  return redis.call('del', KEYS[1])
end
return 0`;

/**
 * The audit trail in Elasticsearch, appended by group commit. Records waiting in this process are
 * appended together under one hold of a cross-process Redis lock: the writer takes the chain head,
 * links the records to it in arrival order, creates them with one `_bulk` of create-only documents
 * (`_id` = sequence), and advances the cached head once, as it releases the lock. Each caller's
 * promise resolves when its record is durable (Elasticsearch acknowledges a bulk after its translog
 * is synced).
 *
 * Crashes: the index has one shard, whose primary applies a bulk's creates in order, so a crash
 * mid-batch leaves a prefix of the batch and no gap. A writer that dies holding the lock never
 * releases it cleanly; the next holder sees that and reads the true head from Elasticsearch
 * (real-time GETs forward) instead of trusting the cache.
 *
 * Overlapping writers: the lock is a lease. A holder sends a bulk only while its lease, counted on its
 * monotonic clock from before the request that took or last renewed the lock (a renewal that failed
 * extends nothing), has half the TTL left, so a writer stalled past its lock or cut off from Redis
 * sends nothing more. Creates of two writers still meet when a bulk reaches Elasticsearch later than
 * that margin after it was sent: a create that conflicts means another writer got there first, and
 * those records are re-linked after the true head and written again, so the create conflict stays
 * the final arbiter of each sequence number. Elasticsearch cannot make a bulk all-or-nothing, so a
 * bulk whose create conflicted (or was refused) and whose later creates succeeded leaves those later
 * records linked to one never stored: orphans, where verify fails for good (records are never
 * updated or deleted). Hence a holder that cannot be sure it is alone (the head was not trusted as it
 * took the lock, or a create failed during its hold) appends one record per request, each linking to
 * a record known stored. A bulk after a trusted head cannot be guarded without a read the normal path
 * does not pay for; when one orphans records, the log reports it and appends an `audit.chain_fork`
 * record at the true head naming them (in that hold while its lease holds, else first in the next
 * hold: a bulk that lands late is the very case where the lease is likely gone), and verify points to that record.
 * A late bulk can also land whole behind the records of the holder after it, orphaning its records
 * past the first: a holder that reads records past its head (after a create conflicted, or after an
 * unclean release) checks that each links to the record stored before it and names those that do not
 * the same way, unless a fork record among them names them already.
 * A bulk left unanswered (a timeout, a cut connection, a gateway's 502) may still land: it is resent
 * identical within the lease, and if no send is answered the lock is left to expire rather than
 * released, so the next holder does not start before the lease of the last send has run out. Each
 * send is given up on after half the TTL, the part of the lease it was sent with, so a send that hangs
 * does not keep the lock renewed (and other writers waiting) for the client's far longer timeout. A
 * bulk Elasticsearch itself refuses as a whole (its error body, as a 429 when it is overloaded) wrote
 * nothing: it is not resent, its callers are told so, and the lock is released as after any failure.
 * Records a resend has refused one by one are read back, since the send that went unanswered may have
 * stored them: one stored as built is recorded; the callers of the others are told that send may yet
 * store them, and the lock is released unclean, so the next holder reads the true head and checks its links.
 *
 * Once-keys (`recordOnce`): each record appended with one leaves a marker in Redis (key → sequence),
 * set as the lock is released and read as it is taken, so the check costs no extra round trip. The
 * records carry their key, and Elasticsearch stays the arbiter: the keys of a batch are looked up in
 * the records when the markers cannot be trusted (the head cache is gone, as after Redis lost its
 * data, or the last holder did not release cleanly and may have appended without leaving markers),
 * and a key that may have been recorded by an attempt that ended earlier is looked up when its
 * marker is missing (it may have expired); such a key not found is also looked for among the records
 * appended before once-keys existed (`legacyRecordsOf`). Records another writer appended without
 * leaving markers (it died or stalled past its lock before releasing) have their markers set by the
 * holder that finds them, as it releases: the one that finds the lock not released cleanly reads the
 * records between the cached head and the true head, and one whose create conflicts reads those
 * between the head it linked after and the true head; the keys it carried are answered from the same read.
 */
export class EsAuditLog implements AuditLog {
  private readonly es: Client;
  private readonly now: () => Date;
  private readonly headKey: string;
  private readonly lockKey: string;
  private readonly dirtyKey: string;
  private readonly lockTtlMs: number;
  /** How long a writer waits for Redis to answer a call on the lock (see `answeredWithin`). */
  private readonly redisAnswerMs: number;
  private readonly maxBatch: number;
  private readonly onceMarkerTtlMs: number;
  private readonly waiting: Waiting[] = [];
  private draining = false;

  constructor(private readonly deps: EsAuditLogDeps) {
    this.es = deps.es;
    this.now = deps.now ?? (() => new Date());
    this.headKey = `${deps.prefix}:audit:head`;
    this.lockKey = `${deps.prefix}:audit:lock`;
    this.dirtyKey = `${deps.prefix}:audit:dirty`;
    this.lockTtlMs = deps.lockTtlMs ?? 10_000;
    this.redisAnswerMs = Math.max(250, this.lockTtlMs / 4);
    this.maxBatch = deps.maxBatch ?? 500;
    this.onceMarkerTtlMs = deps.onceMarkerTtlMs ?? 24 * 3600_000;
  }

  async record(input: AuditInput): Promise<AuditRecord> {
    // Without a once-key a record is always appended.
    return ((await this.enqueue(input)) as Extract<RecordOnceOutcome, { outcome: 'recorded' }>).record;
  }

  recordOnce(input: AuditInput, once: AuditOnce): Promise<RecordOnceOutcome> {
    return this.enqueue(input, once);
  }

  private enqueue(input: AuditInput, once?: AuditOnce): Promise<RecordOnceOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, ...(once ? { once } : {}), resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  /** Commits batches until nobody waits; whoever arrives during a commit goes in the next batch. */
  private async drain(): Promise<void> {
    for (;;) {
      const batch = this.waiting.splice(0, this.maxBatch);
      if (batch.length === 0) {
        this.draining = false;
        return;
      }
      try {
        await this.commit(batch);
      } catch (err) {
        // Callers already resolved keep their record; rejecting a settled promise does nothing.
        for (const w of batch) w.reject(err);
      }
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    const onceKeys = [...new Set(batch.flatMap((w) => (w.once ? [w.once.key] : [])))];
    const lock = await this.lock(onceKeys);
    let head: Head = null;
    // Whether `head` is known to be the chain's true head (only then is the cache advanced and the release clean).
    let headTrue = false;
    // Once-key → sequence number of the markers to set as the lock is released; the first record of a key wins.
    const marked = new Map<string, number>();
    const mark = (key: string, seq: number) => {
      const had = marked.get(key);
      if (had === undefined || seq < had) marked.set(key, seq);
    };
    // The fork records of this hold not yet appended (they are not in `batch`, so nobody else answers for them).
    const forks = new Set<Waiting>();
    // Whether a bulk of this hold went unanswered and may still land: the lock is then left to expire, not released.
    let unanswered = false;
    // Whether records this hold was told were refused may still be stored by a send of theirs that went
    // unanswered: the release is then not clean, so the next holder reads the true head and checks its links.
    let unsure = false;
    try {
      const trusted = lock.cachedHead !== null && lock.clean;
      head = trusted ? lock.cachedHead : await this.headFromElasticsearch(lock.cachedHead?.seq ?? 0);
      // Without a cached head there is no bound to read from; the batch's keys are looked up instead (as on any unclean release).
      // Records stored past the cached head that link to nothing stored (a bulk that landed after its
      // writer's lease, behind the records of the holder after it) are named first in this hold.
      let unlinked: ChainLink[] = [];
      if (!lock.clean && lock.cachedHead) {
        const between = await this.recordsBetween(lock.cachedHead.seq, head?.seq ?? 0);
        for (const [key, seq] of between.onceKeys) mark(key, seq);
        unlinked = this.notYetNamed(between.orphans, batch);
      }
      // Only now: a release that advances the head is clean, and a clean release must leave the markers just read.
      headTrue = true;
      const recorded = await this.recordedOnceKeys(batch, onceKeys, lock.markers, trusted);
      let pending = this.withoutRecorded(batch, recorded, mark);
      if (unlinked.length > 0) {
        this.deps.log?.error({ orphaned: unlinked.map((o) => o.seq) }, 'audit chain forked: records past the cached head link to no record stored before them; an audit.chain_fork record names them');
        pending = [this.forkRecord(unlinked, forks), ...pending];
      }
      // Whether the pending records may go in one bulk: only while nothing suggests another writer (see the class).
      let alone = trusted;
      for (let contended = 0; pending.length > 0; ) {
        if (contended >= 20) throw new UnavailableError('audit chain: could not append after 20 conflicting writers', 'audit_contention');
        const sending = alone ? pending : pending.slice(0, 1);
        const records: AuditRecord[] = [];
        const linkedAfter = head?.seq ?? 0;
        let link = head;
        for (const w of sending) {
          const record = buildRecord(w.input, link, this.now(), w.once?.key);
          records.push(record);
          link = record;
        }
        // Checked last before sending: a stall while the records were built counts.
        await lock.ensureLease();
        headTrue = false;
        // A bulk whose outcome is unknown (no answer, or a failure answered by something in between) is
        // resent identical, never rebuilt, after a short pause while the lease holds: a record the first
        // send stored then answers with its own hash (below), and the first send, should it land later,
        // conflicts with itself. One Elasticsearch refused as a whole (a 429 when overloaded) wrote
        // nothing: it is not resent, and unless an earlier send went unanswered the head is still true.
        let res: estypes.BulkResponse | undefined;
        for (let sends = 1; !res; sends++) {
          if (sends > 1) {
            await new Promise((r) => setTimeout(r, (this.lockTtlMs / 40) * (sends - 1)));
            await lock.ensureLease();
          }
          try {
            res = await this.bulkCreate(records);
          } catch (err) {
            if (answeredByElasticsearch(err)) headTrue = !unanswered;
            if (!(err instanceof UnavailableError) || answeredByElasticsearch(err)) throw err;
            unanswered = true;
            if (sends >= BULK_SENDS) throw err;
          }
        }
        // Records refused after a send that went unanswered may be stored by it: they are read back, and
        // those not stored may yet be (the send may still land), so the hold then ends unsure.
        const afterUnanswered = unanswered;
        unanswered = false;
        if (res.items.length !== records.length) throw new UnavailableError('audit chain: the bulk answered a different number of records', 'audit_refused');
        const conflicts: number[] = [];
        // Records refused after a send of theirs went unanswered, with the reason: that send may have stored them.
        const refused = new Map<number, string>();
        // Whether each record is stored as built (a record after one that is not links to nothing stored).
        const kept = records.map(() => false);
        let known = 0;
        res.items.forEach((item, i) => {
          const op = item.create;
          const reason = op?.error?.reason ?? 'no result';
          if (op && !op.error) {
            sending[i]!.resolve({ outcome: 'recorded', record: records[i]! });
            kept[i] = true;
            known = records[i]!.seq;
          } else if (op?.status === 409) {
            conflicts.push(i);
            known = records[i]!.seq;
          } else if (afterUnanswered) refused.set(i, reason);
          else sending[i]!.reject(new UnavailableError(`audit record ${records[i]!.seq} refused: ${reason}`, 'audit_refused'));
        });
        // A sequence number taken by this very record (the client resent a bulk whose answer was lost,
        // e.g. after a 502 from a gateway) is this record written, not another writer's: it is not appended
        // again. So is a record refused by a resend (a refusal says nothing of what an earlier send stored).
        const readBack = [...conflicts, ...refused.keys()];
        const stored = readBack.length > 0 ? await this.hashesAt(readBack.map((i) => records[i]!.seq)) : new Map<number, string>();
        const retry: Waiting[] = [];
        for (const i of conflicts) {
          if (stored.get(records[i]!.seq) === records[i]!.hash) {
            sending[i]!.resolve({ outcome: 'recorded', record: records[i]! });
            kept[i] = true;
          } else retry.push(sending[i]!);
        }
        for (const [i, reason] of refused) {
          if (stored.get(records[i]!.seq) === records[i]!.hash) {
            sending[i]!.resolve({ outcome: 'recorded', record: records[i]! });
            kept[i] = true;
            known = Math.max(known, records[i]!.seq);
          } else {
            unsure = true;
            sending[i]!.reject(new UnavailableError(`audit record ${records[i]!.seq} refused: ${reason}; an earlier send of it went unanswered and may yet store it`, 'audit_refused'));
          }
        }
        const orphaned = records.filter((_, i) => i > 0 && kept[i] && !kept[i - 1]);
        if (orphaned.length > 0) this.deps.log?.error({ orphaned: orphaned.map((r) => r.seq), linkedAfter }, 'audit chain forked: records were appended after a record of their batch that was never stored; an audit.chain_fork record names them');
        const rest = pending.slice(sending.length);
        // With no failure the records sent are the new head; otherwise whatever was written (ours or
        // another writer's) is read back, so the next records link after the highest existing one.
        if (res.errors) {
          if (retry.length > 0) contended += 1;
          alone = false;
          head = await this.headFromElasticsearch(known);
          const between = await this.recordsBetween(linkedAfter, head?.seq ?? 0);
          for (const [key, seq] of between.onceKeys) mark(key, seq);
          // Records of another writer's late bulk that do not link either (the batch's own orphans are named above).
          const unlinkedElsewhere = this.notYetNamed(between.orphans, [...batch, ...forks]).filter((o) => !orphaned.some((r) => r.seq === o.seq));
          if (unlinkedElsewhere.length > 0) this.deps.log?.error({ orphaned: unlinkedElsewhere.map((o) => o.seq), linkedAfter }, 'audit chain forked: records another writer stored link to no record stored before them; an audit.chain_fork record names them');
          const named = [...orphaned, ...unlinkedElsewhere].sort((a, b) => a.seq - b.seq);
          pending = [...(named.length > 0 ? [this.forkRecord(named, forks)] : []), ...this.withoutTakenByOthers([...retry, ...rest], between.onceKeys)];
        } else {
          head = records.at(-1)!;
          pending = rest;
        }
        headTrue = true;
      }
    } catch (err) {
      // The hold ended before its fork record was appended (most likely its lease was lost: the late bulk
      // that forked the chain is what the lease could not stop): the record goes first in the next hold,
      // whose lock is sure; failing there too, it is rejected with that batch and its failure logged.
      this.waiting.unshift(...forks);
      throw err;
    } finally {
      lock.stop();
      // A bulk that may still land is given the rest of the lease, as if it had been answered late: the
      // lock, no longer renewed, expires instead of being released, and the next holder finds it not
      // released cleanly, so it reads the true head (and the once-keys' markers) from Elasticsearch.
      if (!unanswered) await this.release(lock, headTrue && !unsure ? head : null, marked);
    }
  }

  /** Releases the lock (see `LOCK_RELEASE`); a failed release leaves it dirty, so the next holder reads the once-keys from Elasticsearch and sets their markers. */
  private async release(lock: WriterLock, head: Head, marked: Map<string, number>): Promise<void> {
    const released = this.deps.redis.eval(
      LOCK_RELEASE,
      3 + marked.size,
      this.lockKey,
      this.dirtyKey,
      this.headKey,
      ...[...marked.keys()].map((key) => this.onceKey(key)),
      lock.token,
      head ? JSON.stringify(head) : '',
      this.onceMarkerTtlMs,
      ...marked.values(),
    );
    await answeredWithin(released, this.redisAnswerMs, 'release the audit writer lock').catch(() => undefined);
  }

  /**
   * The record that makes a fork visible in the chain, appended at the true head: it names the orphaned
   * records by sequence number and hash. It stays in `unwritten` until it is appended or refused.
   */
  private forkRecord(orphaned: ChainLink[], unwritten: Set<Waiting>): Waiting {
    const seqs = orphaned.map((r) => r.seq);
    const fork: Waiting = {
      input: {
        actor: systemActor('audit-log'),
        entity: { type: 'pipeline', id: 'audit-chain' },
        action: CHAIN_FORK,
        after: { orphaned: orphaned.map((r) => ({ seq: r.seq, hash: r.hash })) },
        reason: `审计链分叉：#${seqs.join('、#')} 链接在同批未写入的记录之后 (records ${seqs.join(', ')} link to a record of their batch that was never stored: another writer took its sequence number)`,
      },
      resolve: () => unwritten.delete(fork),
      reject: (err) => {
        unwritten.delete(fork);
        this.deps.log?.error({ err, orphaned: seqs }, 'audit chain: the audit.chain_fork record naming orphaned records could not be appended');
      },
    };
    unwritten.add(fork);
    return fork;
  }

  /** The orphans no fork record among `waiters` names (one left unwritten by an earlier hold goes in the next batch). */
  private notYetNamed(orphans: ChainLink[], waiters: Iterable<Waiting>): ChainLink[] {
    const named = new Set<number>();
    for (const w of waiters) if (w.input.action === CHAIN_FORK) for (const o of (w.input.after as { orphaned?: ChainLink[] } | undefined)?.orphaned ?? []) named.add(o.seq);
    return orphans.filter((o) => !named.has(o.seq));
  }

  private onceKey(key: string): string {
    return `${this.deps.prefix}:audit:once:${key}`;
  }

  /**
   * The once-keys of the batch already recorded, with their sequence numbers: from the markers, and
   * from the records themselves for the keys whose missing marker proves nothing (see the class).
   */
  private async recordedOnceKeys(batch: Waiting[], keys: string[], markers: (number | undefined)[], trusted: boolean): Promise<Map<string, number>> {
    const recorded = new Map<string, number>();
    keys.forEach((key, i) => markers[i] !== undefined && recorded.set(key, markers[i]!));
    const maybe = new Set(batch.flatMap((w) => (w.once?.maybeRecorded ? [w.once.key] : [])));
    const lookUp = keys.filter((key) => !recorded.has(key) && (!trusted || maybe.has(key)));
    if (lookUp.length === 0) return recorded;
    for (const [key, seq] of await this.onceKeysIn(lookUp)) recorded.set(key, seq);
    // Only an attempt that ended earlier can have been recorded by code older than once-keys.
    const legacy = new Map(batch.flatMap((w) => (w.once?.maybeRecorded && w.input.idempotencyKey !== undefined && lookUp.includes(w.once.key) && !recorded.has(w.once.key) ? [[w.once.key, w.input] as const] : [])));
    if (legacy.size > 0) for (const [key, seq] of await this.legacyRecordsOf(legacy)) recorded.set(key, seq);
    return recorded;
  }

  /**
   * The records holding `keys`, the first of each key (an older writer may have left two). Refreshes
   * first: appends skip the refresh, and a record appended by a holder that left no marker must be searchable.
   */
  private async onceKeysIn(keys: string[]): Promise<Map<string, number>> {
    try {
      await this.es.indices.refresh({ index: this.deps.index });
      // One hit per key whatever number of records carry it, so `size` bounds the distinct keys.
      const res = await this.es.search<Pick<AuditRecord, 'seq' | 'onceKey'>>({
        index: this.deps.index,
        size: keys.length,
        query: { terms: { onceKey: keys } },
        collapse: { field: 'onceKey' },
        sort: [{ seq: 'asc' }],
        _source: ['seq', 'onceKey'],
      });
      return new Map(res.hits.hits.flatMap((hit) => (hit._source?.onceKey ? [[hit._source.onceKey, hit._source.seq] as const] : [])));
    } catch (err) {
      throw translateEsError(err, 'look up audit once-keys');
    }
  }

  /**
   * The records appended before once-keys existed (they carry none) for the writes `inputs` stand
   * for (once-key → its record's input), recognised as the code of that time recognised a resend's
   * record: the same actor's same action on the same entity with the same Idempotency-Key. Only the
   * alert desk sends that key, always with a once-key since, so a record with the key and without a
   * once-key is that older code's. Called on the records only (the markers knew no such write), and
   * only for a write that may have been recorded by an attempt that ended earlier.
   */
  private async legacyRecordsOf(inputs: Map<string, AuditInput>): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    type Legacy = Pick<AuditRecord, 'seq' | 'entity' | 'action' | 'actor' | 'idempotencyKey'>;
    const same = (r: Legacy, i: AuditInput) =>
      r.idempotencyKey === i.idempotencyKey && r.entity.type === i.entity.type && r.entity.id === i.entity.id && r.action === i.action && r.actor.id === i.actor.id;
    const all = (of: (i: AuditInput) => string) => [...new Set([...inputs.values()].map(of))];
    // A superset of the records wanted (any combination of the fields), narrowed by `same`.
    const filter: estypes.QueryDslQueryContainer[] = [{ terms: { 'entity.id': all((i) => i.entity.id) } }, { terms: { action: all((i) => i.action) } }, { terms: { 'actor.id': all((i) => i.actor.id) } }];
    try {
      let after: estypes.SortResults | undefined;
      for (;;) {
        // The Idempotency-Key is compared here: it is not indexed, and a field mapped now would stay unindexed in the records already stored.
        const res = await this.es.search<Legacy>({
          index: this.deps.index,
          size: 1000,
          query: { bool: { filter, must_not: [{ exists: { field: 'onceKey' } }] } },
          sort: [{ seq: 'asc' }],
          _source: ['seq', 'entity', 'action', 'actor.id', 'idempotencyKey'],
          ...(after ? { search_after: after } : {}),
        });
        const hits = res.hits.hits;
        for (const hit of hits) {
          const r = hit._source;
          if (r) for (const [key, input] of inputs) if (!found.has(key) && same(r, input)) found.set(key, r.seq);
        }
        if (hits.length < 1000) return found;
        after = hits.at(-1)!.sort;
      }
    } catch (err) {
      throw translateEsError(err, 'look up audit records older than once-keys');
    }
  }

  /**
   * The waiters still to append after a create conflicted with another writer's record (its lock
   * lapsed under it, or ours did): that writer may have recorded the same once-keys, answered so
   * (`taken`: the once-keys of the records between the head the batch linked after and the true head).
   */
  private withoutTakenByOthers(retry: Waiting[], taken: Map<string, number>): Waiting[] {
    return retry.filter((w) => {
      const seq = w.once && taken.get(w.once.key);
      if (seq === undefined) return true;
      w.resolve({ outcome: 'already-recorded', seq });
      return false;
    });
  }

  /**
   * The waiters whose record is to be appended. One whose once-key is recorded is answered so; of
   * several with one key in the batch the first is appended and the others follow its outcome.
   * Once-keys appended, or found appended by another writer meanwhile, are passed to `mark` for their markers.
   */
  private withoutRecorded(batch: Waiting[], recorded: Map<string, number>, mark: (key: string, seq: number) => void): Waiting[] {
    const firsts = new Map<string, Waiting[]>();
    const pending: Waiting[] = [];
    for (const w of batch) {
      const key = w.once?.key;
      if (key === undefined) {
        pending.push(w);
        continue;
      }
      const seq = recorded.get(key);
      if (seq !== undefined) {
        w.resolve({ outcome: 'already-recorded', seq });
        continue;
      }
      const followers = firsts.get(key);
      if (followers) {
        followers.push(w);
        continue;
      }
      const mine: Waiting[] = [];
      firsts.set(key, mine);
      pending.push({
        ...w,
        resolve: (outcome) => {
          w.resolve(outcome);
          const seq = outcome.outcome === 'recorded' ? outcome.record.seq : outcome.seq;
          mark(key, seq);
          for (const f of mine) f.resolve({ outcome: 'already-recorded', seq });
        },
        reject: (err) => {
          w.reject(err);
          for (const f of mine) f.reject(err);
        },
      });
    }
    return pending;
  }

  /**
   * The records after `afterSeq` up to `upToSeq`, read forward as a holder does off the normal path:
   * the once-keys, with their sequence numbers (the first of each key), and the orphans, records that do not link to the record stored before them (another
   * writer's bulk landed after its lease, behind a record that took the sequence number of one of its
   * batch), but for those an `audit.chain_fork` record in the same range names already (a fork record
   * always follows what it names). The record at `afterSeq` is read with them, for its stored hash (a
   * cached head may be stale). Real-time reads by sequence number: appends skip the refresh.
   */
  private async recordsBetween(afterSeq: number, upToSeq: number): Promise<{ onceKeys: Map<string, number>; orphans: ChainLink[] }> {
    type Link = Pick<AuditRecord, 'seq' | 'onceKey' | 'hash' | 'prevHash' | 'action'> & { after?: { orphaned?: { seq: number }[] } };
    const onceKeys = new Map<string, number>();
    const unlinked: ChainLink[] = [];
    const named = new Set<number>();
    if (upToSeq <= afterSeq) return { onceKeys, orphans: [] };
    // The hash of the record stored just before the one read next (undefined after a gap: nothing to compare).
    let prevHash: string | undefined = afterSeq === 0 ? GENESIS_HASH : undefined;
    try {
      for (let from = Math.max(1, afterSeq); from <= upToSeq; from += 1000) {
        const ids = Array.from({ length: Math.min(1000, upToSeq - from + 1) }, (_, i) => String(from + i));
        const res = await this.es.mget<Link>({ index: this.deps.index, ids, _source: ['seq', 'onceKey', 'hash', 'prevHash', 'action', 'after.orphaned.seq'] });
        for (const doc of res.docs) {
          const r = 'found' in doc && doc.found ? doc._source : undefined;
          if (r?.seq === afterSeq) {
            prevHash = r.hash;
            continue;
          }
          if (r?.onceKey !== undefined && !onceKeys.has(r.onceKey)) onceKeys.set(r.onceKey, r.seq);
          if (r && prevHash !== undefined && r.prevHash !== prevHash) unlinked.push({ seq: r.seq, hash: r.hash });
          if (r?.action === CHAIN_FORK) for (const o of r.after?.orphaned ?? []) named.add(o.seq);
          prevHash = r?.hash;
        }
      }
      return { onceKeys, orphans: unlinked.filter((o) => !named.has(o.seq)) };
    } catch (err) {
      throw translateEsError(err, `read audit records ${afterSeq + 1}–${upToSeq}`);
    }
  }

  private async bulkCreate(records: AuditRecord[]): Promise<estypes.BulkResponse> {
    try {
      // No client retries: a resend is sent only within the lease (see `commit`). A send is given up on
      // within the half of the TTL the lease guarantees, so the renewals cannot keep the lock for a send
      // that hangs (the client's own timeout is far longer than the lease).
      return await this.es.bulk(
        { operations: records.flatMap((r) => [{ create: { _index: this.deps.index, _id: String(r.seq) } }, r]), refresh: false },
        { maxRetries: 0, requestTimeout: Math.floor(this.lockTtlMs / 2) },
      );
    } catch (err) {
      throw translateEsError(err, `append audit records ${records[0]!.seq}–${records.at(-1)!.seq}`);
    }
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (query.entityType) filter.push({ term: { 'entity.type': query.entityType } });
    if (query.entityId) filter.push({ term: { 'entity.id': query.entityId } });
    if (query.action) filter.push({ term: { action: query.action } });
    if (query.actorId) filter.push({ term: { 'actor.id': query.actorId } });
    if (query.from || query.to) filter.push({ range: { at: { ...(query.from ? { gte: query.from.toISOString() } : {}), ...(query.to ? { lte: query.to.toISOString() } : {}) } } });
    try {
      // Appends skip the refresh (it would be paid under the writer lock); a reader pays it instead.
      await this.es.indices.refresh({ index: this.deps.index });
      const res = await this.es.search<AuditRecord>({
        index: this.deps.index,
        size: Math.min(query.limit ?? 100, 1000),
        query: { bool: { filter } },
        sort: [{ seq: 'desc' }],
      });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list audit records');
    }
  }

  async verify(): Promise<AuditVerifyResult & { checkpoint?: { seq: number; at: string } | null }> {
    try {
      await this.es.indices.refresh({ index: [this.deps.index, this.deps.checkpointIndex] });
      const checkpoints = await this.checkpoints();
      for (const cp of checkpoints) {
        if (!checkpointSignatureValid(this.deps.checkpointKey, cp)) {
          return {
            ok: false,
            records: 0,
            firstBroken: { seq: cp.seq, reason: 'checkpoint_mismatch' },
            message: `#${cp.seq} 处的检查点签名无效 (the checkpoint at ${cp.seq} is not signed with this deployment's key)`,
          };
        }
      }
      const verifier = new ChainVerifier(new Set(checkpoints.map((c) => c.seq)));
      let after: estypes.SortResults | undefined;
      for (;;) {
        const res = await this.es.search<AuditRecord>({
          index: this.deps.index,
          size: 1000,
          query: { match_all: {} },
          sort: [{ seq: 'asc' }],
          ...(after ? { search_after: after } : {}),
        });
        const hits = res.hits.hits;
        for (const hit of hits) if (hit._source && !verifier.push(hit._source)) break;
        if (verifier.failed || hits.length < 1000) break;
        after = hits[hits.length - 1]!.sort;
      }
      const latest = checkpoints.at(-1);
      const verdict = verifier.finish(checkpoints);
      return { ...(verdict.ok ? verdict : await this.withForkNamed(verdict)), checkpoint: latest ? { seq: latest.seq, at: latest.at } : null };
    } catch (err) {
      throw translateEsError(err, 'verify audit chain');
    }
  }

  /**
   * A broken chain's verdict, pointing to the `audit.chain_fork` record that names the record where
   * it breaks (after a gap, the record that follows it), if one does. The verdict stays broken: the
   * fork record explains, it does not vouch (it is only as trustworthy as the records after the last checkpoint).
   */
  private async withForkNamed(verdict: Extract<AuditVerifyResult, { ok: false }>): Promise<AuditVerifyResult> {
    const { seq, reason } = verdict.firstBroken;
    if (reason !== 'prev_hash_mismatch' && reason !== 'gap') return verdict;
    const orphan = reason === 'gap' ? seq + 1 : seq;
    type Fork = { seq: number; after?: { orphaned?: { seq: number }[] } };
    const res = await this.es.search<Fork>({ index: this.deps.index, size: 100, query: { term: { action: CHAIN_FORK } }, sort: [{ seq: 'asc' }], _source: ['seq', 'after'] });
    const fork = res.hits.hits.find((h) => h._source?.after?.orphaned?.some((o) => o.seq === orphan))?._source;
    if (!fork) return verdict;
    return {
      ...verdict,
      message: `${verdict.message}；#${fork.seq} 的分叉记录说明：#${orphan} 链接在同批未写入的记录之后 (the audit.chain_fork record ${fork.seq} names record ${orphan} as appended after a record of its batch that was never stored)`,
    };
  }

  /**
   * Verifies the chain, then signs its head and stores it (once per head: a second call with no
   * new records is a no-op). Verify then refuses a chain rewritten or truncated below a checkpoint.
   */
  async checkpoint(): Promise<{ checkpoint: AuditCheckpoint | null; verify: AuditVerifyResult }> {
    // Never bless a broken chain: sign only a head that verifies from the genesis.
    const verify = await this.verify();
    if (!verify.ok || !verify.head) return { checkpoint: null, verify };
    const head = verify.head;
    const cp = signCheckpoint(this.deps.checkpointKey, head, this.now());
    try {
      await this.es.create({ index: this.deps.checkpointIndex, id: String(cp.seq), document: cp, refresh: 'wait_for' });
    } catch (err) {
      const translated = translateEsError(err, `store audit checkpoint ${cp.seq}`);
      if (!(translated instanceof ConflictError)) throw translated;
    }
    return { checkpoint: cp, verify };
  }

  private async checkpoints(): Promise<AuditCheckpoint[]> {
    const res = await this.es.search<AuditCheckpoint>({ index: this.deps.checkpointIndex, size: 10_000, sort: [{ seq: 'asc' }] });
    return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
  }

  /**
   * Takes the writer lock and keeps renewing it until `stop()`; reads the markers of `onceKeys` with it.
   * The lease runs from before the request that took or renewed the lock was sent: Redis set the
   * expiry no earlier. A renewal answered "not held" loses the lock for good; one that failed extends nothing.
   * Redis calls are given up after `redisAnswerMs` (see `answeredWithin`), so a Redis that does not answer
   * fails the batch with `redis_unavailable` or `audit_lock_lost` instead of leaving its callers waiting.
   */
  private async lock(onceKeys: string[]): Promise<WriterLock> {
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + 30_000;
    let wait = 1;
    while (Date.now() < deadline) {
      const sentAt = performance.now();
      const acquired = this.deps.redis.eval(LOCK_ACQUIRE, 3 + onceKeys.length, this.lockKey, this.dirtyKey, this.headKey, ...onceKeys.map((k) => this.onceKey(k)), token, this.lockTtlMs);
      // Answered late, the lock may be taken with this token all the same: it then expires unrenewed, not released cleanly.
      const [code, raw, ...markers] = (await answeredWithin(acquired, this.redisAnswerMs, 'take the audit writer lock')) as [number, string, ...string[]];
      if (code !== 0) {
        let validUntil = sentAt + this.lockTtlMs;
        let lost = false;
        const renew = async () => {
          const at = performance.now();
          const ok = await answeredWithin(this.deps.redis.eval(RENEW_IF_OWNER, 1, this.lockKey, token, this.lockTtlMs), this.redisAnswerMs, 'renew the audit writer lock');
          if (ok === 1) validUntil = Math.max(validUntil, at + this.lockTtlMs);
          else lost = true;
        };
        const renewing = setInterval(() => void renew().catch(() => undefined), Math.max(100, Math.floor(this.lockTtlMs / 3)));
        renewing.unref();
        // What a bulk may take to reach the shard after it is sent, with the drift between this clock and Redis's.
        const margin = this.lockTtlMs / 2;
        return {
          token,
          clean: code === 1,
          cachedHead: parseHead(raw),
          markers: markers.map((m) => (/^\d+$/.test(m) ? Number(m) : undefined)),
          ensureLease: async () => {
            if (!lost && validUntil - performance.now() >= margin) return;
            if (!lost) await renew().catch(() => undefined);
            if (lost || validUntil - performance.now() < margin) throw new UnavailableError('audit chain: the writer lock lapsed or could not be renewed before the records were written', 'audit_lock_lost');
          },
          stop: () => clearInterval(renewing),
        };
      }
      await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
      wait = Math.min(wait * 2, 20);
    }
    throw new UnavailableError('audit chain: the writer lock stayed taken for 30 s', 'audit_lock_timeout');
  }

  /**
   * The true head: the highest sequence the search sees (refresh lags up to a second), or
   * `knownSeq` when a create just conflicted there, then real-time GETs forward until a sequence
   * number is free.
   */
  private async headFromElasticsearch(knownSeq = 0): Promise<Head> {
    try {
      const top = await this.es.search<AuditRecord>({ index: this.deps.index, size: 1, sort: [{ seq: 'desc' }], _source: ['seq', 'hash'] });
      const seen = top.hits.hits[0]?._source;
      let head: Head = seen ? { seq: seen.seq, hash: seen.hash } : null;
      if (knownSeq > (head?.seq ?? 0)) head = (await this.get(knownSeq)) ?? head;
      for (let probe = (head?.seq ?? 0) + 1; ; probe++) {
        const next = await this.get(probe);
        if (!next) return head;
        head = next;
      }
    } catch (err) {
      throw translateEsError(err, 'read audit chain head');
    }
  }

  /** The hashes of the records stored at `seqs` (real-time). */
  private async hashesAt(seqs: number[]): Promise<Map<number, string>> {
    try {
      const res = await this.es.mget<Pick<AuditRecord, 'seq' | 'hash'>>({ index: this.deps.index, ids: seqs.map(String), _source: ['seq', 'hash'] });
      return new Map(res.docs.flatMap((doc) => ('found' in doc && doc.found && doc._source ? [[doc._source.seq, doc._source.hash] as const] : [])));
    } catch (err) {
      throw translateEsError(err, 'read audit records back');
    }
  }

  private async get(seq: number): Promise<Head> {
    const res = await this.es.get<AuditRecord>({ index: this.deps.index, id: String(seq), _source: ['seq', 'hash'] }, { ignore: [404] });
    return res.found && res._source ? { seq: res._source.seq, hash: res._source.hash } : null;
  }
}

/**
 * `call`, or `redis_unavailable` once it has gone `ms` without an answer or failed. The Redis
 * connections wait for Redis to come back rather than fail a command (BullMQ needs
 * `maxRetriesPerRequest: null`), so a call on the lock is bounded here; one given up on may still run later.
 */
async function answeredWithin<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnavailableError(`audit chain: ${what}: Redis did not answer within ${ms} ms`, 'redis_unavailable')), ms);
  });
  try {
    return await Promise.race([call, unanswered]);
  } catch (err) {
    throw err instanceof UnavailableError ? err : new UnavailableError(`audit chain: ${what}: Redis failed (${err instanceof Error ? err.message : String(err)})`, 'redis_unavailable', { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

function parseHead(raw: string | null | undefined): Head {
  if (!raw) return null;
  try {
    const head = JSON.parse(raw) as { seq?: unknown; hash?: unknown };
    return Number.isInteger(head.seq) && typeof head.hash === 'string' ? { seq: head.seq as number, hash: head.hash } : null;
  } catch {
    return null;
  }
}
