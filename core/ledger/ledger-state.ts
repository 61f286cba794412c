import type { LedgerItem, LedgerStatus } from './ledger-item.js';

/**
 * The rectification ledger's one state machine. Every status change goes through
 * `decideLedgerTransition`, which returns the new status or a named reason for refusing.
 */
export type LedgerAction = 'start' | 'submit' | 'approve' | 'reject' | 'reopen';

export const LEDGER_ACTION_NAMES: Record<LedgerAction, string> = {
  start: '开始整改',
  submit: '提交验收',
  approve: '验收通过（销号）',
  reject: '验收不通过',
  reopen: '重新打开',
};

const TRANSITIONS: Record<LedgerAction, { from: readonly LedgerStatus[]; to: LedgerStatus }> = {
  start: { from: ['open', 'reopened'], to: 'in_progress' },
  submit: { from: ['in_progress'], to: 'awaiting_verification' },
  approve: { from: ['awaiting_verification'], to: 'closed' },
  reject: { from: ['awaiting_verification'], to: 'in_progress' },
  reopen: { from: ['closed'], to: 'reopened' },
};

export type LedgerRefusal =
  /** The action does not apply to the item's current status. */
  | 'illegal_transition'
  /** Verification (approve or reject) by the responsible person themself. */
  | 'verifier_is_responsible'
  /** Submitting for verification without any evidence. */
  | 'evidence_required'
  /** Rejecting or reopening without saying why. */
  | 'reason_required';

export type LedgerDecision = { ok: true; to: LedgerStatus } | { ok: false; reason: LedgerRefusal; message: string };

export function decideLedgerTransition(
  item: Pick<LedgerItem, 'status' | 'responsible' | 'evidence'>,
  action: LedgerAction,
  actor: { username: string },
  note?: string,
): LedgerDecision {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(item.status)) {
    return { ok: false, reason: 'illegal_transition', message: `「${LEDGER_ACTION_NAMES[action]}」不适用于当前状态 (cannot ${action} an item that is ${item.status})` };
  }
  if ((action === 'approve' || action === 'reject') && actor.username === item.responsible) {
    return { ok: false, reason: 'verifier_is_responsible', message: '验收须由责任人以外的人进行 (the responsible person cannot verify their own item)' };
  }
  if (action === 'submit' && item.evidence.length === 0) {
    return { ok: false, reason: 'evidence_required', message: '提交验收前请先上传佐证材料 (add evidence before submitting for verification)' };
  }
  if ((action === 'reject' || action === 'reopen') && !note?.trim()) {
    return { ok: false, reason: 'reason_required', message: '请填写原因 (a reason is required)' };
  }
  return { ok: true, to: rule.to };
}

/** Which actions the item allows now, for the dashboard's buttons (permissions aside). */
export function availableLedgerActions(item: Pick<LedgerItem, 'status'>): LedgerAction[] {
  return (Object.keys(TRANSITIONS) as LedgerAction[]).filter((a) => TRANSITIONS[a].from.includes(item.status));
}
