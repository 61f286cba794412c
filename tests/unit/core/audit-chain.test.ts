import { describe, expect, it } from 'vitest';
import {
  ChainVerifier,
  GENESIS_HASH,
  buildRecord,
  canonicalJson,
  checkpointSignatureValid,
  hashRecord,
  signCheckpoint,
} from '../../../core/audit/audit-chain.js';
import type { AuditInput, AuditRecord } from '../../../core/audit/audit-log.js';

const input = (n: number): AuditInput => ({
  actor: { kind: 'user', id: 'duty', displayName: '张值班', roles: ['duty'] },
  entity: { type: 'alert', id: `a${n}` },
  action: 'alert.acknowledge',
  before: { status: 'new' },
  after: { status: 'acknowledged', n },
  requestId: `req-${n}`,
});

function chain(length: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < length; i++) out.push(buildRecord(input(i), out.at(-1) ?? null, new Date(Date.UTC(2026, 0, 1, 0, i))));
  return out;
}

function verify(records: AuditRecord[], checkpoints: { seq: number; hash: string }[] = []) {
  const v = new ChainVerifier(new Set(checkpoints.map((c) => c.seq)));
  for (const r of records) if (!v.push(r)) break;
  return v.finish(checkpoints);
}

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, { z: 1, y: 2 }] } })).toBe('{"a":{"c":[2,{"y":2,"z":1}]},"b":1}');
  });
  it('gives the same string for the same value built in another key order', () => {
    expect(canonicalJson({ x: 1, y: '中文' })).toBe(canonicalJson({ y: '中文', x: 1 }));
  });
  it('writes dates as ISO strings, as they read back from storage', () => {
    expect(canonicalJson({ at: new Date('2026-01-01T00:00:00Z') })).toBe('{"at":"2026-01-01T00:00:00.000Z"}');
  });
});

describe('the audit chain', () => {
  it('starts at sequence 1 linked to the genesis hash, and each record links to the previous', () => {
    const records = chain(3);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]!.prevHash).toBe(GENESIS_HASH);
    expect(records[1]!.prevHash).toBe(records[0]!.hash);
    expect(records[2]!.hash).toBe(hashRecord(records[2]!));
  });

  it('hashes the stored form: a record parsed back from JSON still verifies', () => {
    const records = chain(3).map((r) => JSON.parse(JSON.stringify(r)) as AuditRecord);
    expect(verify(records)).toEqual({ ok: true, records: 3, head: { seq: 3, hash: records[2]!.hash } });
  });

  it.each<[string, (rs: AuditRecord[]) => AuditRecord[], { seq: number; reason: string }]>([
    // someone changed what the record says
    ['an edited field', (rs) => rs.map((r) => (r.seq === 2 ? { ...r, reason: 'changed afterwards' } : r)), { seq: 2, reason: 'hash_mismatch' }],
    // someone changed the record and recomputed its hash: the next record no longer links
    [
      'an edited record with a recomputed hash',
      (rs) => rs.map((r) => (r.seq === 2 ? (() => { const e = { ...r, action: 'alert.close' }; return { ...e, hash: hashRecord(e) }; })() : r)),
      { seq: 3, reason: 'prev_hash_mismatch' },
    ],
    ['a deleted record', (rs) => rs.filter((r) => r.seq !== 3), { seq: 3, reason: 'gap' }],
    ['a replayed record', (rs) => [rs[0]!, rs[1]!, rs[1]!, ...rs.slice(2)], { seq: 3, reason: 'gap' }],
    ['a deleted first record', (rs) => rs.slice(1), { seq: 1, reason: 'gap' }],
  ])('names the first broken record after %s', (_what, tamper, firstBroken) => {
    const result = verify(tamper(chain(5)));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.firstBroken).toEqual(firstBroken);
      expect(result.message).toContain(`#${firstBroken.seq}`);
    }
  });

  it('an empty chain verifies with no head', () => {
    expect(verify([])).toEqual({ ok: true, records: 0, head: null });
  });

  it('a chain cut below a signed checkpoint is a gap', () => {
    const records = chain(5);
    const result = verify(records.slice(0, 3), [{ seq: 5, hash: records[4]!.hash }]);
    expect(result).toMatchObject({ ok: false, firstBroken: { seq: 4, reason: 'gap' } });
  });

  it('a chain rewritten consistently from the start is caught by the checkpoint it no longer matches', () => {
    const original = chain(4);
    const forged: AuditRecord[] = [];
    for (let i = 0; i < 4; i++) forged.push(buildRecord({ ...input(i), reason: 'forged' }, forged.at(-1) ?? null, new Date(Date.UTC(2026, 0, 1, 0, i))));
    expect(verify(forged).ok).toBe(true);
    expect(verify(forged, [{ seq: 3, hash: original[2]!.hash }])).toMatchObject({ ok: false, firstBroken: { seq: 3, reason: 'checkpoint_mismatch' } });
  });
});

describe('checkpoints', () => {
  const key = Buffer.from('k'.repeat(32));
  it('verify with the key that signed them and fail with another key or a changed head', () => {
    const cp = signCheckpoint(key, { seq: 7, hash: 'ab'.repeat(32) }, new Date('2026-01-01T00:00:00Z'));
    expect(checkpointSignatureValid(key, cp)).toBe(true);
    expect(checkpointSignatureValid(Buffer.from('x'.repeat(32)), cp)).toBe(false);
    expect(checkpointSignatureValid(key, { ...cp, seq: 8 })).toBe(false);
    expect(checkpointSignatureValid(key, { ...cp, signature: 'not hex' })).toBe(false);
  });
});
