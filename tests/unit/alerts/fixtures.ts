import path from 'node:path';
import type { TransitionResult } from '../../../core/alerts/lifecycle.js';
import type { Alert } from '../../../core/alerts/alert.js';
import { newAlert, type AlertSignal } from '../../../core/alerts/raise-alert.js';
import { loadAlertingFiles } from '../../../core/escalation/alerting-files.js';
import type { EscalationPolicy } from '../../../core/escalation/policy.js';
import type { AlertLevel } from '../../../core/rules/rule-pack.js';

const repo = path.resolve(import.meta.dirname, '../../..');
/** The shipped YAML (policy, calendar, plans, demo roster): the tests read what production reads. */
export const shipped = loadAlertingFiles(path.join(repo, 'config'), path.join(repo, 'config/demo'));

export const TZ = 'Asia/Shanghai';
/** 2026-11-24 10:00 in Shanghai: a Tuesday, no holiday, day shift. */
export const T0 = new Date('2026-11-24T02:00:00.000Z');

export function signal(over: Partial<AlertSignal> = {}): AlertSignal {
  return {
    id: 'a1',
    packId: 'sensitive',
    category: '负面',
    ruleLevel: 3,
    groupKey: 'content:web:h1',
    sourceId: 'web',
    title: '城管暴力执法（命中：暴力执法）',
    postId: 'p1',
    postAt: '2026-11-24T01:59:00.000Z',
    hits: [],
    terms: ['暴力执法'],
    explanation: { terms: [{ term: '暴力执法', packId: 'sensitive', category: '负面', level: 3, count: 1 }], schemes: [], exclusionsChecked: [] },
    ...over,
  };
}

export function alertAt(level: AlertLevel, over: Partial<Alert> = {}, policy: EscalationPolicy = shipped.policy, at: Date = T0): Alert {
  const a = newAlert(signal({ ruleLevel: level }), { now: at, policy, calendar: { periods: [] }, timeZone: TZ });
  return { ...a, ...over };
}

/** The alert of a successful transition (fails the test otherwise). */
export function ok(result: TransitionResult): Alert {
  if (!result.ok) throw new Error(`transition refused: ${result.code}: ${result.reason}`);
  return result.alert;
}
