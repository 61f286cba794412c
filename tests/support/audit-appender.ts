/**
 * A separate process appending to the audit chain, for the concurrency test:
 * `node --import tsx tests/support/audit-appender.ts <redisUrl> <redisPrefix> <esUrl> <indexPrefix> <count> <name>`.
 */
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { indexNames } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';

const [redisUrl, redisPrefix, esUrl, indexPrefix, count, name] = process.argv.slice(2);
const redis = new Redis(redisUrl!);
const es = new Client({ node: esUrl! });
const names = indexNames(indexPrefix!);
const log = new EsAuditLog({ es, redis, prefix: redisPrefix!, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('t'.repeat(32)) });
for (let i = 0; i < Number(count); i++) {
  await log.record({ actor: { kind: 'system', id: name!, roles: [] }, entity: { type: 'pipeline', id: name! }, action: 'test.append', after: { i } });
}
await es.close();
redis.disconnect();
