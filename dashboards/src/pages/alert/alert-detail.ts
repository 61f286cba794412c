import { ALERT_ACTION_NAMES } from '../../../../core/labels.js';
import { api } from '../../api/client.js';
import type { Alert, AuditRecord, EventRecord, LedgerItem, Post } from '../../api/types.js';

/** GET /api/alerts/:id: the whole alert (with its version token) and up to 50 of its posts. */
export interface AlertDetail {
  alert: Alert;
  posts: Post[];
}

export function fetchAlert(id: string, signal?: AbortSignal): Promise<AlertDetail> {
  return api<AlertDetail>(`/api/alerts/${encodeURIComponent(id)}`, { signal });
}

export function fetchAlertAudit(id: string, signal?: AbortSignal): Promise<{ records: AuditRecord[] }> {
  return api<{ records: AuditRecord[] }>('/api/audit', { query: { entityType: 'alert', entityId: id, limit: 200 }, signal });
}

export function fetchAlertLedger(id: string, signal?: AbortSignal): Promise<{ items: LedgerItem[] }> {
  return api<{ items: LedgerItem[] }>(`/api/alerts/${encodeURIComponent(id)}/ledger`, { signal });
}

export function fetchEvent(id: string, signal?: AbortSignal): Promise<{ event: EventRecord }> {
  return api<{ event: EventRecord }>(`/api/events/${encodeURIComponent(id)}`, { signal });
}

/** Plan templates that fit this alert's category and level. */
export function fetchPlansFor(alertId: string, signal?: AbortSignal): Promise<{ plans: { id: string; name: string }[] }> {
  return api(`/api/alerts/${encodeURIComponent(alertId)}/plans`, { signal });
}

export function fetchUsers(signal?: AbortSignal): Promise<{ users: { username: string; displayName: string; section?: string }[] }> {
  return api('/api/users', { signal });
}

/** Timeline and audit entries: the lifecycle actions (core/labels.ts) plus what the system records. */
export const TIMELINE_KIND: Readonly<Record<string, string>> = {
  ...ALERT_ACTION_NAMES,
  created: '创建预警',
  create: '创建预警',
  merged: '新增帖文',
  merge: '新增帖文',
  escalation: '自动升级',
  warning: '时限预警',
  breach: '超时',
  'post-deleted': '原帖已删除',
  'post-edited': '原帖已修改',
  'post-restored': '原帖已恢复',
  ledger_item_created: '转整改',
};

export const DECISION_TEXT: Record<string, string> = { send: '发送', defer: '延后', suppress: '不发送' };
export const DELIVERY_TEXT: Record<string, string> = { sent: '已送达', delivered: '已送达', failed: '发送失败', retrying: '重试中', queued: '排队中', digest: '合并发送', rate_limited: '限流等待' };
