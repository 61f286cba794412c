import type { Alert } from '../../api/types.js';

export type FieldType = 'text' | 'textarea' | 'level' | 'select' | 'datetime' | 'user' | 'switch';

export interface ActionField {
  key: string;
  label: string;
  type: FieldType;
  required?: boolean;
  placeholder?: string;
  options?: { value: string; label: string }[];
}

export interface AlertAction {
  key: string;
  label: string;
  permission: string;
  /** Statuses the action applies in (mirrors the server's state machine, which has the last word). */
  when: readonly string[];
  /** POST path under /api/alerts/:id/. */
  path: string;
  fields: ActionField[];
  /** Shapes the dialog's values into the request body. */
  toBody?: (values: Record<string, unknown>, options: Record<string, { value: string; label: string }[]>) => Record<string, unknown>;
  danger?: boolean;
  primary?: boolean;
}

const OPEN = ['new', 'acknowledged', 'handling', 'responded'] as const;

const EVIDENCE_KINDS = [
  { value: 'link', label: '链接' },
  { value: 'file', label: '文件编号' },
  { value: 'snapshot', label: '页面快照' },
  { value: 'post', label: '帖文' },
];

/** 签收 / 指派 / 升级 / 调整等级 / 启动预案 / 回应 / 办结 / 误报 / 转整改: what each asks for (api/routes/alert-routes.ts). */
export const ALERT_ACTIONS: readonly AlertAction[] = [
  { key: 'acknowledge', label: '签收', permission: 'alert.acknowledge', when: ['new'], path: 'acknowledge', primary: true, fields: [{ key: 'note', label: '备注', type: 'textarea', placeholder: '可选：签收时的情况说明' }] },
  { key: 'handle', label: '开始处置', permission: 'alert.acknowledge', when: ['acknowledged'], path: 'handle', fields: [{ key: 'note', label: '备注', type: 'textarea' }] },
  {
    key: 'assign',
    label: '指派',
    permission: 'alert.assign',
    when: OPEN,
    path: 'assign',
    fields: [
      { key: 'assignee', label: '指派给（人员）', type: 'user', required: true },
      { key: 'note', label: '说明', type: 'textarea' },
    ],
    toBody: (v, options) => {
      const id = String(v.assignee);
      const name = options.assignee?.find((o) => o.value === id)?.label.replace(/（.*$/, '');
      return { kind: 'person', id, ...(name ? { name } : {}), ...(v.note ? { note: v.note } : {}) };
    },
  },
  { key: 'escalate', label: '升级上报', permission: 'alert.escalate', when: OPEN, path: 'escalate', fields: [{ key: 'reason', label: '上报理由', type: 'textarea', required: true }] },
  {
    key: 'level',
    label: '调整等级',
    permission: 'alert.change_level',
    when: OPEN,
    path: 'level',
    fields: [
      { key: 'level', label: '新等级', type: 'level', required: true },
      { key: 'reason', label: '调整理由', type: 'textarea', required: true },
    ],
  },
  { key: 'plan', label: '启动预案', permission: 'plan.trigger', when: OPEN, path: 'plan', fields: [{ key: 'templateId', label: '预案模板', type: 'select', required: true }] },
  {
    key: 'respond',
    label: '回应',
    permission: 'alert.respond',
    when: ['acknowledged', 'handling', 'responded'],
    path: 'respond',
    fields: [
      { key: 'note', label: '回应内容', type: 'textarea', required: true, placeholder: '对外发布或答复的内容摘要、发布渠道' },
      { key: 'pressConference', label: '已召开新闻发布会', type: 'switch' },
    ],
  },
  {
    key: 'evidence',
    label: '添加证据',
    permission: 'alert.respond',
    when: OPEN,
    path: 'evidence',
    fields: [
      { key: 'kind', label: '证据类型', type: 'select', required: true, options: EVIDENCE_KINDS },
      { key: 'ref', label: '链接或编号', type: 'text', required: true },
      { key: 'note', label: '说明', type: 'text' },
    ],
  },
  { key: 'close', label: '办结', permission: 'alert.close', when: ['acknowledged', 'handling', 'responded'], path: 'close', fields: [{ key: 'note', label: '办结情况', type: 'textarea', required: true }] },
  {
    key: 'false_positive',
    label: '误报',
    permission: 'alert.false_positive',
    when: ['new', 'acknowledged', 'handling'],
    path: 'false-positive',
    danger: true,
    fields: [{ key: 'reason', label: '误报原因（用于规则调优）', type: 'textarea', required: true }],
  },
  { key: 'reopen', label: '重新打开', permission: 'alert.reopen', when: ['closed', 'false_positive'], path: 'reopen', fields: [{ key: 'reason', label: '理由', type: 'textarea', required: true }] },
];

/** 转整改: a ledger item from this alert (POST /api/ledger). */
export const LEDGER_ACTION: AlertAction = {
  key: 'ledger',
  label: '转整改',
  permission: 'ledger.write',
  when: ['acknowledged', 'handling', 'responded', 'closed'],
  path: '',
  fields: [
    { key: 'problem', label: '问题描述', type: 'textarea', required: true },
    { key: 'measures', label: '整改措施', type: 'textarea', required: true },
    { key: 'responsible', label: '责任人', type: 'user', required: true },
    { key: 'section', label: '责任科室', type: 'text' },
    { key: 'deadline', label: '整改时限', type: 'datetime', required: true },
  ],
};

export function actionsFor(alert: Pick<Alert, 'status'>, can: (p: string) => boolean): AlertAction[] {
  return [...ALERT_ACTIONS, LEDGER_ACTION].filter((a) => can(a.permission) && a.when.includes(alert.status));
}
