import type { Level } from '../api/types.js';

export const LEVELS: readonly Level[] = [1, 2, 3, 4];

export const LEVEL_INFO: Record<Level, { name: string; color: string; cls: string; tag: 'danger' | 'warning' | 'primary' | 'info' }> = {
  1: { name: '一级', color: '红', cls: 'level-1', tag: 'danger' },
  2: { name: '二级', color: '橙', cls: 'level-2', tag: 'warning' },
  3: { name: '三级', color: '黄', cls: 'level-3', tag: 'warning' },
  4: { name: '四级', color: '蓝', cls: 'level-4', tag: 'primary' },
};

export function levelLabel(level: Level): string {
  const l = LEVEL_INFO[level];
  return l ? `${l.name}${l.color}` : `等级${level}`;
}

export const STATUS_LABEL: Record<string, string> = {
  new: '待签收',
  acknowledged: '已签收',
  handling: '处置中',
  responded: '已回应',
  closed: '已办结',
  false_positive: '误报',
};
export const OPEN_STATUSES = ['new', 'acknowledged', 'handling', 'responded'] as const;

export const KIND_LABEL: Record<string, string> = {
  article: '文章',
  comment: '评论',
  message: '留言',
  reply: '回复',
  weibo: '微博',
  attachment: '附件',
  wechat: '公众号文章',
};

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

export const LEDGER_STATUS_LABEL: Record<string, string> = {
  open: '待整改',
  in_progress: '整改中',
  awaiting_verification: '待验收',
  closed: '已销号',
  reopened: '已重新打开',
};

export const LEDGER_ORIGIN_LABEL: Record<string, string> = {
  alert: '预警转入',
  self_inspection: '自查',
  superior_feedback: '督查反馈',
  inspection_tour: '巡视反馈',
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
