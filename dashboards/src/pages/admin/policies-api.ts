import { api } from '../../api/client.js';
import type { EscalationPolicy } from '../../api/types.js';

export interface PlanTemplate {
  id: string;
  name: string;
  categories: string[];
  levels: number[];
  steps: { id: string; title: string; role: string; deadlineSeconds: number; evidenceRequired: boolean }[];
}
export interface SensitivePeriod {
  name: string;
  from: string;
  to: string;
  raiseLevels: number;
  holiday: boolean;
  categories: string[];
}
export interface PoliciesAnswer {
  policy: EscalationPolicy;
  calendar: { periods: SensitivePeriod[] };
  plans: PlanTemplate[];
  timeZone: string;
}

/** GET /api/escalation/policies: the policy, the sensitive-period calendar and the plan templates in force. */
export function fetchPolicies(signal?: AbortSignal): Promise<PoliciesAnswer> {
  return api<PoliciesAnswer>('/api/escalation/policies', { signal });
}

export function seconds(s: number | undefined): string {
  if (s === undefined) return '—';
  if (s % 86400 === 0) return `${s / 86400} 天`;
  if (s % 3600 === 0) return `${s / 3600} 小时`;
  if (s % 60 === 0) return `${s / 60} 分钟`;
  return `${s} 秒`;
}
