import { createHash } from 'node:crypto';
import type { AlertSignal } from '../../core/alerts/raise-alert.js';
import type { SourceHealthJob } from '../queues.js';

/** `errorClass` of the job a stalled collection raises (`crawl-stall-watch.ts`): no run came, none failed. */
export const STALLED = 'stalled';

/**
 * The alert for a position whose collection keeps failing, or stopped coming: one alert per outage (keyed by the start
 * of its coverage gap), each reminder merged into it as a new entry so the wall shows it again.
 * A recovery raises nothing; the outage stays in the source's health as a closed gap.
 */
export function sourceHealthAlert(job: SourceHealthJob): AlertSignal | undefined {
  if (job.signal === 'recovered') return undefined;
  const outage = createHash('sha256').update(`${job.sourceId}\u0000${job.since}`).digest('hex').slice(0, 16);
  const cause = job.cause ?? '原因未知';
  return {
    id: `source-health-${outage}`,
    packId: 'source-health',
    category: '阵地健康',
    ruleLevel: 3,
    groupKey: `source-health:${job.sourceId}:${job.since}`,
    sourceId: job.sourceId,
    title:
      job.errorClass === STALLED
        ? `阵地采集停滞：${job.sourceName}（${cause}；责任人 ${job.owner.section} ${job.owner.person}）`
        : `阵地采集失败：${job.sourceName}（连续 ${job.consecutiveFailures} 次，${cause}；责任人 ${job.owner.section} ${job.owner.person}）`,
    postId: `source-health:${job.sourceId}:${job.at}`,
    postAt: job.at,
    hits: [],
    terms: [],
    explanation: { terms: [], schemes: [], exclusionsChecked: [] },
  };
}
