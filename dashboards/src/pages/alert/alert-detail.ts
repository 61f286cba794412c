import { api } from '../../api/client.js';
import type { Alert, AuditRecord, Post } from '../../api/types.js';

export interface PlanStep {
  id: string;
  title: string;
  role?: string;
  owner?: string;
  dueAt?: string;
  doneAt?: string;
  doneBy?: string;
  note?: string;
  evidence?: string | string[];
  requiresEvidence?: boolean;
}

export interface AlertPlan {
  id?: string;
  templateId?: string;
  name?: string;
  triggeredAt?: string;
  triggeredBy?: string;
  steps: PlanStep[];
}

export interface EscalationEntry {
  at: string;
  step?: string | number;
  to?: string | string[];
  role?: string;
  reason?: string;
  lateMs?: number;
}

export interface NotificationOutcome {
  at?: string;
  channel?: string;
  channelId?: string;
  recipient?: string;
  recipients?: string[];
  outcome?: string;
  status?: string;
  reason?: string;
  error?: string;
}

export interface TimelineEntry {
  at: string;
  text?: string;
  title?: string;
  postId?: string;
  kind?: string;
}

export interface AlertDetail {
  alert: Alert & {
    explanation?: { groups?: { name: string; terms?: string[]; fired?: boolean }[]; exclusions?: { term: string; fired?: boolean; checked?: boolean }[] };
    plan?: AlertPlan;
    plans?: AlertPlan[];
    escalations?: EscalationEntry[];
    notifications?: NotificationOutcome[];
    evidence?: { at?: string; url?: string; title?: string; note?: string; id?: string }[];
    timeline?: TimelineEntry[];
    history?: { at: string; action: string; by?: string; reason?: string }[];
  };
  posts: Post[];
  related?: Post[];
  event?: { id: string; title?: string; heat?: number; timeline?: TimelineEntry[] };
  plan?: AlertPlan;
  escalations?: EscalationEntry[];
  notifications?: NotificationOutcome[];
  ledger?: LedgerLink[];
}

export interface LedgerLink {
  id: string;
  problem?: string;
  title?: string;
  status: string;
  deadline?: string;
  responsiblePerson?: string;
}

export function fetchAlert(id: string, signal?: AbortSignal): Promise<AlertDetail> {
  return api<AlertDetail>(`/api/alerts/${encodeURIComponent(id)}`, { signal });
}

export function fetchAlertAudit(id: string, signal?: AbortSignal): Promise<{ records: AuditRecord[] }> {
  return api<{ records: AuditRecord[] }>('/api/audit', { query: { entityType: 'alert', entityId: id, limit: 200 }, signal });
}

export function fetchAlertLedger(id: string, signal?: AbortSignal): Promise<{ items: LedgerLink[] }> {
  return api<{ items: LedgerLink[] }>('/api/ledger', { query: { alertId: id, limit: 50 }, signal });
}

export function fetchPlanTemplates(signal?: AbortSignal): Promise<{ templates: { id: string; name: string; level?: number[]; category?: string[] }[] }> {
  return api('/api/plans/templates', { signal });
}

export function fetchUsers(signal?: AbortSignal): Promise<{ users: { username: string; displayName: string; section?: string }[] }> {
  return api('/api/users', { signal });
}
