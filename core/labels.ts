import type { AlertStatus } from './alerts/alert.js';
import type { AlertActionType } from './alerts/lifecycle.js';
import type { ItemKind } from './posts/collected-item.js';
import type { AlertLevel } from './rules/rule-pack.js';
import type { LedgerSource, LedgerStatus } from './ledger/ledger-item.js';

/**
 * The Chinese names staff read for levels, statuses and kinds: one table for the server, the
 * reports and the dashboard. Type-only imports keep this file free of runtime dependencies, so the
 * dashboard bundles it without pulling zod or anything server-side.
 */

export const LEVELS: readonly AlertLevel[] = [1, 2, 3, 4];

/** 一级 … 四级 with the colour each level is known by (红 橙 黄 蓝) and its chart colour. */
export const LEVEL_INFO: Record<AlertLevel, { rank: string; color: string; hex: string }> = {
  1: { rank: '一级', color: '红', hex: '#d93026' },
  2: { rank: '二级', color: '橙', hex: '#f08c00' },
  3: { rank: '三级', color: '黄', hex: '#e6c200' },
  4: { rank: '四级', color: '蓝', hex: '#1c7ed6' },
};

/**
 * A level's name: `short` (一级红) for tags and reasons, `formal` (一级（红）) for tables and
 * figures, `plain` (一级红色) for running text and messages.
 */
export function levelName(level: number, form: 'short' | 'formal' | 'plain' = 'formal'): string {
  const info = LEVEL_INFO[level as AlertLevel] as (typeof LEVEL_INFO)[AlertLevel] | undefined;
  if (!info) return `等级${String(level)}`;
  if (form === 'short') return `${info.rank}${info.color}`;
  if (form === 'plain') return `${info.rank}${info.color}色`;
  return `${info.rank}（${info.color}）`;
}

export const STATUS_NAMES: Record<AlertStatus, string> = {
  new: '待签收',
  acknowledged: '已签收',
  handling: '处置中',
  responded: '已回应',
  closed: '已办结',
  false_positive: '误报',
};

/** What each lifecycle action is called in messages, timelines and the audit trail. */
export const ALERT_ACTION_NAMES: Record<AlertActionType, string> = {
  acknowledge: '签收',
  start_handling: '开始处置',
  respond: '回应',
  close: '办结',
  false_positive: '标记误报',
  reopen: '重新打开',
  change_level: '调整等级',
  assign: '指派',
  escalate: '升级上报',
  trigger_plan: '启动预案',
  assign_plan_step: '指派预案步骤',
  complete_plan_step: '完成预案步骤',
  add_evidence: '添加证据',
};

export const POST_KIND_NAMES: Record<ItemKind, string> = {
  article: '文章',
  comment: '评论',
  message: '留言',
  reply: '回复',
  weibo: '微博',
  attachment: '附件',
};

export const LEDGER_STATUS_NAMES: Record<LedgerStatus, string> = {
  open: '待整改',
  in_progress: '整改中',
  awaiting_verification: '待验收',
  closed: '已销号',
  reopened: '已重新打开',
};

/** 来源 of a ledger item. */
export const LEDGER_SOURCE_NAMES: Record<LedgerSource, string> = {
  alert: '预警',
  self_inspection: '自查',
  superior_feedback: '督查反馈',
  inspection_tour: '巡视反馈',
};

/** A name from one of the tables above, or the key itself when the server sent something newer. */
export function nameOf<K extends string>(table: Record<K, string>, key: string): string {
  return (table as Record<string, string>)[key] ?? key;
}
