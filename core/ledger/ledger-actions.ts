import { randomBytes } from 'node:crypto';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { UserStore } from '../auth/user-store.js';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { CreateLedgerItem, EvidenceInput, LedgerItem, UpdateLedgerItem } from './ledger-item.js';
import { decideLedgerTransition, type LedgerAction } from './ledger-state.js';
import type { LedgerStore } from './ledger-store.js';

export interface LedgerDeps {
  ledger: LedgerStore;
  users: UserStore;
  /** Only `get` is needed: an item from an alert must name an alert that exists. */
  alerts: { get(id: string): Promise<unknown> };
  audit: AuditLog;
  now: () => Date;
}

export interface ActContext {
  actor: AuditActor;
  requestId?: string;
}

function newLedgerId(now: Date): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return `zg-${day}-${randomBytes(4).toString('hex')}`;
}

function checkVersion(item: LedgerItem, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && expectedVersion !== item.version) {
    throw new ConflictError(`整改事项已被他人修改（当前版本 ${item.version}），请刷新后再试 (version ${expectedVersion} is stale; current is ${item.version})`, 'version_conflict');
  }
}

async function resolveResponsible(deps: LedgerDeps, username: string): Promise<{ section?: string }> {
  const user = await deps.users.get(username);
  if (!user || user.disabled) throw new InvalidInputError(`responsible: 用户 ${username} 不存在或已停用 (no such active user)`, 'invalid_body');
  return { section: user.section };
}

/** Creates an item (audited on the item and, for one from an alert, on the alert too). */
export async function createLedgerItem(deps: LedgerDeps, input: CreateLedgerItem, ctx: ActContext): Promise<LedgerItem> {
  const now = deps.now();
  const { section } = await resolveResponsible(deps, input.responsible);
  if (input.alertId !== undefined && !(await deps.alerts.get(input.alertId))) {
    throw new InvalidInputError(`alertId: 预警 ${input.alertId} 不存在 (no such alert)`, 'invalid_body');
  }
  const at = now.toISOString();
  const item: LedgerItem = {
    id: newLedgerId(now),
    version: 1,
    source: input.source,
    ...(input.alertId !== undefined ? { alertId: input.alertId } : {}),
    ...(input.sourceRef !== undefined ? { sourceRef: input.sourceRef } : {}),
    problem: input.problem,
    measures: input.measures,
    responsible: input.responsible,
    ...((input.section ?? section) !== undefined ? { section: input.section ?? section } : {}),
    deadline: new Date(input.deadline).toISOString(),
    status: 'open',
    evidence: input.evidence.map((e) => ({ ...e, addedBy: ctx.actor.id, addedAt: at })),
    overdue: new Date(input.deadline).getTime() <= now.getTime(),
    reminders: [],
    createdBy: ctx.actor.id,
    createdAt: at,
    updatedAt: at,
    history: [{ at, by: ctx.actor.id, action: 'create', to: 'open' }],
  };
  await deps.ledger.create(item);
  await deps.audit.record({ actor: ctx.actor, entity: { type: 'ledger', id: item.id }, action: 'ledger.create', after: summary(item), requestId: ctx.requestId });
  if (item.alertId) {
    await deps.audit.record({ actor: ctx.actor, entity: { type: 'alert', id: item.alertId }, action: 'alert.ledger_item_created', after: { ledgerId: item.id }, requestId: ctx.requestId });
  }
  return item;
}

export async function updateLedgerItem(deps: LedgerDeps, id: string, change: UpdateLedgerItem, ctx: ActContext): Promise<LedgerItem> {
  if (change.responsible !== undefined) await resolveResponsible(deps, change.responsible);
  const { expectedVersion, ...fields } = change;
  const at = deps.now().toISOString();
  const { before, after } = await deps.ledger.update(id, (item) => {
    checkVersion(item, expectedVersion);
    if (item.status === 'closed') throw new ConflictError('已销号的事项不能修改，请先重新打开 (a closed item cannot be edited; reopen it first)', 'illegal_transition');
    const next: LedgerItem = { ...item, ...fields, version: item.version + 1, updatedAt: at };
    if (fields.deadline) {
      next.deadline = new Date(fields.deadline).toISOString();
      next.overdue = new Date(next.deadline).getTime() <= deps.now().getTime();
      // A new deadline restarts the reminders.
      next.reminders = [];
    }
    next.history = [...item.history, { at, by: ctx.actor.id, action: 'update', note: Object.keys(fields).join(', ') }];
    return next;
  });
  await deps.audit.record({ actor: ctx.actor, entity: { type: 'ledger', id }, action: 'ledger.update', before: summary(before), after: summary(after), requestId: ctx.requestId });
  return after;
}

export async function addLedgerEvidence(deps: LedgerDeps, id: string, evidence: EvidenceInput, expectedVersion: number | undefined, ctx: ActContext): Promise<LedgerItem> {
  const at = deps.now().toISOString();
  const { after } = await deps.ledger.update(id, (item) => {
    checkVersion(item, expectedVersion);
    if (item.status === 'closed') throw new ConflictError('已销号的事项不能再添加佐证材料 (a closed item takes no more evidence)', 'illegal_transition');
    return {
      ...item,
      version: item.version + 1,
      updatedAt: at,
      evidence: [...item.evidence, { ...evidence, addedBy: ctx.actor.id, addedAt: at }],
      history: [...item.history, { at, by: ctx.actor.id, action: 'evidence' }],
    };
  });
  await deps.audit.record({ actor: ctx.actor, entity: { type: 'ledger', id }, action: 'ledger.add_evidence', after: evidence, requestId: ctx.requestId });
  return after;
}

/** Runs one state-machine action; refusals become 409 with the named reason as the error code. */
export async function transitionLedgerItem(
  deps: LedgerDeps,
  id: string,
  action: LedgerAction,
  options: { note?: string; expectedVersion?: number },
  ctx: ActContext,
): Promise<LedgerItem> {
  const now = deps.now();
  const at = now.toISOString();
  const { before, after } = await deps.ledger.update(id, (item) => {
    checkVersion(item, options.expectedVersion);
    const decision = decideLedgerTransition(item, action, { username: ctx.actor.id }, options.note);
    if (!decision.ok) throw new ConflictError(decision.message, decision.reason);
    const next: LedgerItem = {
      ...item,
      status: decision.to,
      version: item.version + 1,
      updatedAt: at,
      history: [...item.history, { at, by: ctx.actor.id, action, from: item.status, to: decision.to, ...(options.note ? { note: options.note } : {}) }],
    };
    if (action === 'approve' || action === 'reject') {
      next.verifiedBy = ctx.actor.id;
      next.verifiedAt = at;
      if (options.note) next.verificationNote = options.note;
    }
    if (action === 'approve') {
      next.closedAt = at;
      next.overdue = false;
    }
    if (action === 'reopen') {
      delete next.closedAt;
      next.overdue = new Date(item.deadline).getTime() <= now.getTime();
    }
    return next;
  });
  await deps.audit.record({
    actor: ctx.actor,
    entity: { type: 'ledger', id },
    action: `ledger.${action}`,
    before: { status: before.status, version: before.version },
    after: { status: after.status, version: after.version },
    ...(options.note ? { reason: options.note } : {}),
    requestId: ctx.requestId,
  });
  return after;
}

/** What the audit keeps of an item: its fields, without the history it already holds. */
function summary(item: LedgerItem): Omit<LedgerItem, 'history' | 'evidence'> & { evidenceCount: number } {
  const { history: _h, evidence, ...rest } = item;
  return { ...rest, evidenceCount: evidence.length };
}
