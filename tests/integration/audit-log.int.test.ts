import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { isolation } from '../support/isolation.js';
import { runQianshao } from '../support/app-process.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog, type EsAuditLogDeps } from '../../pipeline/elasticsearch/es-audit-log.js';
import type { AuditInput, AuditRecord } from '../../core/audit/audit-log.js';
import { buildRecord } from '../../core/audit/audit-chain.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { esClientThrough, esCuttingProxy } from '../support/alerting-harness.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const KEY = Buffer.from('t'.repeat(32));

const entry = (n: number): AuditInput => ({
  actor: { kind: 'user', id: 'duty', displayName: '张值班', roles: ['duty'] },
  entity: { type: 'alert', id: `alert-${n}` },
  action: 'alert.acknowledge',
  before: { status: 'new' },
  after: { status: 'acknowledged' },
  reason: `第${n}次签收`,
  requestId: `req-${n}`,
});

describe('EsAuditLog against real Redis and Elasticsearch', () => {
  const iso = isolation();
  let es: Client;
  let redis: Redis;
  let n = 0;

  /** A fresh chain per test: its own index pair and Redis prefix under this file's isolation prefix. */
  /** Elasticsearch through a cutting proxy with the production client (each request given up after `timeoutMs` when given). */
  async function proxiedEs(timeoutMs?: number) {
    const proxy = esCuttingProxy(iso);
    await proxy.start();
    const client = esClientThrough(proxy, iso);
    const es = timeoutMs === undefined ? client : client.child({ requestTimeout: timeoutMs });
    return {
      proxy,
      es,
      close: async () => {
        await es.close();
        await proxy.stop();
      },
    };
  }

  /** A fresh chain whose log talks to Elasticsearch through a cutting proxy (see `proxiedEs`); `over` adds to the log's deps. */
  async function freshProxiedLog(over: Partial<EsAuditLogDeps> = {}, timeoutMs?: number) {
    const { names, prefix } = await freshLog();
    const { proxy, es: proxied, close } = await proxiedEs(timeoutMs);
    const log = new EsAuditLog({ es: proxied, redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, ...over });
    return { log, names, prefix, proxy, close };
  }

  async function freshLog(key = KEY) {
    n += 1;
    const names = indexNames(`${iso.indexPrefix}-c${n}`);
    await ensureIndices(es, names);
    const prefix = `${iso.redisPrefix}:c${n}`;
    const log = new EsAuditLog({ es, redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: key });
    return { log, names, prefix, indexPrefix: `${iso.indexPrefix}-c${n}` };
  }

  beforeAll(async () => {
    es = new Client({ node: iso.esUrl });
    redis = new Redis(iso.redisUrl);
  });
  afterAll(async () => {
    await es.close();
    redis.disconnect();
    await iso.cleanup();
  });

  it('appends gap-free, linked records and verifies', async () => {
    const { log } = await freshLog();
    const first = await log.record(entry(1));
    const second = await log.record(entry(2));
    expect(first.seq).toBe(1);
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(await log.verify()).toMatchObject({ ok: true, records: 2, head: { seq: 2, hash: second.hash } });
    const listed = await log.list({ entityId: 'alert-2' });
    expect(listed.map((r) => r.seq)).toEqual([2]);
    expect(listed[0]).toMatchObject({ actor: { id: 'duty' }, reason: '第2次签收', requestId: 'req-2' });
  });

  it('fails verification naming a record edited directly in Elasticsearch', async () => {
    const { log, names } = await freshLog();
    for (let i = 1; i <= 5; i++) await log.record(entry(i));
    await es.update({ index: names.audit, id: '3', doc: { reason: '事后改写' }, refresh: true });
    const result = await log.verify();
    expect(result).toMatchObject({ ok: false, firstBroken: { seq: 3, reason: 'hash_mismatch' } });
    if (!result.ok) expect(result.message).toContain('#3');
  });

  it('detects a record deleted from Elasticsearch as a gap', async () => {
    const { log, names } = await freshLog();
    for (let i = 1; i <= 4; i++) await log.record(entry(i));
    await es.delete({ index: names.audit, id: '2', refresh: true });
    expect(await log.verify()).toMatchObject({ ok: false, firstBroken: { seq: 2, reason: 'gap' } });
  });

  it('refuses a replayed record: the sequence number is taken', async () => {
    const { log, names } = await freshLog();
    const rec = await log.record(entry(1));
    await expect(es.create({ index: names.audit, id: '1', document: { ...rec, reason: 'replay' } })).rejects.toThrow(/version_conflict|already exists/);
  });

  it('detects the last records deleted once a signed checkpoint covers them', async () => {
    const { log, names } = await freshLog();
    for (let i = 1; i <= 3; i++) await log.record(entry(i));
    const { checkpoint } = await log.checkpoint();
    expect(checkpoint).toMatchObject({ seq: 3 });
    expect((await log.verify()).ok).toBe(true);
    await es.delete({ index: names.audit, id: '3', refresh: true });
    expect(await log.verify()).toMatchObject({ ok: false, firstBroken: { seq: 3, reason: 'gap' } });
  });

  it('refuses a checkpoint forged without the key', async () => {
    const { log, names } = await freshLog();
    await log.record(entry(1));
    await es.index({ index: names.auditCheckpoints, id: '1', document: { seq: 1, hash: 'ab'.repeat(32), at: new Date().toISOString(), signature: 'cd'.repeat(32) }, refresh: true });
    expect(await log.verify()).toMatchObject({ ok: false, firstBroken: { seq: 1, reason: 'checkpoint_mismatch' } });
  });

  it('does not sign a broken chain', async () => {
    const { log, names } = await freshLog();
    for (let i = 1; i <= 2; i++) await log.record(entry(i));
    await es.update({ index: names.audit, id: '1', doc: { action: 'alert.close' }, refresh: true });
    const { checkpoint, verify } = await log.checkpoint();
    expect(checkpoint).toBeNull();
    expect(verify.ok).toBe(false);
  });

  it('continues the chain after Redis lost its head, and after a stale head', async () => {
    const { log, prefix } = await freshLog();
    for (let i = 1; i <= 3; i++) await log.record(entry(i));
    await redis.del(`${prefix}:audit:head`);
    expect((await log.record(entry(4))).seq).toBe(4);
    const stale = JSON.stringify({ seq: 2, hash: 'ff'.repeat(32) });
    await redis.set(`${prefix}:audit:head`, stale);
    expect((await log.record(entry(5))).seq).toBe(5);
    expect(await log.verify()).toMatchObject({ ok: true, records: 5 });
  });

  it('serialises concurrent appends within a process', async () => {
    const { log } = await freshLog();
    const records = await Promise.all(Array.from({ length: 20 }, (_, i) => log.record(entry(i))));
    expect(new Set(records.map((r) => r.seq)).size).toBe(20);
    expect(await log.verify()).toMatchObject({ ok: true, records: 20 });
  });

  /** A child process appending through its own EsAuditLog (see tests/support/audit-appender.ts). */
  function appender(prefix: string, indexPrefix: string, name: string, count: number, concurrency: number, lockTtlMs = 10_000) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/audit-appender.ts', iso.redisUrl, prefix, iso.esUrl, indexPrefix, String(count), name, String(concurrency), String(lockTtlMs)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let appended = 0;
    child.stdout.on('data', (chunk: Buffer) => (appended = Math.max(appended, ...[...chunk.toString().matchAll(/appended (\d+)/g)].map((m) => Number(m[1])))));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, appended: () => appended };
  }

  it('keeps the chain valid under concurrent appends from two processes', async () => {
    const { log, prefix, indexPrefix } = await freshLog();
    const a = appender(prefix, indexPrefix, 'writer-a', 60, 12);
    const b = appender(prefix, indexPrefix, 'writer-b', 60, 12);
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    const result = await log.verify();
    expect(result).toMatchObject({ ok: true, records: 120, head: { seq: 120 } });
    const actors = new Set((await log.list({ limit: 200 })).map((r) => r.actor.id));
    expect(actors).toEqual(new Set(['writer-a', 'writer-b']));
  });

  it('group-commits concurrent appends of two independent logs: contiguous sequence numbers, one chain, each caller gets its own record', async () => {
    const { log, names, prefix } = await freshLog();
    // A second "process": its own Redis connection and its own EsAuditLog over the same chain.
    const otherRedis = redis.duplicate();
    const other = new EsAuditLog({ es, redis: otherRedis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY });
    const N = 100;
    const tagged = (who: string, i: number): AuditInput => ({ ...entry(i), actor: { kind: 'user', id: who, roles: ['duty'] }, requestId: `${who}-${i}` });
    const [fromA, fromB] = await Promise.all([
      Promise.all(Array.from({ length: N }, (_, i) => log.record(tagged('a', i)))),
      Promise.all(Array.from({ length: N }, (_, i) => other.record(tagged('b', i)))),
    ]);
    otherRedis.disconnect();
    const all = [...fromA, ...fromB].sort((x, y) => x.seq - y.seq);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 2 * N }, (_, i) => i + 1));
    // Each promise resolved with the record of its own input, in the order the calls were made.
    expect(fromA.map((r) => r.requestId)).toEqual(Array.from({ length: N }, (_, i) => `a-${i}`));
    expect(fromB.map((r) => r.requestId)).toEqual(Array.from({ length: N }, (_, i) => `b-${i}`));
    for (const list of [fromA, fromB]) for (let i = 1; i < list.length; i++) expect(list[i]!.seq).toBeGreaterThan(list[i - 1]!.seq);
    // Batches, not one lock hold per record: the writers alternate only a few times.
    const runs = all.filter((r, i) => i === 0 || r.actor.id !== all[i - 1]!.actor.id).length;
    expect(runs).toBeLessThanOrEqual(12);
    expect(await log.verify()).toMatchObject({ ok: true, records: 2 * N, head: { seq: 2 * N, hash: all.at(-1)!.hash } });
    // Tampering with a record in the middle of a batch is still named.
    await es.update({ index: names.audit, id: '137', doc: { reason: '事后改写' }, refresh: true });
    expect(await log.verify()).toMatchObject({ ok: false, firstBroken: { seq: 137, reason: 'hash_mismatch' } });
  });

  it('after a writer died holding the lock with its records written but the head not advanced, the next batch links after them', async () => {
    const { log, names, prefix } = await freshLog();
    let head: AuditRecord | null = null;
    for (let i = 1; i <= 3; i++) head = await log.record(entry(i));
    // What a writer that crashed between its bulk and its release leaves: records 4–5 in
    // Elasticsearch, the cached head still at 3, and the lock never released cleanly.
    for (let seq = 4; seq <= 5; seq++) {
      head = buildRecord({ ...entry(seq), actor: { kind: 'system', id: 'dead-writer', roles: [] } }, head, new Date());
      await es.create({ index: names.audit, id: String(seq), document: head });
    }
    await redis.set(`${prefix}:audit:dirty`, 'dead-writer-token');
    const records = await Promise.all(Array.from({ length: 5 }, (_, i) => log.record(entry(10 + i))));
    expect(records.map((r) => r.seq)).toEqual([6, 7, 8, 9, 10]);
    expect(records[0]!.prevHash).toBe(head!.hash);
    expect(await log.verify()).toMatchObject({ ok: true, records: 10 });
  });

  it('appends one record per once-key: of concurrent calls with one key from two logs (two processes), one appends and the others are told already-recorded', async () => {
    const { log, names, prefix } = await freshLog();
    const otherRedis = redis.duplicate();
    const other = new EsAuditLog({ es, redis: otherRedis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY });
    const key = 'k.write-1@7:1';
    const outcomes = await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => log.recordOnce(entry(i), { key, maybeRecorded: i > 0 })),
      ...Array.from({ length: 3 }, (_, i) => other.recordOnce(entry(10 + i), { key, maybeRecorded: true })),
      log.recordOnce(entry(20), { key: 'k.write-2@7:1', maybeRecorded: false }),
    ]);
    otherRedis.disconnect();
    const recorded = outcomes.flatMap((o) => (o.outcome === 'recorded' ? [o.record] : []));
    expect(recorded.map((r) => r.onceKey).sort()).toEqual([key, 'k.write-2@7:1']);
    const seq = recorded.find((r) => r.onceKey === key)!.seq;
    expect(outcomes.filter((o) => o.outcome === 'already-recorded')).toEqual(Array.from({ length: 5 }, () => ({ outcome: 'already-recorded', seq })));
    expect(await log.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('after Redis lost its data (head, markers and all), a once-key already recorded is found in the records themselves, even by the attempt that made the change', async () => {
    const { log, prefix } = await freshLog();
    await log.recordOnce(entry(1), { key: 'k.lost@1:1', maybeRecorded: false });
    await log.record(entry(2));
    // What a Redis restart without persistence leaves of the chain's keys: nothing.
    const keys = await redis.keys(`${prefix}:audit:*`);
    expect(keys).toContain(`${prefix}:audit:once:k.lost@1:1`);
    await redis.del(...keys);
    expect(await log.recordOnce(entry(3), { key: 'k.lost@1:1', maybeRecorded: false })).toEqual({ outcome: 'already-recorded', seq: 1 });
    expect(await log.recordOnce(entry(4), { key: 'k.new@1:1', maybeRecorded: false })).toMatchObject({ outcome: 'recorded', record: { seq: 3 } });
    expect(await log.verify()).toMatchObject({ ok: true, records: 3 });
  });

  it('a once-key appended by a writer that died before it released the lock (no marker) is found in the records by the next holder', async () => {
    const { log, names, prefix } = await freshLog();
    const head = await log.record(entry(1));
    const orphan = buildRecord({ ...entry(2), actor: { kind: 'system', id: 'dead-writer', roles: [] } }, head, new Date(), 'k.orphan@1:1');
    await es.create({ index: names.audit, id: '2', document: orphan });
    await redis.set(`${prefix}:audit:dirty`, 'dead-writer-token');
    expect(await log.recordOnce(entry(3), { key: 'k.orphan@1:1', maybeRecorded: false })).toEqual({ outcome: 'already-recorded', seq: 2 });
    expect(await log.verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('a once-key appended by a writer that stalled past its lock before releasing (no marker yet) is marked by the next holder, so a later first attempt with that key is told already-recorded', async () => {
    const { names, prefix } = await freshLog();
    const { proxy, es: proxied, close } = await proxiedEs();
    /** The Elasticsearch requests `act` makes, by method and endpoint. */
    const requestsOf = async (act: () => Promise<unknown>) => {
      proxy.requests.length = 0;
      await act();
      return proxy.requests.map((r) => r.requestLine.replace(/ \/(?:[^_/][^/]*\/)?(_\w+)(\/\d+)?.*/, ' $1$2'));
    };
    try {
      const ttlMs = 60_000;
      const log = new EsAuditLog({ es: proxied, redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, onceMarkerTtlMs: ttlMs });
      await log.record(entry(1));
      // After a clean release, a first attempt costs one request: the append.
      expect(await requestsOf(() => log.recordOnce(entry(2), { key: 'k.normal@1:1', maybeRecorded: false }))).toEqual(['POST _bulk']);
      const head = (await log.list({}))[0]!;
      // The stalled writer appended its key at 3; its lock lapsed before it released it, so no marker and no clean release.
      const stalled = buildRecord({ ...entry(3), actor: { kind: 'system', id: 'stalled-writer', roles: [] } }, head, new Date(), 'k.stalled@1:1');
      await es.create({ index: names.audit, id: '3', document: stalled });
      await redis.set(`${prefix}:audit:dirty`, 'stalled-writer-token');
      // The next holder has no key of its own to look up, and releases cleanly.
      const nextHolder = await requestsOf(() => log.record(entry(4)));
      expect(await redis.exists(`${prefix}:audit:dirty`)).toBe(0);
      expect(await requestsOf(async () => expect(await log.recordOnce(entry(5), { key: 'k.stalled@1:1', maybeRecorded: false })).toEqual({ outcome: 'already-recorded', seq: 3 }))).toEqual([]);
      // What that cost the next holder besides reading the true head (a search, then GETs forward): one read of the records after the cached head.
      expect(nextHolder.filter((r) => !/^(POST _search|GET _doc\/\d+)$/.test(r))).toEqual(['POST _mget', 'POST _bulk']);
      // The marker is a normal one: same key format, value and lifetime as the marker of a key this log appended.
      expect(await redis.get(`${prefix}:audit:once:k.stalled@1:1`)).toBe('3');
      for (const key of ['k.stalled@1:1', 'k.normal@1:1']) expect(await redis.pttl(`${prefix}:audit:once:${key}`)).toBeGreaterThan(ttlMs - 10_000);
      expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
    } finally {
      await close();
    }
  });

  it('a once-key appended by another writer whose lock lapsed, found when a create conflicts with it, is marked too, so a later first attempt with that key is told already-recorded', async () => {
    const { log, names, prefix } = await freshLog();
    const first = await log.record(entry(1));
    // The other writer's record lands at 2 after the cached head, past any look at the records: only the create conflict shows it.
    const theirs = buildRecord({ ...entry(2), actor: { kind: 'system', id: 'other-writer', roles: [] } }, first, new Date(), 'k.lapsed@1:1');
    await es.create({ index: names.audit, id: '2', document: theirs });
    expect((await log.record(entry(3))).seq).toBe(3);
    expect(await log.recordOnce(entry(4), { key: 'k.lapsed@1:1', maybeRecorded: false })).toEqual({ outcome: 'already-recorded', seq: 2 });
    expect(await redis.get(`${prefix}:audit:once:k.lapsed@1:1`)).toBe('2');
    expect(await log.verify()).toMatchObject({ ok: true, records: 3 });
  });

  it('a once-key whose marker expired is looked up in the records when an earlier attempt may have recorded it', async () => {
    const { names, prefix } = await freshLog();
    const log = new EsAuditLog({ es, redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, onceMarkerTtlMs: 50 });
    await log.recordOnce(entry(1), { key: 'k.old@1:1', maybeRecorded: false });
    await new Promise((r) => setTimeout(r, 150));
    expect(await redis.exists(`${prefix}:audit:once:k.old@1:1`)).toBe(0);
    expect(await log.recordOnce(entry(2), { key: 'k.old@1:1', maybeRecorded: true })).toEqual({ outcome: 'already-recorded', seq: 1 });
    expect(await log.verify()).toMatchObject({ ok: true, records: 1 });
  });

  it('a once-key recorded twice (by a writer whose lock lapsed, before conflicts looked keys up again) hides no other key looked up with it', async () => {
    const { log, names } = await freshLog();
    let head: AuditRecord | null = null;
    for (const [n, key] of [[1, 'k.twice@1:1'], [2, 'k.twice@1:1'], [3, 'k.other@1:1']] as const) {
      head = buildRecord(entry(n), head, new Date(), key);
      await es.create({ index: names.audit, id: String(head.seq), document: head });
    }
    // No markers (Redis lost them); the first call holds the lock while both resends queue behind it, so they are looked up together.
    const [, twice, other] = await Promise.all([
      log.record(entry(4)),
      log.recordOnce(entry(5), { key: 'k.twice@1:1', maybeRecorded: true }),
      log.recordOnce(entry(6), { key: 'k.other@1:1', maybeRecorded: true }),
    ]);
    expect(other).toEqual({ outcome: 'already-recorded', seq: 3 });
    expect(twice).toEqual({ outcome: 'already-recorded', seq: 1 });
    expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
  });

  it('a create that conflicts with another writer\'s record carrying the same once-key (a lock lapsed under one of them) is told already-recorded, with the callers waiting on it, and not appended again', async () => {
    const { names, prefix } = await freshLog();
    const at = new Date('2026-12-07T08:00:00Z');
    const log = new EsAuditLog({ es, redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, now: () => at });
    const first = await log.record(entry(1));
    // The other writer appended the key at 3, after the record this log appends at 2, without leaving a marker or advancing the head cache.
    const second = buildRecord(entry(2), first, at);
    const theirs = buildRecord({ ...entry(3), actor: { kind: 'system', id: 'other-writer', roles: [] } }, second, at, 'k.race@1:1');
    await es.create({ index: names.audit, id: '3', document: theirs });
    const [appended, mine, follower] = await Promise.all([
      log.record(entry(2)),
      log.recordOnce(entry(4), { key: 'k.race@1:1', maybeRecorded: false }),
      log.recordOnce(entry(5), { key: 'k.race@1:1', maybeRecorded: false }),
    ]);
    expect(appended.hash).toBe(second.hash);
    expect([mine, follower]).toEqual([
      { outcome: 'already-recorded', seq: 3 },
      { outcome: 'already-recorded', seq: 3 },
    ]);
    expect(await redis.get(`${prefix}:audit:once:k.race@1:1`)).toBe('3');
    expect(await log.verify()).toMatchObject({ ok: true, records: 3 });
  });

  it('a writer whose lock lapsed while it stalled (its renewals failing) sends nothing after that: the holder that took the lock over appends its batch whole and the chain verifies', async () => {
    const { names, prefix } = await freshLog();
    const { proxy, es: proxied, close } = await proxiedEs();
    const stalledRedis = redis.duplicate();
    try {
      const at = new Date('2026-12-07T08:00:00Z');
      const common = { es: proxied, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, now: () => at };
      const log = new EsAuditLog({ ...common, redis });
      const stalled = new EsAuditLog({ ...common, redis: stalledRedis, lockTtlMs: 300 });
      await log.record(entry(1));
      // The stalled writer takes the lock after a holder that did not release it cleanly, so it reads the head from
      // Elasticsearch, and stalls there; meanwhile Redis stops answering it, so its lock lapses unrenewed.
      await redis.set(`${prefix}:audit:dirty`, 'earlier-writer');
      const headRead = proxy.holdNext(/_search/);
      const theirs = stalled.record({ ...entry(9), actor: { kind: 'system', id: 'stalled-writer', roles: [] } }).then(
        (record) => record,
        (err: unknown) => err,
      );
      await headRead.held;
      stalledRedis.disconnect();
      // This log waits out the lapsed lock; its second batch (two records) is on its way when the stalled writer wakes.
      const secondBulk = proxy.holdNext(/_bulk/, { after: /_bulk/ });
      const mine = Promise.all([log.record(entry(2)), log.record(entry(3)), log.record(entry(4))]);
      await secondBulk.held;
      headRead.release();
      const outcome = await theirs;
      secondBulk.release();
      const records = await mine;
      expect(outcome).toMatchObject({ code: 'audit_lock_lost' });
      expect(records.map((r) => r.seq)).toEqual([2, 3, 4]);
      expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
    } finally {
      await close();
    }
  });

  it('a holder that cannot trust the head (the last hold ended without a clean release) appends one record per create, so a record another writer\'s late bulk lands meanwhile makes that create conflict and orphans none of the batch', async () => {
    const { log, names, proxy, close } = await freshProxiedLog();
    try {
      const first = await log.record(entry(1));
      // The next bulk never reaches Elasticsearch (the log's resends included): its hold ends without a clean
      // release, and the two records queued behind it form the next batch, under a head read from Elasticsearch.
      proxy.cutNext(/_bulk/, 'before-request', 3);
      const failed = log.record(entry(2)).then(
        () => null,
        (err: unknown) => err,
      );
      const create = proxy.holdNext(/_bulk/);
      while (proxy.cuts.length === 0) await new Promise((r) => setTimeout(r, 5));
      const queued = Promise.all([log.record(entry(3)), log.record(entry(4))]);
      expect(await failed).toBeInstanceOf(Error);
      await create.held;
      // Another writer's bulk, sent before its lock lapsed, reaches Elasticsearch only now: its record takes 2.
      await es.create({ index: names.audit, id: '2', document: buildRecord({ ...entry(9), actor: { kind: 'system', id: 'late-writer', roles: [] } }, first, new Date()) });
      create.release();
      const records = await queued;
      expect(records.map((r) => r.seq)).toEqual([3, 4]);
      expect(records[1]!.prevHash).toBe(records[0]!.hash);
      expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
    } finally {
      await close();
    }
  });

  it('a batch whose first creates conflict with records another writer left past a trusted head (a bulk that reached Elasticsearch after its lock lapsed) has its later records orphaned: the log says so, appends an audit.chain_fork record naming them, and verify points to it', async () => {
    const { names, prefix } = await freshLog();
    const at = new Date('2026-12-07T08:00:00Z');
    let logged = '';
    const sink = new Writable({ write: (chunk, _e, cb) => ((logged += String(chunk)), cb()) });
    const log = new EsAuditLog({ es, redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, now: () => at, log: pino({ level: 'error' }, sink) });
    const first = await log.record(entry(1));
    // The other writer's record lands at 3, linked to the record this log appends at 2, after this log released cleanly at 2.
    const theirs = buildRecord({ ...entry(9), actor: { kind: 'system', id: 'other-writer', roles: [] } }, buildRecord(entry(2), first, at), at);
    await es.create({ index: names.audit, id: '3', document: theirs });
    // One batch of one record, then one of two: its create at 3 conflicts, its create at 4 succeeds after a record never stored.
    const records = await Promise.all([log.record(entry(2)), log.record(entry(3)), log.record(entry(4))]);
    expect(records.map((r) => r.seq)).toEqual([2, 6, 4]);
    expect(JSON.parse(logged.trim())).toMatchObject({ level: 50, orphaned: [4] });
    const fork = (await log.list({ action: 'audit.chain_fork' }))[0];
    expect(fork).toMatchObject({ seq: 5, prevHash: records[2]!.hash, after: { orphaned: [{ seq: 4, hash: records[2]!.hash }] } });
    const result = await log.verify();
    expect(result).toMatchObject({ ok: false, firstBroken: { seq: 4, reason: 'prev_hash_mismatch' } });
    if (!result.ok) expect(result.message).toContain('#5');
  });

  it('a writer whose late bulk forked the chain after its lease was lost (another holder took the sequence number of its first record) still appends the audit.chain_fork record, first in its next hold', async () => {
    const { names, prefix } = await freshLog();
    const { proxy, es: proxied, close } = await proxiedEs();
    let logged = '';
    const sink = new Writable({ write: (chunk, _e, cb) => ((logged += String(chunk)), cb()) });
    try {
      const common = { redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY };
      // A TTL long enough that the held send is answered within half of it (a send is given up on after that).
      const log = new EsAuditLog({ ...common, es: proxied, lockTtlMs: 4_000, log: pino({ level: 'error' }, sink) });
      const other = new EsAuditLog({ ...common, es });
      // One batch of one record, then one of two whose bulk is on its way while the lock lapses under its writer.
      const late = proxy.holdNext(/_bulk/, { after: /_bulk/ });
      const mine = [log.record(entry(1)), log.record(entry(2)), log.record(entry(3))].map((p) =>
        p.then(
          (record) => record,
          (err: unknown) => err,
        ),
      );
      await late.held;
      await redis.del(`${prefix}:audit:lock`);
      // The other writer takes the lock, and its record takes 2; the late writer's renewal then finds its lock gone.
      expect(await other.record({ ...entry(9), actor: { kind: 'system', id: 'other-writer', roles: [] } })).toMatchObject({ seq: 2 });
      await new Promise((r) => setTimeout(r, 1_450));
      late.release();
      const [first, second, third] = await Promise.all(mine);
      expect(first).toMatchObject({ seq: 1 });
      expect(second).toMatchObject({ code: 'audit_lock_lost' });
      expect(third).toMatchObject({ seq: 3 });
      await expect.poll(async () => (await log.list({ action: 'audit.chain_fork' })).length, { timeout: 10_000 }).toBe(1);
      const fork = (await log.list({ action: 'audit.chain_fork' }))[0];
      expect(fork).toMatchObject({ seq: 4, prevHash: (third as AuditRecord).hash, after: { orphaned: [{ seq: 3 }] } });
      expect(logged).toContain('audit chain forked');
      expect(logged).not.toContain('could not be appended');
      const result = await log.verify();
      expect(result).toMatchObject({ ok: false, firstBroken: { seq: 3, reason: 'prev_hash_mismatch' } });
      if (!result.ok) expect(result.message).toContain('#4');
    } finally {
      await close();
    }
  });

  it('a resend across the upgrade that brought once-keys finds the record its first attempt left without one (same actor, action, entity and Idempotency-Key), and no other', async () => {
    const { log, names, prefix } = await freshLog();
    const keyed = (n: number, idempotencyKey: string): AuditInput => ({ ...entry(n), idempotencyKey });
    // What the code before once-keys appended: records without one.
    let head: AuditRecord | null = null;
    for (const input of [keyed(1, 'idem-a'), keyed(2, 'idem-b'), entry(3)]) {
      head = buildRecord(input, head, new Date());
      await es.create({ index: names.audit, id: String(head.seq), document: head });
    }
    expect(await log.recordOnce({ ...keyed(1, 'idem-a'), requestId: 'req-resend' }, { key: 'k.a@1:1', maybeRecorded: true })).toEqual({ outcome: 'already-recorded', seq: 1 });
    // The same Idempotency-Key on another alert is another write.
    expect(await log.recordOnce(keyed(9, 'idem-b'), { key: 'k.b@1:1', maybeRecorded: true })).toMatchObject({ outcome: 'recorded', record: { seq: 4 } });
    // The attempt that just made its change is never an older code's record, even when Redis lost the markers.
    await redis.del(...(await redis.keys(`${prefix}:audit:*`)));
    expect(await log.recordOnce(keyed(2, 'idem-b'), { key: 'k.b2@1:1', maybeRecorded: false })).toMatchObject({ outcome: 'recorded', record: { seq: 5 } });
    expect(await log.verify()).toMatchObject({ ok: true, records: 5 });
  });

  it('a bulk Elasticsearch stored but answered 502 (a gateway in between), which the log then resends: each record is appended once and its caller told it is recorded', async () => {
    const { log, proxy, close } = await freshProxiedLog();
    try {
      await log.record(entry(1));
      proxy.cutNext(/^POST \S*\/_bulk\b/, 'answer-502');
      const outcomes = await Promise.all([log.recordOnce(entry(2), { key: 'k.gateway@1:1', maybeRecorded: false }), log.record(entry(3))]);
      expect(proxy.cuts.map((c) => c.at)).toEqual(['answer-502']);
      expect(proxy.requests.filter((r) => /_bulk/.test(r.requestLine))).toHaveLength(3);
      expect(outcomes).toMatchObject([{ outcome: 'recorded', record: { seq: 2 } }, { seq: 3 }]);
      expect((await log.list({})).map((r) => r.requestId)).toEqual(['req-3', 'req-2', 'req-1']);
      expect(await log.recordOnce(entry(4), { key: 'k.gateway@1:1', maybeRecorded: true })).toEqual({ outcome: 'already-recorded', seq: 2 });
      expect(await log.verify()).toMatchObject({ ok: true, records: 3 });
    } finally {
      await close();
    }
  });

  /** Sets or lifts the write block of a chain's index: Elasticsearch then refuses each create of a bulk (403), as an index made read-only would. */
  const blockWrites = (index: string, blocked: boolean) => es.indices.putSettings({ index, settings: { 'index.blocks.write': blocked } });

  it('records a first send stored but left unanswered, whose resend Elasticsearch refuses item by item, are read back: their callers are told recorded, none is appended twice, and the chain verifies', async () => {
    const { log, names, proxy, close } = await freshProxiedLog();
    try {
      await log.record(entry(1));
      // The first send of the next bulk is stored, its answer lost; its resend is held until the index refuses writes.
      proxy.cutNext(/_bulk/, 'before-response');
      const resend = proxy.holdNext(/_bulk/, { after: /_bulk/ });
      const outcomes = Promise.all([log.recordOnce(entry(2), { key: 'k.refused@1:1', maybeRecorded: false }), log.record(entry(3))].map((p) => p.then((r) => r, (err: unknown) => err)));
      await resend.held;
      await blockWrites(names.audit, true);
      resend.release();
      const answered = await outcomes;
      await blockWrites(names.audit, false);
      expect(proxy.cuts.map((c) => c.at)).toEqual(['before-response']);
      expect(answered).toMatchObject([{ outcome: 'recorded', record: { seq: 2 } }, { seq: 3 }]);
      // A caller told its record failed would send it again; these were told the truth, and the key is known as recorded.
      expect(await log.recordOnce(entry(2), { key: 'k.refused@1:1', maybeRecorded: true })).toEqual({ outcome: 'already-recorded', seq: 2 });
      expect(await log.record(entry(4))).toMatchObject({ seq: 4 });
      expect((await log.list({})).map((r) => r.requestId)).toEqual(['req-4', 'req-3', 'req-2', 'req-1']);
      expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
    } finally {
      await blockWrites(names.audit, false);
      await close();
    }
  });

  it('records whose first send is unanswered and whose resend Elasticsearch refuses item by item, the first send landing later: their callers are told the send that went unanswered may yet store them, the next holder links after what landed, and a resend of a once-key is told already-recorded', async () => {
    const { log, names, prefix, proxy, close } = await freshProxiedLog({ lockTtlMs: 2_000 });
    const late = proxy.holdNext(/_bulk/, { after: /_bulk/, outlivesClient: true });
    try {
      await log.record(entry(1));
      const outcomes = Promise.all([log.recordOnce(entry(2), { key: 'k.late@1:1', maybeRecorded: false }), log.record(entry(3))].map((p) => p.then((r) => r, (err: unknown) => err)));
      // The first send is held past the client's timeout (half the TTL); its resend finds the index refusing writes.
      await late.held;
      await blockWrites(names.audit, true);
      const answered = await outcomes;
      expect(answered).toMatchObject([{ code: 'audit_refused' }, { code: 'audit_refused' }]);
      for (const err of answered) expect((err as Error).message).toMatch(/may yet store it/);
      expect(proxy.requests.filter((r) => /_bulk/.test(r.requestLine))).toHaveLength(3);
      // The hold ends unsure: it releases the lock (well before it would expire) without advancing the head, and not clean.
      await expect.poll(() => redis.exists(`${prefix}:audit:lock`), { timeout: 1_000 }).toBe(0);
      expect(await redis.exists(`${prefix}:audit:dirty`)).toBe(1);
      expect(JSON.parse((await redis.get(`${prefix}:audit:head`))!)).toMatchObject({ seq: 1 });
      // The held first send lands once the index takes writes again: both records are stored after all.
      await blockWrites(names.audit, false);
      late.release();
      await expect.poll(async () => (await es.exists({ index: names.audit, id: '3' })), { timeout: 5_000 }).toBe(true);
      expect(await log.recordOnce(entry(2), { key: 'k.late@1:1', maybeRecorded: true })).toEqual({ outcome: 'already-recorded', seq: 2 });
      expect(await log.record(entry(4))).toMatchObject({ seq: 4 });
      expect((await log.list({})).map((r) => r.requestId)).toEqual(['req-4', 'req-3', 'req-2', 'req-1']);
      expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
    } finally {
      late.release();
      await blockWrites(names.audit, false);
      await close();
    }
  });

  it('a bulk Elasticsearch refuses as a whole (a 429 when its queues are full) wrote nothing: it is not resent, its callers are told Elasticsearch is unavailable, and the lock is released cleanly, so the next holder trusts the head and appends with one bulk', async () => {
    const { log, prefix, proxy, close } = await freshProxiedLog();
    const bulks = () => proxy.requests.filter((r) => /_bulk/.test(r.requestLine)).length;
    try {
      await log.record(entry(1));
      proxy.cutNext(/_bulk/, 'refuse-429');
      expect(await log.record(entry(2)).then((r) => r, (err: unknown) => err)).toMatchObject({ code: 'elasticsearch_unavailable' });
      expect(proxy.cuts.map((c) => c.at)).toEqual(['refuse-429']);
      expect(bulks()).toBe(2);
      expect(await redis.exists(`${prefix}:audit:lock`, `${prefix}:audit:dirty`)).toBe(0);
      const before = proxy.requests.length;
      expect(await log.record(entry(3))).toMatchObject({ seq: 2 });
      expect(proxy.requests.slice(before).map((r) => r.requestLine)).toEqual([expect.stringMatching(/^POST \S*\/_bulk/)]);
      expect(await log.verify()).toMatchObject({ ok: true, records: 2 });
    } finally {
      await close();
    }
  });


  it('a bulk given up on by the client (a timeout) that reaches Elasticsearch only later is resent identical within the lease: its callers are told recorded, the late bulk conflicts with itself, and the chain verifies', async () => {
    const { log, proxy, close } = await freshProxiedLog({}, 1_000);
    try {
      // One batch of one record, then one of two whose bulk is held past the client's timeout.
      const late = proxy.holdNext(/_bulk/, { after: /_bulk/, outlivesClient: true });
      const mine = Promise.all([log.record(entry(1)), log.record(entry(2)), log.record(entry(3))]);
      await late.held;
      const records = await mine;
      expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
      late.release();
      // The late bulk lands behind the resend: both its creates conflict, with records of the same hash.
      await new Promise((r) => setTimeout(r, 300));
      expect((await log.record(entry(4))).seq).toBe(4);
      expect(proxy.requests.filter((r) => /_bulk/.test(r.requestLine))).toHaveLength(4);
      expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
    } finally {
      await close();
    }
  });

  it('a bulk none of whose sends is answered leaves the lock to expire instead of releasing it, so the original landing late goes before the next holder\'s records and orphans none', async () => {
    const { names, prefix } = await freshLog();
    const { proxy, es: proxied, close } = await proxiedEs(1_000);
    try {
      const common = { redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY };
      const log = new EsAuditLog({ ...common, es: proxied, lockTtlMs: 2_000 });
      const other = new EsAuditLog({ ...common, es });
      const late = proxy.holdNext(/_bulk/, { after: /_bulk/, outlivesClient: true });
      const mine = [log.record(entry(1)), log.record(entry(2)), log.record(entry(3))].map((p) =>
        p.then(
          (record) => record,
          (err: unknown) => err,
        ),
      );
      await late.held;
      // Its resends never reach Elasticsearch.
      proxy.cutNext(/_bulk/, 'before-request', 2);
      const [first, second, third] = await Promise.all(mine);
      expect(first).toMatchObject({ seq: 1 });
      expect([second, third]).toMatchObject([{ code: 'elasticsearch_unavailable' }, { code: 'elasticsearch_unavailable' }]);
      const lockLeft = await redis.pttl(`${prefix}:audit:lock`);
      // Another writer comes for the lock; the first send reaches Elasticsearch a little later (or when that writer is done).
      const theirs = other.record({ ...entry(9), actor: { kind: 'system', id: 'other-writer', roles: [] } });
      await Promise.race([theirs, new Promise((r) => setTimeout(r, 300))]);
      late.release();
      expect(await theirs).toMatchObject({ seq: 4 });
      expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
      expect(proxy.pendingCuts).toBe(0);
      expect(lockLeft).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });

  it('a bulk held past half the lock TTL is given up on within the lease, not after the client\'s 30 s; landing after the next holder appended, the records it orphans are named by an audit.chain_fork record by the next holder to read past its head, and verify points to it', async () => {
    const { names, prefix } = await freshLog();
    // The production client: its own request timeout is far longer than the lease.
    const { proxy, es: proxied, close } = await proxiedEs();
    let logged = '';
    const sink = new Writable({ write: (chunk, _e, cb) => ((logged += String(chunk)), cb()) });
    const late = proxy.holdNext(/_bulk/, { after: /_bulk/, outlivesClient: true });
    try {
      const common = { redis, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY };
      const log = new EsAuditLog({ ...common, es: proxied, lockTtlMs: 2_000 });
      const other = new EsAuditLog({ ...common, es, log: pino({ level: 'error' }, sink) });
      // One batch of one record, then one of two whose bulk is held; its resends never reach Elasticsearch.
      const mine = Promise.all([log.record(entry(1)), log.record(entry(2)), log.record(entry(3))].map((p) => p.then((record) => record, (err: unknown) => err)));
      await late.held;
      proxy.cutNext(/_bulk/, 'before-request', 2);
      const outcomes = await settledWithin(mine, 6_000);
      expect(outcomes).toMatchObject([{ seq: 1 }, { code: 'elasticsearch_unavailable' }, { code: 'elasticsearch_unavailable' }]);
      // The next holder takes 2 once the lock expired; the held bulk then lands: 2 conflicts, 3 is stored linked to a record never stored.
      expect(await other.record({ ...entry(9), actor: { kind: 'system', id: 'other-writer', roles: [] } })).toMatchObject({ seq: 2 });
      late.release();
      await expect.poll(async () => (await es.exists({ index: names.audit, id: '3' })), { timeout: 5_000 }).toBe(true);
      // The next record's create at 3 conflicts; reading past its head, the holder finds 3 linked to nothing stored.
      expect(await other.record(entry(10))).toMatchObject({ seq: 5 });
      expect(logged).toContain('audit chain forked');
      const fork = (await other.list({ action: 'audit.chain_fork' }))[0];
      expect(fork).toMatchObject({ seq: 4, after: { orphaned: [{ seq: 3 }] } });
      const result = await other.verify();
      expect(result).toMatchObject({ ok: false, firstBroken: { seq: 3, reason: 'prev_hash_mismatch' } });
      if (!result.ok) expect(result.message).toContain('#4');
      // Named once: a later holder reading past its head again (an unclean release) appends no second fork record.
      await redis.set(`${prefix}:audit:dirty`, 'x');
      await redis.set(`${prefix}:audit:head`, JSON.stringify({ seq: 2, hash: (await other.list({ actorId: 'other-writer' }))[0]!.hash }));
      expect(await other.record(entry(11))).toMatchObject({ seq: 6 });
      expect(await other.list({ action: 'audit.chain_fork' })).toHaveLength(1);
    } finally {
      late.release();
      await close();
    }
  });

  /** A Redis connection as the roles open it (commands wait for Redis to come back), through a proxy that can stop Redis answering. */
  async function mutableRedis() {
    const target = new URL(iso.redisUrl);
    const proxy = new CuttingProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    const client = new Redis(`${proxy.url.replace('http:', 'redis:')}${target.pathname}`, { maxRetriesPerRequest: null });
    return { proxy, client };
  }

  /** What `call` settled with, or 'still waiting' after `ms`. */
  const settledWithin = (call: Promise<unknown>, ms: number) =>
    Promise.race([call.then((v) => v, (err: unknown) => err), new Promise((r) => setTimeout(() => r('still waiting'), ms))]);

  it('when Redis stops answering, a caller waiting to take the writer lock is told Redis is unavailable in bounded time', async () => {
    const { names, prefix } = await freshLog();
    const { proxy, client } = await mutableRedis();
    try {
      const log = new EsAuditLog({ es, redis: client, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, lockTtlMs: 1_000 });
      expect((await log.record(entry(1))).seq).toBe(1);
      proxy.mute();
      expect(await settledWithin(log.record(entry(2)), 5_000)).toMatchObject({ code: 'redis_unavailable' });
    } finally {
      client.disconnect();
      await proxy.stop();
    }
  });

  it('when Redis stops answering during a hold, the renewal the lease needs before the next create is given up on: the caller is told the lock is lost in bounded time', async () => {
    const { names, prefix } = await freshLog();
    const { proxy: redisProxy, client } = await mutableRedis();
    const { proxy: esProxy, es: proxied, close } = await proxiedEs();
    try {
      const log = new EsAuditLog({ es: proxied, redis: client, prefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: KEY, lockTtlMs: 1_000 });
      const create = esProxy.holdNext(/_bulk/);
      const mine = log.record(entry(1));
      await create.held;
      // Another writer's record takes 1 meanwhile, so this create conflicts and the record is linked again, to be sent within the lease.
      await es.create({ index: names.audit, id: '1', document: buildRecord({ ...entry(9), actor: { kind: 'system', id: 'other-writer', roles: [] } }, null, new Date()) });
      redisProxy.mute();
      // Past half the lease, unrenewed: the next create needs a renewal first.
      await new Promise((r) => setTimeout(r, 700));
      create.release();
      expect(await settledWithin(mine, 5_000)).toMatchObject({ code: 'audit_lock_lost' });
    } finally {
      client.disconnect();
      await close();
      await redisProxy.stop();
    }
  });

  it('a writer process killed in the middle of its batches leaves a chain that verifies, and others continue it without a gap', async () => {
    const { log, prefix, indexPrefix } = await freshLog();
    const victim = appender(prefix, indexPrefix, 'victim', 5_000, 40, 1_000);
    while (victim.appended() < 150) await new Promise((r) => setTimeout(r, 20));
    victim.child.kill('SIGKILL');
    await victim.exited;
    // The survivor waits out the dead writer's lock (1 s) and reads the true head from Elasticsearch.
    const after = await Promise.all(Array.from({ length: 30 }, (_, i) => log.record(entry(i))));
    const result = await log.verify();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.head!.seq).toBe(after.at(-1)!.seq);
    expect(after.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => result.records - 29 + i));
    expect(result.records).toBeGreaterThanOrEqual(150 + 30);
  });

  it('`qianshao audit verify` exits 0 on an intact chain and 2 naming the edited record', async () => {
    const { log, names, prefix, indexPrefix } = await freshLog(Buffer.from('c'.repeat(40)));
    for (let i = 1; i <= 3; i++) await log.record(entry(i));
    const env = { REDIS_URL: iso.redisUrl, REDIS_PREFIX: prefix, ES_URL: iso.esUrl, ES_INDEX_PREFIX: indexPrefix, AUDIT_CHECKPOINT_KEY: 'c'.repeat(40) };
    const intact = runQianshao(['audit', 'verify'], env);
    expect(await intact.exited).toBe(0);
    expect(intact.output()).toContain('3 records');
    await es.update({ index: names.audit, id: '2', doc: { after: { status: 'closed' } }, refresh: true });
    const broken = runQianshao(['audit', 'verify'], env);
    expect(await broken.exited).toBe(2);
    expect(broken.output()).toContain('#2');
  });
});
