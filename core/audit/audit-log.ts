/**
 * The audit trail's port. Every state change and every human or system action is recorded here:
 * who (actor and role), when, on what, what it was before and after, why, and in which request.
 * Records are append-only and hash-chained (each carries the SHA-256 of the previous record over a
 * canonical form, and a gap-free sequence number); the adapter (`EsAuditLog`) creates them with
 * create-only semantics keyed by sequence, so a replay is refused and a gap is visible.
 * Deliberately left out: updating or deleting a record — there is no such operation.
 */
import { z } from 'zod';

export type AuditActorKind = 'user' | 'system' | 'token';

export interface AuditActor {
  kind: AuditActorKind;
  /** Username, API token id, or the system component (e.g. `escalation`, `crawler`). */
  id: string;
  displayName?: string;
  roles: string[];
}

export const AuditEntityTypeSchema = z.enum([
  'alert',
  'plan',
  'ledger',
  'rule_pack',
  'source',
  'user',
  'token',
  'session',
  'roster',
  'escalation_policy',
  'channel',
  'meeting',
  'report',
  'pipeline',
]);
export type AuditEntityType = z.infer<typeof AuditEntityTypeSchema>;

export interface AuditInput {
  actor: AuditActor;
  entity: { type: AuditEntityType; id: string };
  /** Dotted verb, e.g. `alert.acknowledge`, `ledger.verify`, `session.login_failed`. */
  action: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
  requestId?: string;
  /** The client's Idempotency-Key when it sent one: the same on every resend of one request. */
  idempotencyKey?: string;
  /** Defaults to now. */
  at?: Date;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: AuditActor;
  entity: { type: AuditEntityType; id: string };
  action: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
  requestId?: string;
  idempotencyKey?: string;
  /** The once-key it was appended with (`AuditLog.recordOnce`). */
  onceKey?: string;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  entityType?: AuditEntityType;
  entityId?: string;
  action?: string;
  actorId?: string;
  from?: Date;
  to?: Date;
  limit?: number;
}

export type AuditVerifyResult =
  | { ok: true; records: number; head: { seq: number; hash: string } | null }
  | { ok: false; records: number; firstBroken: { seq: number; reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'gap' | 'checkpoint_mismatch' }; message: string };

/**
 * Names the one record an intent may leave across its attempts (an alert write's receipt: the first
 * attempt, the person's resends and the settler of its lost answer all record it with the same key).
 */
export interface AuditOnce {
  key: string;
  /**
   * Whether an attempt that ended earlier may have recorded it (a resend, a settler): the log then
   * looks the key up in the records themselves when it holds no marker of it (markers expire and
   * live in Redis), and among the records appended before once-keys existed, by the same actor's
   * same action on the same entity with the same `idempotencyKey` (a resend across that upgrade).
   * False for the attempt that just made the change: only an attempt running at the same moment
   * could have recorded it, and that one's marker shows.
   */
  maybeRecorded: boolean;
}

export type RecordOnceOutcome = { outcome: 'recorded'; record: AuditRecord } | { outcome: 'already-recorded'; seq: number };

export interface AuditLog {
  /** Appends one record; resolves once it is durable. Concurrent calls are serialised into the chain. */
  record(input: AuditInput): Promise<AuditRecord>;
  /**
   * Appends the record unless one with the same once-key was appended before: the check and the
   * append are one step under the chain's writer lock, so of concurrent calls with one key exactly
   * one appends and the others are told `already-recorded`.
   */
  recordOnce(input: AuditInput, once: AuditOnce): Promise<RecordOnceOutcome>;
  list(query: AuditQuery): Promise<AuditRecord[]>;
  /** Recomputes the whole chain and names the first broken record. */
  verify(): Promise<AuditVerifyResult>;
}

/** The actor for work the system does on its own (escalation clocks, crawlers, reconcilers). */
export function systemActor(component: string): AuditActor {
  return { kind: 'system', id: component, roles: [] };
}
