import { randomBytes } from 'node:crypto';
import type { Client, estypes } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import {
  ChainVerifier,
  buildRecord,
  checkpointSignatureValid,
  signCheckpoint,
  type AuditCheckpoint,
} from '../../core/audit/audit-chain.js';
import type { AuditInput, AuditLog, AuditQuery, AuditRecord, AuditVerifyResult } from '../../core/audit/audit-log.js';
import { ConflictError, UnavailableError } from '../../core/errors.js';
import { translateEsError } from './es-client.js';

type Head = { seq: number; hash: string } | null;

export interface EsAuditLogDeps {
  es: Client;
  /** Index of the records (`_id` = sequence number). */
  index: string;
  /** Index of the signed checkpoints of the chain head. */
  checkpointIndex: string;
  redis: Redis;
  /** Redis key prefix; the chain head cache and the writer lock live under `<prefix>:audit:`. */
  prefix: string;
  /** HMAC key for checkpoints, kept outside Elasticsearch (see `loadCheckpointKey`). */
  checkpointKey: Buffer;
  now?: () => Date;
  /** How long a writer may hold the lock before another may take it (the create conflict stays the arbiter). */
  lockTtlMs?: number;
}

const LOCK_RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * The audit trail in Elasticsearch. Appends are serialised across processes by a Redis lock under
 * which the writer reads the chain head, creates record `head.seq + 1` with `op_type: create`
 * (`_id` = sequence), and only then advances the head: a crash before the create leaves no gap,
 * a crash after it leaves a stale head that the next writer repairs. The create conflict is the
 * final arbiter — if a lock expires under a stalled writer, the loser of the conflict re-reads the
 * head from Elasticsearch (real-time GETs) and links after the winner, so the chain never forks.
 */
export class EsAuditLog implements AuditLog {
  private readonly es: Client;
  private readonly now: () => Date;
  private readonly headKey: string;
  private readonly lockKey: string;
  private readonly lockTtlMs: number;

  constructor(private readonly deps: EsAuditLogDeps) {
    this.es = deps.es;
    this.now = deps.now ?? (() => new Date());
    this.headKey = `${deps.prefix}:audit:head`;
    this.lockKey = `${deps.prefix}:audit:lock`;
    this.lockTtlMs = deps.lockTtlMs ?? 10_000;
  }

  async record(input: AuditInput): Promise<AuditRecord> {
    const token = await this.lock();
    try {
      let head = await this.cachedHead();
      for (let attempt = 0; attempt < 20; attempt++) {
        const record = buildRecord(input, head, this.now());
        try {
          await this.es.create({ index: this.deps.index, id: String(record.seq), document: record });
        } catch (err) {
          const translated = translateEsError(err, `append audit record ${record.seq}`);
          if (!(translated instanceof ConflictError)) throw translated;
          head = await this.headFromElasticsearch(record.seq);
          continue;
        }
        await this.deps.redis.set(this.headKey, JSON.stringify({ seq: record.seq, hash: record.hash }));
        return record;
      }
      throw new UnavailableError('audit chain: could not append after 20 conflicting writers', 'audit_contention');
    } finally {
      await this.deps.redis.eval(LOCK_RELEASE, 1, this.lockKey, token).catch(() => undefined);
    }
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (query.entityType) filter.push({ term: { 'entity.type': query.entityType } });
    if (query.entityId) filter.push({ term: { 'entity.id': query.entityId } });
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
      return { ...verifier.finish(checkpoints), checkpoint: latest ? { seq: latest.seq, at: latest.at } : null };
    } catch (err) {
      throw translateEsError(err, 'verify audit chain');
    }
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

  private async lock(): Promise<string> {
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + 30_000;
    let wait = 2;
    while (Date.now() < deadline) {
      if ((await this.deps.redis.set(this.lockKey, token, 'PX', this.lockTtlMs, 'NX')) === 'OK') return token;
      await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
      wait = Math.min(wait * 2, 50);
    }
    throw new UnavailableError('audit chain: the writer lock stayed taken for 30 s', 'audit_lock_timeout');
  }

  private async cachedHead(): Promise<Head> {
    const raw = await this.deps.redis.get(this.headKey);
    if (raw) {
      const head = JSON.parse(raw) as { seq: number; hash: string };
      if (Number.isInteger(head.seq) && typeof head.hash === 'string') return head;
    }
    // Redis lost the head (it keeps nothing on disk here): rebuild it from Elasticsearch.
    return this.headFromElasticsearch(0);
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

  private async get(seq: number): Promise<Head> {
    const res = await this.es.get<AuditRecord>({ index: this.deps.index, id: String(seq), _source: ['seq', 'hash'] }, { ignore: [404] });
    return res.found && res._source ? { seq: res._source.seq, hash: res._source.hash } : null;
  }
}
