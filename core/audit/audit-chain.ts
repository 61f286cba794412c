import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditInput, AuditRecord, AuditVerifyResult } from './audit-log.js';

/** The `prevHash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON: object keys sorted, `undefined` members dropped, no whitespace. The same value
 * always gives the same string, whatever order its keys were built in or stored back in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return JSON.stringify(value) ?? 'null';
  }
  // Built by concatenation: every audit append canonicalises its record twice (stored form, hash).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON(): unknown }).toJSON());
  const object = value as Record<string, unknown>;
  // The default sort orders strings by UTF-16 code units, as `<` does.
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const member = object[key];
    if (member === undefined || typeof member === 'function') continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}

/** A JSON value as it will read back from storage (dates become strings, undefined members vanish). */
export function toStoredJson(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(canonicalJson(value)) as unknown);
}

/** SHA-256 (hex) over the canonical form of every field of the record except `hash` itself. */
export function hashRecord(record: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
  const { hash: _hash, ...rest } = record;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/** The next link of the chain after `head` (null for an empty chain). */
export function buildRecord(input: AuditInput, head: { seq: number; hash: string } | null, now: Date, onceKey?: string): AuditRecord {
  const body: Omit<AuditRecord, 'hash'> = {
    seq: head ? head.seq + 1 : 1,
    at: (input.at ?? now).toISOString(),
    actor: toStoredJson(input.actor) as AuditRecord['actor'],
    entity: { type: input.entity.type, id: input.entity.id },
    action: input.action,
    ...(input.before !== undefined ? { before: toStoredJson(input.before) } : {}),
    ...(input.after !== undefined ? { after: toStoredJson(input.after) } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
    ...(input.idempotencyKey !== undefined ? { idempotencyKey: input.idempotencyKey } : {}),
    ...(onceKey !== undefined ? { onceKey } : {}),
    prevHash: head ? head.hash : GENESIS_HASH,
  };
  return { ...body, hash: hashRecord(body) };
}

export type BrokenLink = Extract<AuditVerifyResult, { ok: false }>['firstBroken'];

/**
 * Walks a chain in sequence order, one record at a time, and stops at the first broken link:
 * a record whose hash does not match its content (edited), whose `prevHash` is not the previous
 * record's hash (edited or re-linked), or whose sequence number skips (a record deleted).
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private count = 0;
  private broken: { firstBroken: BrokenLink; message: string } | null = null;
  private readonly hashes = new Map<number, string>();

  constructor(private readonly keepHashesFor: ReadonlySet<number> = new Set()) {}

  get failed(): boolean {
    return this.broken !== null;
  }

  /** Returns false once the chain is known to be broken (the caller may stop reading). */
  push(record: AuditRecord): boolean {
    if (this.broken) return false;
    if (record.seq !== this.expectedSeq) {
      this.broken = {
        firstBroken: { seq: this.expectedSeq, reason: 'gap' },
        message:
          record.seq > this.expectedSeq
            ? `审计记录 #${this.expectedSeq} 缺失 (record ${this.expectedSeq} is missing; next present is ${record.seq})`
            : `审计记录 #${this.expectedSeq} 处出现重复或乱序的 #${record.seq} (record ${record.seq} appears where ${this.expectedSeq} was expected)`,
      };
      return false;
    }
    if (hashRecord(record) !== record.hash) {
      this.broken = {
        firstBroken: { seq: record.seq, reason: 'hash_mismatch' },
        message: `审计记录 #${record.seq} 内容被篡改 (record ${record.seq} does not match its hash)`,
      };
      return false;
    }
    if (record.prevHash !== this.prevHash) {
      this.broken = {
        firstBroken: { seq: record.seq, reason: 'prev_hash_mismatch' },
        message: `审计记录 #${record.seq} 与前一条不衔接 (record ${record.seq} does not link to record ${record.seq - 1})`,
      };
      return false;
    }
    if (this.keepHashesFor.has(record.seq)) this.hashes.set(record.seq, record.hash);
    this.prevHash = record.hash;
    this.expectedSeq += 1;
    this.count += 1;
    return true;
  }

  /** The verdict, checking the chain against signed checkpoints of its head (already signature-checked). */
  finish(checkpoints: readonly { seq: number; hash: string }[] = []): AuditVerifyResult {
    if (this.broken) return { ok: false, records: this.count, ...this.broken };
    const last = this.expectedSeq - 1;
    for (const cp of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
      if (cp.seq > last) {
        return {
          ok: false,
          records: this.count,
          firstBroken: { seq: last + 1, reason: 'gap' },
          message: `审计链在 #${last} 处中断，但已签名检查点记到 #${cp.seq} (records ${last + 1}–${cp.seq} are missing)`,
        };
      }
      const hash = this.hashes.get(cp.seq);
      if (hash !== undefined && hash !== cp.hash) {
        return {
          ok: false,
          records: this.count,
          firstBroken: { seq: cp.seq, reason: 'checkpoint_mismatch' },
          message: `审计记录 #${cp.seq} 与已签名检查点不符，链被重写 (record ${cp.seq} differs from the signed checkpoint: the chain was rewritten)`,
        };
      }
    }
    return { ok: true, records: this.count, head: last > 0 ? { seq: last, hash: this.prevHash } : null };
  }
}

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
  /** HMAC-SHA256 (hex) over the canonical form of `{ seq, hash, at }`. */
  signature: string;
}

export function signCheckpoint(key: Buffer, head: { seq: number; hash: string }, at: Date): AuditCheckpoint {
  const body = { seq: head.seq, hash: head.hash, at: at.toISOString() };
  return { ...body, signature: createHmac('sha256', key).update(canonicalJson(body), 'utf8').digest('hex') };
}

export function checkpointSignatureValid(key: Buffer, cp: AuditCheckpoint): boolean {
  const expected = createHmac('sha256', key).update(canonicalJson({ seq: cp.seq, hash: cp.hash, at: cp.at }), 'utf8').digest();
  const given = Buffer.from(typeof cp.signature === 'string' && /^[0-9a-f]{64}$/.test(cp.signature) ? cp.signature : '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
