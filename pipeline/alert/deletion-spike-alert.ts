import type { AlertSignal } from '../../core/alerts/raise-alert.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';

/**
 * The alert for a position whose deletions leave their baseline (an early signal of scope
 * `deletions`): one alert per position and signal bucket, merged when later deletions of the bucket
 * re-decide it. A single deletion of a post nobody flagged never raises one; it is only counted.
 */
export function deletionSpikeAlert(signal: SignalRecord): AlertSignal | undefined {
  if (signal.scope !== 'deletions') return undefined;
  return {
    id: `deletions-${signal.id}`,
    packId: 'post-deletions',
    category: '删帖异常',
    ruleLevel: 3,
    groupKey: `deletions:${signal.key}:${signal.bucketStart}`,
    sourceId: signal.key,
    title: `阵地删帖异常：${signal.key}（${signal.bucketMinutes} 分钟内 ${signal.count} 条帖文或评论被删除，基线均值 ${signal.baselineMean}）`,
    postId: `deletions:${signal.key}:${signal.bucketStart}`,
    postAt: signal.bucketStart,
    hits: [],
    terms: [],
    explanation: { terms: [], schemes: [], exclusionsChecked: [`删除数 ${signal.count}，z=${signal.zScore}，倍数 ${signal.ratio}`] },
  };
}
