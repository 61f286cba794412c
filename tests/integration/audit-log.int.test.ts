import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { isolation } from '../support/isolation.js';
import { runQianshao } from '../support/app-process.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import type { AuditInput } from '../../core/audit/audit-log.js';

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

  it('keeps the chain valid under concurrent appends from two processes', async () => {
    const { log, prefix, indexPrefix } = await freshLog();
    const run = (name: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/audit-appender.ts', iso.redisUrl, prefix, iso.esUrl, indexPrefix, '25', name], {
          cwd: repoRoot,
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.once('exit', resolve);
      });
    expect(await Promise.all([run('writer-a'), run('writer-b')])).toEqual([0, 0]);
    const result = await log.verify();
    expect(result).toMatchObject({ ok: true, records: 50 });
    const actors = new Set((await log.list({ limit: 100 })).map((r) => r.actor.id));
    expect(actors).toEqual(new Set(['writer-a', 'writer-b']));
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
