import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../core/config/config-schema.js';
import { parseScope } from '../core/reports/report.js';
import { loadSources } from '../core/sources/source.js';
import { RedisSourceHealthStore } from '../crawlers/shared/source-health.js';
import { RedisSourceRegistry } from '../crawlers/shared/source-registry.js';
import { createEsClient } from '../pipeline/elasticsearch/es-client.js';
import { createRedis } from '../pipeline/queues.js';
import { renderDocx } from '../reports/render/docx.js';
import { renderMarkdown } from '../reports/render/markdown.js';
import { renderXlsx } from '../reports/render/xlsx.js';
import { StartupError, checkElasticsearch, checkRedis } from './preflight.js';
import { createInspectionService, createReportService, demoSiteUrl, unitDir } from './services.js';

export const REPORT_USAGE = 'usage: qianshao report --period 2026-Q3 [--scope unit|source:<id>|domain:<name>] [--format docx|xlsx|md] --out <file>';

/** `qianshao report --period 2026-Q3 --scope unit --format docx|xlsx|md --out <file>`: needs Elasticsearch (and Redis for coverage gaps). */
export async function reportCommand(argv: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { period: { type: 'string' }, scope: { type: 'string', default: 'unit' }, format: { type: 'string', default: 'docx' }, out: { type: 'string' }, demo: { type: 'boolean' } }, allowPositionals: true });
  const format = values.format;
  if (!values.period || !values.out || (format !== 'docx' && format !== 'xlsx' && format !== 'md')) throw new StartupError(REPORT_USAGE);
  let scope;
  try {
    scope = parseScope(values.scope);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const sourcesFile = path.join(unitDir(config), 'sources.yaml');
  const sources = existsSync(sourcesFile) ? loadSources(sourcesFile, { DEMO_SITE_URL: demoSiteUrl(config) }) : [];
  const es = createEsClient(config.elasticsearch);
  // Coverage gaps live with the positions' health in Redis: a report without them could hide silent holes.
  const redis = createRedis(config.redis.url);
  redis.on('error', () => undefined);
  try {
    await checkElasticsearch(es, config.elasticsearch.url);
    await checkRedis(redis, config.redis.url);
    const health = new RedisSourceHealthStore(redis, config.redis.prefix);
    // Today's self-inspection of the positions the running product knows (empty when it never ran).
    const inspections = createInspectionService(config, { es, redis, registry: new RedisSourceRegistry(redis, config.redis.prefix), health });
    const service = createReportService(config, es, sources, health, undefined, inspections);
    await service.ensure();
    const report = await service.generate(values.period, scope);
    const body = format === 'docx' ? await renderDocx(report) : format === 'xlsx' ? await renderXlsx(report) : renderMarkdown(report);
    writeFileSync(values.out, body);
    console.log(`${report.scopeLabel}${report.period.label}：${report.empty ? '本期无数据（报告已注明）' : '报告已生成'} → ${values.out}`);
    return 0;
  } finally {
    await es.close();
    redis.disconnect();
  }
}
