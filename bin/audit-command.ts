import type { Config } from '../core/config/config-schema.js';
import { createEsClient } from '../pipeline/elasticsearch/es-client.js';
import { ensureIndices, indexNames } from '../pipeline/elasticsearch/indices.js';
import { createRedis } from '../pipeline/queues.js';
import { StartupError, checkElasticsearch } from './preflight.js';
import { createAuditLog } from './services.js';

export const AUDIT_USAGE = 'usage: qianshao audit verify|checkpoint';

/** `qianshao audit verify` (exit 0 when the chain holds, 2 when broken) and `qianshao audit checkpoint`. */
export async function auditCommand(sub: string | undefined, config: Config): Promise<number> {
  if (sub !== 'verify' && sub !== 'checkpoint') throw new StartupError(AUDIT_USAGE);
  const redis = createRedis(config.redis.url);
  redis.on('error', () => undefined);
  const es = createEsClient(config.elasticsearch);
  try {
    await checkElasticsearch(es, config.elasticsearch.url);
    await ensureIndices(es, indexNames(config.elasticsearch.indexPrefix));
    const audit = createAuditLog(config, es, redis);
    const result = sub === 'verify' ? await audit.verify() : (await audit.checkpoint()).verify;
    if (result.ok) {
      console.log(`审计链完整 (audit chain intact): ${result.records} records${result.head ? `, head #${result.head.seq} ${result.head.hash}` : ''}`);
      if (sub === 'checkpoint' && result.head) console.log(`signed checkpoint at #${result.head.seq}`);
      return 0;
    }
    console.log(`审计链已损坏 (audit chain broken) at record #${result.firstBroken.seq} (${result.firstBroken.reason}): ${result.message}`);
    return 2;
  } finally {
    await es.close();
    redis.disconnect();
  }
}
