import type { Level } from '../api/types.js';
import { LEDGER_SOURCE_NAMES, LEDGER_STATUS_NAMES, LEVELS, POST_KIND_NAMES, STATUS_NAMES, levelName } from '../../../core/labels.js';

/** Names come from core/labels.ts (one table for server, reports and dashboard); keyed by string here because the UI shows whatever the server sends. */
export { LEVELS };
export const STATUS_LABEL: Readonly<Record<string, string>> = STATUS_NAMES;
export const KIND_LABEL: Readonly<Record<string, string>> = POST_KIND_NAMES;
export const LEDGER_STATUS_LABEL: Readonly<Record<string, string>> = LEDGER_STATUS_NAMES;
export const LEDGER_ORIGIN_LABEL: Readonly<Record<string, string>> = LEDGER_SOURCE_NAMES;

/** How each level looks: its CSS class (colours in styles/app.css). */
export const LEVEL_INFO: Record<Level, { cls: string }> = {
  1: { cls: 'level-1' },
  2: { cls: 'level-2' },
  3: { cls: 'level-3' },
  4: { cls: 'level-4' },
};

/** 一级红 … 四级蓝. */
export function levelLabel(level: Level): string {
  return levelName(level, 'short');
}

export const CLOCK_LABEL: Record<string, string> = {
  acknowledge: '签收',
  ack: '签收',
  respond: '回应',
  response: '回应',
  close: '办结',
  press_conference: '发布会',
  plan_step: '预案步骤',
};

export const SENTIMENT_LABEL: Record<string, string> = {
  negative: '负面',
  neutral: '中性',
  positive: '正面',
};

export const ROLE_LABEL: Record<string, string> = {
  admin: '系统管理员',
  duty: '值班员',
  section_chief: '科室负责人',
  leader: '分管领导',
  first_responsible: '第一责任人',
  auditor: '审计员',
  viewer: '只读',
};



export function sentimentText(s: unknown): string {
  if (s === undefined || s === null) return '—';
  if (typeof s === 'string') return SENTIMENT_LABEL[s] ?? s;
  if (typeof s === 'number') return s < -0.2 ? `负面（${s.toFixed(2)}）` : s > 0.2 ? `正面（${s.toFixed(2)}）` : `中性（${s.toFixed(2)}）`;
  if (typeof s === 'object') {
    const o = s as { label?: string; score?: number };
    const label = o.label ? (SENTIMENT_LABEL[o.label] ?? o.label) : '';
    return o.score !== undefined ? `${label}（${o.score.toFixed(2)}）` : label || '—';
  }
  return '—';
}
