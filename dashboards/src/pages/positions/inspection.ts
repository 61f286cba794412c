import { formatTime } from '../../format/time.js';

/** Self-inspection as `GET /api/inspection` returns it (reports/inspection-service.ts). */
export type FindingStatus = 'pass' | 'warn' | 'fail' | 'unknown';

export interface Finding {
  item: string;
  label: string;
  status: FindingStatus;
  reason: string;
  message: string;
  figure: { value: number | null; text: string };
  threshold: { value: number; text: string };
  trace: { counted: string; rows: Record<string, string | number | boolean | null>[]; rowsTotal: number };
}

export interface PositionInspection {
  sourceId: string;
  name: string;
  kind: string;
  owner: { section: string; person: string };
  at: string;
  verdict: FindingStatus;
  findings: Finding[];
  columnsDeclared?: boolean;
  messageBoards?: string[];
}

export interface InspectionAnswer {
  at: string;
  basis: string;
  positions: PositionInspection[];
}

export const STATUS_TAG: Record<FindingStatus, { text: string; type: 'success' | 'warning' | 'danger' | 'info' }> = {
  pass: { text: '通过', type: 'success' },
  warn: { text: '预警', type: 'warning' },
  fail: { text: '不合格', type: 'danger' },
  unknown: { text: '数据不足', type: 'info' },
};

/** Column headers of trace rows; keys without one are shown as they are. */
export const TRACE_HEADERS: Record<string, string> = {
  kind: '类别',
  day: '第几天',
  from: '起',
  probes: '探测次数',
  failures: '失败次数',
  at: '时间',
  status: '状态码',
  errorClass: '失败类型',
  durationMs: '耗时(毫秒)',
  name: '栏目',
  url: '地址',
  type: '栏目类型',
  items: '信息数',
  undated: '无日期',
  newestAt: '最新发布',
  ageDays: '距今天数',
  state: '判定',
  id: '编号',
  sourceId: '阵地',
  title: '标题',
  publishedAt: '留言时间',
  term: '命中词',
  suggestion: '建议改为',
  postId: '信息编号',
  lastSuccessAt: '最近采集成功',
  newestPublishedAt: '最新发布',
  lastNewItemAt: '最近新内容',
};

const COLUMN_TYPE: Record<string, string> = { news: '动态要闻', notice: '通知公告', policy: '政策文件', other: '其他' };

/** Trace keys holding a moment (ISO), shown in Asia/Shanghai like every time in the dashboard. */
const TIME_KEYS = new Set(['from', 'at', 'newestAt', 'publishedAt', 'lastSuccessAt', 'newestPublishedAt', 'lastNewItemAt']);

/** One trace cell as text (crawled values stay plain text). */
export function traceCell(key: string, value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  if (TIME_KEYS.has(key) && typeof value === 'string' && !Number.isNaN(Date.parse(value))) return formatTime(value);
  if (key === 'type' && typeof value === 'string') return COLUMN_TYPE[value] ?? value;
  if (typeof value === 'boolean') return value ? '是' : '否';
  return String(value);
}

export function traceKeys(rows: readonly Record<string, unknown>[]): string[] {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** What a 整改台账 item from a failing or warning finding starts with (source `self_inspection`). */
export function ledgerDraftOf(p: Pick<PositionInspection, 'name' | 'owner'>, f: Pick<Finding, 'label' | 'message' | 'figure' | 'threshold' | 'status'>): { sourceRef: string; problem: string; section: string } {
  return {
    sourceRef: `网站自查·${p.name}·${f.label}`.slice(0, 200),
    problem: `【${STATUS_TAG[f.status].text}】${p.name}：${f.label}。${f.message}（测得：${f.figure.text}；标准：${f.threshold.text}）`.slice(0, 5000),
    section: p.owner.section.slice(0, 80),
  };
}
