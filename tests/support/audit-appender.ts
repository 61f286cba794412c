/**
 * A separate process appending to the audit chain, for the concurrency and crash tests:
 * `node --import tsx tests/support/audit-appender.ts <redisUrl> <redisPrefix> <esUrl> <indexPrefix> <count> <name> [concurrency] [lockTtlMs]`.
 * It appends `count` records, `concurrency` at a time (so they are group-committed), and prints
 * `appended <n>` after each settled record.
 */
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';

const [redisUrl, redisPrefix, esUrl, indexPrefix, count, name, concurrency = '1', lockTtlMs = '10000'] = process.argv.slice(2);
const redis = new Redis(redisUrl!);
const es = new Client({ node: esUrl! });
const names = indexNames(indexPrefix!);
const log = new EsAuditLog({ es, redis, prefix: redisPrefix!, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('t'.repeat(32)), lockTtlMs: Number(lockTtlMs) });
let next = 0;
let appended = 0;
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    for (let i = next++; i < Number(count); i = next++) {
      await log.record({ actor: { kind: 'system', id: name!, roles: [] }, entity: { type: 'pipeline', id: name! }, action: 'test.append', after: { i } });
      process.stdout.write(`appended ${++appended}\n`);
    }
  }),
);
await es.close();
redis.disconnect();
