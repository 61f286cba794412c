import { createHash, randomUUID } from 'node:crypto';
import type { Alert, NotificationRecord, VersionedAlert } from '../../core/alerts/alert.js';
import { STATUS_NAMES, levelName } from '../../core/labels.js';
import { decideNotification, describeDecision, type NotificationTrigger } from '../../core/alerts/decide-notification.js';
import { applyAlertAction, type AlertAction } from '../../core/alerts/lifecycle.js';
import { decidePostChangeNote, holderOf, postChangeEntry, type PostChange, type PostChangeNoteReason } from '../../core/alerts/post-change-note.js';
import { mergeSignal, newAlert, type AlertSignal } from '../../core/alerts/raise-alert.js';
import { systemActor, type AuditActor, type AuditInput, type AuditLog } from '../../core/audit/audit-log.js';
import type { Calendar } from '../../core/calendar/sensitive-periods.js';
import { channelsOf, recipientOf, type DutyPick, type Roster } from '../../core/duty/roster.js';
import { decideClock, fireClock, nextDueAt, SLA_NAMES, type Clock } from '../../core/escalation/clocks.js';
import { CHAIN_ROLE_NAMES, ChainRoleSchema, type ChainRole, type EscalationPolicy } from '../../core/escalation/policy.js';
import { resolveRecipients, rolesAtOnce } from '../../core/escalation/recipients.js';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { NotifyJob } from '../../core/notify/notification.js';
import { clip, oneLine } from '../../core/text/clip.js';
import type { AlertStore } from '../elasticsearch/es-alert-store.js';
import type { RosterStore } from '../elasticsearch/es-roster-store.js';
import { ABSENT, carriesWriteOf, keyedReceipt, parseVersion, RECEIPTS_KEPT, writeOf } from '../elasticsearch/write-receipts.js';
import type { ClockScheduler } from '../escalate/clock-scheduler.js';
import type { UnconfirmedWrite, UnrecordedWrite, UnsettledWrite, UnsettledWrites } from '../redis/redis-unsettled-writes.js';

/** A change the live stream (SSE) tells dashboards about. */
export interface AlertChange {
  alertId: string;
  change: string;
  status: Alert['status'];
  level: Alert['level'];
  version: string;
  at: string;
}

export interface AlertDeskDeps {
  alerts: AlertStore;
  audit: AuditLog;
  clocks: ClockScheduler;
  /** Writes whose outcome stayed unknown, kept for `settleUnsettledWrites`. */
  unsettled: UnsettledWrites;
  roster: RosterStore;
  /** Enqueues deliveries on the `notify` queue (job id = NotifyJob.id). */
  enqueueNotifications(jobs: NotifyJob[]): Promise<void>;
  publish(change: AlertChange): Promise<void>;
  /** The policy in force now; each alert snapshots it at creation. */
  policy: EscalationPolicy;
  calendar: Calendar;
  timeZone: string;
  /** Absolute dashboard URL; messages link to `<base>/alerts/<id>` (the dashboard uses history routing) for acknowledgement. */
  linkBase: string;
  now(): Date;
  log: Logger;
}

export type FireOutcome = 'fired' | 'stale' | 'already-fired' | 'early' | 'missing';

/**
 * What became of an unsettled write: it landed and its audit record, clocks and notifications were
 * written now (`recorded`), or a resend, a job's retry or its own append had written the record
 * (`already-recorded`); it did not land (`not-landed`: another write replaced the version it
 * needed, or the settler did, so it never can); the alert is gone (`missing`).
 */
export type SettleOutcome = 'recorded' | 'already-recorded' | 'not-landed' | 'missing' | 'undecidable';

/** Runs of the settler an unsettled write may fail (Elasticsearch unreachable, a hot alert) before it is set aside for a person. */
export const SETTLE_ATTEMPTS = 100;

const MAX_RETRIES = 8;

/** The audit action an unsettled write stands for: the record it owes, or its person's action. */
const auditActionOf = (write: UnsettledWrite): string => ('owed' in write ? write.owed.record.action : `alert.${write.action.type}`);

/**
 * A write that landed, and what it is owed: its deliveries, its one audit record (once-key: its
 * receipt), its clocks and its live change.
 */
interface LandedWrite {
  alert: Alert;
  before?: Alert;
  version: string;
  /** The receipt the write left among the alert's `writes`. */
  receipt: string;
  jobs: NotifyJob[];
  /** The change the live stream names. */
  change: string;
  actor: AuditActor;
  /** The audit action (`alert.acknowledge`, `alert.merge`, `alert.clock.escalation`). */
  action: string;
  reason?: string;
  /** Fields the audit record's `after` carries beside the alert's view. */
  extra?: Record<string, unknown>;
  requestId?: string;
  idempotencyKey?: string;
  /** Whether an attempt that ended earlier may have recorded it (`AuditOnce.maybeRecorded`). */
  maybeRecorded?: boolean;
}


function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

/** What the audit keeps of an alert before and after a change (the posts and hits are in the alert itself). */
export function auditView(alert: Alert): Record<string, unknown> {
  return {
    status: alert.status,
    level: alert.level,
    assignee: alert.assignee,
    escalationStep: alert.escalationStep,
    postCount: alert.postIds.length,
    reopenCount: alert.reopenCount,
    ...(alert.plan ? { plan: { templateId: alert.plan.templateId, done: alert.plan.steps.filter((s) => s.completedAt).map((s) => s.id) } } : {}),
    ...(alert.falsePositiveReason ? { falsePositiveReason: alert.falsePositiveReason } : {}),
  };
}

const reasonOf = (action: AlertAction) => ('reason' in action ? action.reason : 'note' in action ? action.note : undefined);

/** Who made a write, on which alert, in which request, and its receipt. */
function identityOf(w: Pick<LandedWrite, 'alert' | 'receipt' | 'actor' | 'requestId' | 'idempotencyKey'>): Pick<UnrecordedWrite, 'alertId' | 'receipt' | 'actor' | 'requestId' | 'idempotencyKey'> {
  return {
    alertId: w.alert.id,
    receipt: w.receipt,
    actor: w.actor,
    ...(w.requestId ? { requestId: w.requestId } : {}),
    ...(w.idempotencyKey ? { idempotencyKey: w.idempotencyKey } : {}),
  };
}

/** What a write's audit record says it changed: its action, the alert's view before and after (with the notifications it decided), why. */
function recordOf(w: Pick<LandedWrite, 'alert' | 'before' | 'action' | 'reason' | 'extra'>): UnrecordedWrite['owed']['record'] {
  const { alert, before } = w;
  return {
    action: w.action,
    ...(before ? { before: auditView(before) } : {}),
    after: { ...auditView(alert), ...(w.extra ?? {}), notifications: alert.notifications.slice(before?.notifications.length ?? 0).map((n) => ({ reason: n.reason, decision: n.decision, recipients: n.recipients })) },
    ...(w.reason ? { reason: w.reason } : {}),
  };
}

/** The audit record of a landed write: its identity (who, on which alert, in which request) and what it changed. */
function auditInputOf(write: Pick<UnrecordedWrite, 'alertId' | 'actor' | 'requestId' | 'idempotencyKey'>, record: UnrecordedWrite['owed']['record']): AuditInput {
  return {
    actor: write.actor,
    entity: { type: 'alert', id: write.alertId },
    ...record,
    ...(write.requestId ? { requestId: write.requestId } : {}),
    ...(write.idempotencyKey ? { idempotencyKey: write.idempotencyKey } : {}),
  };
}

/**
 * The alert desk: the one place alerts change. Each change is a pure decision (lifecycle, clocks,
 * notification) applied to the stored alert with compare-and-set; only after the write succeeds
 * are notifications enqueued, clocks armed, the audit record written and the change published.
 */
export class AlertDesk {
  constructor(private readonly deps: AlertDeskDeps) {}

  /**
   * Creates the alert of a signal, or merges the signal into it (reopening a closed alert whose event
   * grows). `raiser` names the raise across its attempts (the evaluation job's id, kept by BullMQ's
   * retries); the create's receipt carries it, so when the create's outcome was unknown, the next
   * look (once more in this call, or the job's retry) that finds the alert stored by it writes what
   * the create was owed (`recordUnansweredCreate`).
   */
  async raise(signal: AlertSignal, raiser?: string): Promise<{ alertId: string; outcome: 'created' | 'merged' | 'reopened' | 'unchanged' }> {
    const d = this.deps;
    const key = `raise\u0000${raiser ?? randomUUID()}\u0000${signal.id}`;
    let lookedAgain = false;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const now = d.now();
      const ctx = { now, policy: d.policy, calendar: d.calendar, timeZone: d.timeZone };
      const existing = await d.alerts.getVersioned(signal.id);
      if (!existing) {
        let alert = newAlert(signal, ctx);
        const notes = await this.planNotifications(alert, 'created', rolesAtOnce(alert.level, alert.policy.topOfChainAtOnce), false, now, 'created');
        alert = this.withNotifications(alert, notes.records);
        let created;
        try {
          created = await d.alerts.create(alert, key);
        } catch (err) {
          // Whether it was stored could not be read back: look once more before giving up.
          if (!(err instanceof UnavailableError && err.code === 'write_outcome_unknown') || lookedAgain) throw err;
          lookedAgain = true;
          continue;
        }
        if (!created.created) continue;
        await this.afterWrite({ alert, version: created.version, receipt: keyedReceipt(key, ABSENT), jobs: notes.jobs, change: 'created', actor: systemActor('alert-evaluator'), action: 'alert.create' });
        return { alertId: alert.id, outcome: 'created' };
      }
      if (carriesWriteOf(existing.alert.writes, key) && (await this.recordUnansweredCreate(existing, key))) return { alertId: signal.id, outcome: 'created' };
      const merged = mergeSignal(existing.alert, signal, ctx);
      if (merged.outcome === 'unchanged') return { alertId: signal.id, outcome: 'unchanged' };
      let alert = merged.alert;
      const top = merged.levelRaised && alert.policy.topOfChainAtOnce.includes(alert.level);
      const trigger: NotificationTrigger = merged.outcome === 'reopened' ? 'reopened' : top ? 'level-raised' : 'merged';
      const roles: ChainRole[] = merged.outcome === 'reopened' || top ? rolesAtOnce(alert.level, alert.policy.topOfChainAtOnce) : alert.assignee ? [] : ['duty'];
      const notes = await this.planNotifications(alert, trigger, roles, true, now, `${merged.outcome}-${alert.postIds.length}`);
      alert = this.withNotifications(alert, notes.records);
      const action = merged.outcome === 'reopened' ? 'alert.reopen' : 'alert.merge';
      const written = await this.writeSystemChange(existing.version, { alert, before: existing.alert, jobs: notes.jobs, change: merged.outcome, actor: systemActor('alert-evaluator'), action });
      if (written) return { alertId: alert.id, outcome: merged.outcome };
    }
    throw new ConflictError(`alert ${signal.id}: gave up after ${MAX_RETRIES} concurrent changes`, 'version_conflict');
  }

  /**
   * An alert stored by an earlier attempt of this raise whose create was never answered: its
   * `alert.create` record, notifications and clocks are written now, unless that attempt got to
   * them (its record is looked up: an alert has one). True when they were written here.
   */
  private async recordUnansweredCreate({ alert, version }: VersionedAlert, key: string): Promise<boolean> {
    const d = this.deps;
    if ((await d.audit.list({ entityType: 'alert', entityId: alert.id, action: 'alert.create', limit: 1 })).length > 0) return false;
    const why = '创建时未获应答，补记 (the answer to the create was lost; recorded when a later attempt found the alert stored)';
    const receipt = writeOf(alert.writes, key)!;
    const jobs = await this.creationJobs(alert);
    await this.afterWrite({ alert, version, receipt, jobs, change: 'created', actor: systemActor('alert-evaluator'), action: 'alert.create', reason: why, maybeRecorded: true });
    return true;
  }

  /** The deliveries decided when the alert was created (its `created` record), rebuilt with the same job ids. */
  private async creationJobs(alert: Alert): Promise<NotifyJob[]> {
    const record = alert.notifications.find((n) => n.trigger === 'created');
    return record ? this.jobsOfRecord(alert, record, 'created', record.summary) : [];
  }

  /** The deliveries a notification record decided to send, rebuilt with the job ids they had (`key`: the occasion's). */
  private async jobsOfRecord(alert: Alert, record: NotificationRecord, key: string, why: string): Promise<NotifyJob[]> {
    if (record.decision !== 'send') return [];
    const roster = await this.roster();
    const picks = record.recipients.flatMap((u) => {
      const person = roster.people.find((p) => p.username === u);
      return person ? [{ person, via: 'resent' }] : [];
    });
    return this.buildJobs(alert, picks, record.reason, key, why);
  }

  /**
   * A post was deleted, reworded or restored: each alert holding it or its event gets a history
   * entry (原帖已删除 / 原帖已修改), and the holder of an open one is told (the duty officer while
   * nobody holds it). Each decision carries its named reason; a change is noted once per alert.
   */
  async notePostChange(change: PostChange): Promise<{ alertId: string; reason: PostChangeNoteReason }[]> {
    const d = this.deps;
    const outcomes: { alertId: string; reason: PostChangeNoteReason }[] = [];
    for (const found of await d.alerts.touchingPost(change.postId, change.eventId)) {
      outcomes.push({ alertId: found.id, reason: await this.notePostChangeOn(found.id, change) });
    }
    return outcomes;
  }

  private async notePostChangeOn(alertId: string, change: PostChange): Promise<PostChangeNoteReason> {
    const d = this.deps;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await d.alerts.getVersioned(alertId);
      if (!current) return 'already-noted';
      const decision = decidePostChangeNote(current.alert, change);
      if (!decision.record) return decision.reason;
      const now = d.now();
      const entry = postChangeEntry(change, decision.reason, now);
      let alert: Alert = { ...current.alert, timeline: [...current.alert.timeline, entry], updatedAt: now.toISOString() };
      const holder = holderOf(alert);
      const notes = decision.notify
        ? await this.planNotifications({ ...alert, ...(holder ? { assignee: holder } : {}) }, 'post-changed', holder ? [] : ['duty'], true, now, `post-change-${change.postId}-${change.key}`, entry.note)
        : { records: [], jobs: [] };
      alert = this.withNotifications(alert, notes.records);
      const written = await this.writeSystemChange(current.version, {
        alert,
        before: current.alert,
        jobs: notes.jobs,
        change: entry.kind,
        actor: systemActor('collector'),
        action: `alert.${entry.kind}`,
        reason: entry.note,
        extra: { postId: change.postId, reason: decision.reason },
      });
      if (written) return decision.reason;
    }
    throw new ConflictError(`alert ${alertId}: gave up noting a post change after ${MAX_RETRIES} concurrent changes`, 'version_conflict');
  }

  /**
   * A person acts on an alert. With `expectedVersion` (what the person saw), any change since is a
   * 409; without it, a concurrent change re-reads and re-checks, so of two people signing at once
   * one wins and the other is told who signed. With `idempotencyKey` (the client's, the same on a
   * resend) a resend whose first write landed is answered with the alert (`answerResent`).
   */
  async act(id: string, action: AlertAction, actor: AuditActor, requestId?: string, expectedVersion?: string, idempotencyKey?: string): Promise<VersionedAlert> {
    const d = this.deps;
    // The key covers the action's body too: a resend whose body was changed (level 3 after a lost level 2) is a new request.
    const key = idempotencyKey === undefined ? undefined : `act\u0000${actor.id}\u0000${idempotencyKey}\u0000${digest(JSON.stringify(action))}`;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await d.alerts.getVersioned(id);
      if (!current) throw new NotFoundError(`预警不存在 (alert ${id} does not exist)`);
      if (key !== undefined && carriesWriteOf(current.alert.writes, key)) return this.answerResent(current, action, actor, requestId, idempotencyKey!, key);
      if (expectedVersion && expectedVersion !== current.version) {
        throw new ConflictError(`预警已被他人修改（当前状态：${STATUS_NAMES[current.alert.status]}），请刷新后重试 (the alert changed since you loaded it)`, 'stale_version');
      }
      const now = d.now();
      const result = applyAlertAction(current.alert, action, { actor: actor.id, now }, { requirePlanForLevels: current.alert.policy.requirePlanForLevels });
      if (!result.ok) {
        if (result.kind === 'not_found') throw new NotFoundError(result.reason);
        if (result.kind === 'invalid') throw new InvalidInputError(result.reason, result.code);
        throw new ConflictError(result.reason, result.code);
      }
      let alert = result.alert;
      const notes = await this.notificationsForAction(current.alert, alert, action, now);
      alert = this.withNotifications(alert, notes.records);
      // Every write carries a receipt this call can recognise, made from the client's key or its own;
      // the receipt is also the once-key of the write's audit record, whoever writes it.
      const writeKey = key ?? `act\u0000${actor.id}\u0000${randomUUID()}`;
      const receipt = keyedReceipt(writeKey, parseVersion(current.version));
      let version: string;
      try {
        version = await d.alerts.replace(alert, current.version, writeKey);
      } catch (err) {
        if (err instanceof ConflictError && !expectedVersion) continue;
        // The store could not confirm the write: one more look before the person is told so; a write
        // found to have landed gets its audit record, notifications and clocks now, not never.
        const unknown = err instanceof UnavailableError && err.code === 'write_outcome_unknown';
        const landed = unknown ? await this.landedWrite(id, writeKey) : undefined;
        if (!landed) {
          if (unknown) await this.rememberUnsettled({ alertId: id, receipt, replaced: current.version, actor, action, ...(requestId ? { requestId } : {}), ...(idempotencyKey ? { idempotencyKey } : {}), before: auditView(current.alert), at: now.toISOString() });
          throw err;
        }
        version = landed;
      }
      const reason = reasonOf(action);
      await this.afterWrite({
        alert,
        before: current.alert,
        version,
        receipt,
        jobs: notes.jobs,
        change: action.type,
        actor,
        action: result.auditAction,
        ...(reason ? { reason } : {}),
        ...(requestId ? { requestId } : {}),
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });
      return { alert, version };
    }
    throw new ConflictError('预警正被频繁修改，请稍后重试 (too many concurrent changes)', 'version_conflict');
  }

  /** The version of the alert when its latest write carries `receipt` (read once more, real-time); undefined when it does not or cannot be read. */
  private async landedWrite(id: string, receipt: string): Promise<string | undefined> {
    const again = await this.deps.alerts.getVersioned(id).catch(() => undefined);
    return again && carriesWriteOf(again.alert.writes?.slice(0, 1), receipt) ? again.version : undefined;
  }

  /**
   * Keeps a write whose outcome stayed unknown, or whose bookkeeping failed after it landed, for the
   * settler. When Redis refuses it too, the log keeps it: everything settling needs (no secrets: the
   * actor's name and roles, the action's body or the audit record owed).
   */
  private async rememberUnsettled(write: UnsettledWrite): Promise<void> {
    const d = this.deps;
    const what = write.replaced === undefined ? 'alert write landed but its audit record, clocks or deliveries failed' : 'alert write outcome unknown';
    try {
      await d.unsettled.remember(write);
      d.log.warn({ unsettledWrite: write }, `${what}: kept for the settler`);
    } catch (err) {
      d.log.error({ unsettledWrite: write, err: (err as Error).message }, `${what} and could not be kept for the settler: settle it by hand (its audit record, clocks, notifications)`);
    }
  }

  /**
   * The same user's same action resent with the Idempotency-Key of a write that landed (its answer
   * was lost, e.g. `write_outcome_unknown`): a success, answered with the alert as it is now, not a
   * 409 naming the sender. The transition's audit record is written here unless the first attempt,
   * another resend or the settler wrote it (`recordLandedWrite`).
   */
  private async answerResent(current: VersionedAlert, action: AlertAction, actor: AuditActor, requestId: string | undefined, idempotencyKey: string, key: string): Promise<VersionedAlert> {
    const receipt = writeOf(current.alert.writes, key)!;
    await this.recordLandedWrite(current, { receipt, action, actor, ...(requestId ? { requestId } : {}), idempotencyKey }, { recordedOnResend: true });
    return current;
  }

  /**
   * Writes what a landed write of a person was owed when its answer was lost: its one audit record
   * (once per receipt: concurrent resends and the settler write it once between them), its clocks
   * (the same job ids add nothing already there) and the first attempt's deliveries, which may never
   * have left. Clocks and deliveries are paid by every call, also one that finds the record written,
   * so a call that wrote the record and then failed leaves nothing unpaid for the next resend or
   * settler run: the deliveries keep their job ids, and the notify worker sends a notification id once
   * (`DeliveredNotifications`). While its write is still the alert's latest, its notification records
   * are the ones stamped with the alert's change time: queued again with their job ids, and the change
   * published again.
   */
  private async recordLandedWrite(
    current: VersionedAlert,
    write: Pick<UnconfirmedWrite, 'receipt' | 'action' | 'actor' | 'requestId' | 'idempotencyKey'> & { before?: Record<string, unknown> },
    mark: Record<string, unknown>,
  ): Promise<'recorded' | 'already-recorded'> {
    const d = this.deps;
    const { action, receipt } = write;
    const reason = reasonOf(action);
    const outcome = await d.audit.recordOnce(
      {
        actor: write.actor,
        entity: { type: 'alert', id: current.alert.id },
        action: `alert.${action.type}`,
        ...(write.before ? { before: write.before } : {}),
        after: { ...auditView(current.alert), ...mark },
        ...(reason ? { reason } : {}),
        ...(write.requestId ? { requestId: write.requestId } : {}),
        ...(write.idempotencyKey ? { idempotencyKey: write.idempotencyKey } : {}),
      },
      { key: receipt, maybeRecorded: true },
    );
    await d.clocks.arm(current.alert);
    if (current.alert.writes?.[0] === receipt) {
      const alert = current.alert;
      const occasion = `${action.type}-${alert.timeline.length}`;
      const records = alert.notifications.filter((n) => n.at === alert.updatedAt);
      const jobs = (await Promise.all(records.map((r) => this.jobsOfRecord(alert, r, occasion, r.trigger.includes(': ') ? r.trigger.slice(r.trigger.indexOf(': ') + 2) : r.summary)))).flat();
      if (jobs.length > 0) await d.enqueueNotifications(jobs);
      await d.publish({ alertId: alert.id, change: action.type, status: alert.status, level: alert.level, version: current.version, at: alert.updatedAt }).catch((err: Error) => d.log.warn({ err: err.message }, 'live publish failed'));
    }
    return outcome.outcome;
  }

  /**
   * Settles the writes kept for it (the oldest first, at most `limit`): a person's write whose
   * outcome stayed unknown, decided from the alert as stored now, and a landed write whose audit
   * record, clocks or deliveries failed, paid what it owes (`settle`). Each is then forgotten, with
   * its outcome logged. One that cannot be decided now (Elasticsearch unreachable) is kept for the next run.
   */
  async settleUnsettledWrites(limit = 100): Promise<{ alertId: string; receipt: string; outcome: SettleOutcome }[]> {
    const d = this.deps;
    const settled: { alertId: string; receipt: string; outcome: SettleOutcome }[] = [];
    for (const write of await d.unsettled.list(limit)) {
      let outcome: SettleOutcome;
      try {
        outcome = await this.settle(write);
      } catch (err) {
        const attempts = (write.attempts ?? 0) + 1;
        if (attempts >= SETTLE_ATTEMPTS) {
          await d.unsettled.setAside(write);
          d.log.error({ unsettledWrite: write, err: (err as Error).message }, `unsettled alert write not decided after ${attempts} runs of the settler: set aside for a person (its audit record, clocks, notifications)`);
        } else {
          await d.unsettled.remember({ ...write, attempts });
          d.log.warn({ alertId: write.alertId, receipt: write.receipt, attempts, err: (err as Error).message }, 'unsettled alert write: not decided yet, kept');
        }
        continue;
      }
      await d.unsettled.forget(write);
      d.log.info({ alertId: write.alertId, receipt: write.receipt, actor: write.actor.id, action: auditActionOf(write), requestId: write.requestId, outcome }, 'unsettled alert write settled');
      settled.push({ alertId: write.alertId, receipt: write.receipt, outcome });
    }
    return settled;
  }

  /**
   * Decides one unsettled write. One known to have landed is paid what it owes (`payOwed`). For one
   * whose outcome stayed unknown: its receipt among the alert's writes, it landed, and gets what it
   * was owed (`payOwed`, or for a person's write `recordLandedWrite`). The alert moved on from the version it replaced without it: it
   * never can land. The alert still at that version: the write may still be on its way, so the alert
   * is rewritten unchanged with that version's compare-and-set, after which it cannot land either.
   */
  private async settle(write: UnsettledWrite): Promise<SettleOutcome> {
    const d = this.deps;
    if ('owed' in write && write.replaced === undefined) return this.payOwed(write);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await d.alerts.getVersioned(write.alertId);
      if (!current) return 'missing';
      const writes = current.alert.writes ?? [];
      if (writes.includes(write.receipt)) return 'owed' in write ? this.payOwed(write) : this.recordLandedWrite(current, write, { recordedBySettler: true });
      if (current.version !== write.replaced) {
        // Moved on without the receipt: another write took that version (its receipt is kept), or no
        // receipt has been pushed out yet, so this one would still be there. Otherwise a burst of later
        // writes pushed the receipts that would tell out: the attempt itself is recorded, as such.
        const provenLost = writes.some((r) => r !== write.receipt && r.endsWith(`@${write.replaced}`)) || writes.length < RECEIPTS_KEPT;
        return provenLost ? 'not-landed' : this.recordUndecidable(write);
      }
      try {
        await d.alerts.replace(current.alert, current.version);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        continue;
      }
      // The fence is the settler's own change (the alert's content is the same, its version is not): recorded once.
      const attempted = auditActionOf(write);
      await d.audit.recordOnce(
        {
          actor: systemActor('settler'),
          entity: { type: 'alert', id: write.alertId },
          action: 'alert.write_fenced',
          after: { attempted, by: write.actor.id, against: write.replaced },
          reason: '结果未知的写入未生效，已作废，不会再生效 (a write whose outcome was unknown had not landed; fenced so it never can)',
          ...(write.requestId ? { requestId: write.requestId } : {}),
        },
        { key: `fence\u0000${write.receipt}`, maybeRecorded: true },
      );
      return 'not-landed';
    }
    throw new ConflictError(`alert ${write.alertId}: gave up settling a write after ${MAX_RETRIES} concurrent changes`, 'version_conflict');
  }

  /**
   * A write whose outcome can no longer be told (the alert kept too few receipts to show which write
   * took the version it replaced): not a change anyone can prove, nor one to drop silently. Its attempt
   * goes into the trail as `alert.write_outcome_unknown`, once (its receipt is the once-key), naming the
   * person, the action and the version it was made against, for a person to check.
   */
  private async recordUndecidable(write: UnsettledWrite): Promise<SettleOutcome> {
    const d = this.deps;
    const attempted = auditActionOf(write);
    await d.audit.recordOnce(
      {
        actor: write.actor,
        entity: { type: 'alert', id: write.alertId },
        action: 'alert.write_outcome_unknown',
        after: { attempted, against: write.replaced, at: write.at },
        reason: '写入结果无法确认：该预警此后被多次修改，已无法判断此次操作是否生效，请人工核对 (the alert changed too often since to tell whether this write landed)',
        ...(write.requestId ? { requestId: write.requestId } : {}),
        ...(write.idempotencyKey ? { idempotencyKey: write.idempotencyKey } : {}),
      },
      { key: write.receipt, maybeRecorded: true },
    );
    d.log.error({ alertId: write.alertId, receipt: write.receipt, actor: write.actor.id, attempted }, 'alert write outcome could not be decided: recorded in the audit trail as alert.write_outcome_unknown for a person to check');
    return 'undecidable';
  }

  /**
   * Pays what a landed write still owes: its audit record as the write made it (once per receipt:
   * its own append may have landed unanswered, a person's resend may have written it), its
   * deliveries (the same job ids, queued on every run until one settles it: the notify worker sends a
   * notification id once), and its clocks, armed from the alert as stored now.
   */
  private async payOwed(write: UnrecordedWrite): Promise<'recorded' | 'already-recorded'> {
    const d = this.deps;
    const { record, jobs, armClocks } = write.owed;
    const outcome = await d.audit.recordOnce(auditInputOf(write, { ...record, after: { ...record.after, recordedBySettler: true } }), { key: write.receipt, maybeRecorded: true });
    if (jobs.length > 0) await d.enqueueNotifications(jobs);
    if (armClocks) {
      const current = await d.alerts.getVersioned(write.alertId);
      if (current) await d.clocks.arm(current.alert);
    }
    return outcome.outcome;
  }

  /** Runs one clock job: a stale or already fired clock does nothing; a due one escalates, warns or sends. */
  async fire(alertId: string, clockId: string, token: string): Promise<FireOutcome> {
    const d = this.deps;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await d.alerts.getVersioned(alertId);
      if (!current) return 'missing';
      const now = d.now();
      const decision = decideClock(current.alert, clockId, token, now);
      if (decision.decision === 'early') {
        await d.clocks.armClock(alertId, decision.clock);
        return 'early';
      }
      if (decision.decision !== 'fire') return decision.decision;
      const effect = fireClock(current.alert, decision.clock, now);
      let alert = effect.alert;
      const notes =
        decision.clock.kind === 'deferred-notify'
          ? await this.deferredSend(alert, decision.clock, now)
          : await this.planNotifications(alert, effect.trigger, effect.roles, effect.toAssignee, now, `${decision.clock.id}-${decision.clock.token}`, this.clockLabel(decision.clock));
      alert = this.withNotifications(alert, notes.records);
      const written = await this.writeSystemChange(current.version, {
        alert,
        before: current.alert,
        jobs: notes.jobs,
        change: `clock.${decision.clock.kind}`,
        actor: systemActor('escalation'),
        action: `alert.clock.${decision.clock.kind}`,
        reason: this.clockLabel(decision.clock),
        extra: { clockId, dueAt: decision.clock.dueAt, lateMs: effect.fired.lateMs },
      });
      if (!written) continue;
      if (effect.fired.lateMs > 1000) d.log.warn({ alertId, clockId, lateMs: effect.fired.lateMs }, 'escalation clock fired late');
      return 'fired';
    }
    throw new ConflictError(`alert ${alertId}: clock ${clockId} lost ${MAX_RETRIES} races`, 'version_conflict');
  }

  private clockLabel(clock: Clock): string {
    if (clock.kind === 'escalation') return `超时未签收，上报${CHAIN_ROLE_NAMES[clock.role!]}`;
    if (clock.kind === 'warning') return `${SLA_NAMES[clock.sla!]}时限将到`;
    if (clock.kind === 'breach') return `已超过${SLA_NAMES[clock.sla!]}时限`;
    return '静默时段结束，补发通知';
  }

  private async notificationsForAction(before: Alert, after: Alert, action: AlertAction, now: Date): Promise<{ records: NotificationRecord[]; jobs: NotifyJob[] }> {
    const key = `${action.type}-${after.timeline.length}`;
    switch (action.type) {
      case 'change_level':
        if (after.level < before.level) {
          const roles = after.policy.topOfChainAtOnce.includes(after.level) ? rolesAtOnce(after.level, after.policy.topOfChainAtOnce) : (['duty'] as ChainRole[]);
          return this.planNotifications(after, 'level-raised', roles, true, now, key, `等级提升为${levelName(after.level)}：${action.reason}`);
        }
        return { records: [], jobs: [] };
      case 'escalate':
        return this.planNotifications(after, 'manual-escalation', [ChainRoleSchema.options[after.escalationStep]!], false, now, key, `人工上报：${action.reason}`);
      case 'reopen':
        return this.planNotifications(after, 'reopened', rolesAtOnce(after.level, after.policy.topOfChainAtOnce), true, now, key, `重新打开：${action.reason}`);
      case 'assign':
        return this.planNotifications(after, 'escalation', [], true, now, key, '指派给您处理');
      default:
        return { records: [], jobs: [] };
    }
  }

  private async roster(): Promise<Roster> {
    return (await this.deps.roster.current()).roster;
  }

  /** Decides, records and builds the deliveries of one notification occasion. */
  private async planNotifications(
    alert: Alert,
    trigger: NotificationTrigger,
    roles: readonly ChainRole[],
    toAssignee: boolean,
    now: Date,
    key: string,
    why?: string,
  ): Promise<{ records: NotificationRecord[]; jobs: NotifyJob[] }> {
    const d = this.deps;
    const roster = await this.roster();
    const picks = resolveRecipients(alert, roles, toAssignee, roster, now, d.timeZone, d.calendar);
    if (picks.length === 0) return { records: [], jobs: [] };
    let inhibitedBy: { alertId: string; level: Alert['level'] } | undefined;
    if ((trigger === 'created' || trigger === 'merged') && alert.policy.notifications.inhibitLowerLevelsOfSameEvent) {
      const higher = (await d.alerts.openInGroup(alert.groupKey, alert.id)).filter((a) => a.level < alert.level).sort((a, b) => a.level - b.level)[0];
      if (higher) inhibitedBy = { alertId: higher.id, level: higher.level };
    }
    const decision = decideNotification({
      trigger,
      level: alert.level,
      status: alert.status,
      now,
      ...(alert.lastNotifiedAt ? { lastNotifiedAt: new Date(alert.lastNotifiedAt) } : {}),
      ...(inhibitedBy ? { inhibitedBy } : {}),
      policy: alert.policy.notifications,
      timeZone: d.timeZone,
    });
    const summary = describeDecision(decision, d.timeZone) + (inhibitedBy && decision.reason === 'inhibited' ? `（${inhibitedBy.alertId}）` : '');
    const channels = [...new Set(picks.flatMap((p) => channelsOf(p.person)))];
    const record: NotificationRecord = {
      at: now.toISOString(),
      trigger: why ? `${trigger}: ${why}` : trigger,
      recipients: picks.map((p) => p.person.username),
      channels,
      decision: decision.action,
      reason: decision.reason,
      summary,
      jobIds: [],
    };
    if (decision.action === 'defer') {
      record.sendAt = decision.sendAt.toISOString();
      record.clockId = `notify-${digest(alert.id, key)}`;
      return { records: [record], jobs: [] };
    }
    if (decision.action === 'suppress') return { records: [record], jobs: [] };
    const jobs = this.buildJobs(alert, picks, decision.reason, key, why ?? summary);
    record.jobIds = jobs.map((j) => j.id);
    return { records: [record], jobs };
  }

  private buildJobs(alert: Alert, picks: DutyPick[], reason: string, key: string, why: string): NotifyJob[] {
    const byChannel = new Map<string, DutyPick[]>();
    for (const pick of picks) for (const channel of channelsOf(pick.person)) byChannel.set(channel, [...(byChannel.get(channel) ?? []), pick]);
    return [...byChannel].map(([channelId, people]) => ({
      id: `alert-${alert.id}-${digest(key, channelId)}`,
      channelId,
      recipients: people.map((p) => recipientOf(p.person)),
      message: {
        title: alertMessageTitle(alert),
        text: `${why}\n状态：${STATUS_NAMES[alert.status]}　帖文：${alert.postIds.length} 条　命中：${alert.terms.join('、')}\n请打开链接签收处置。`,
        level: alert.level,
        link: `${this.deps.linkBase.replace(/\/$/, '')}/alerts/${encodeURIComponent(alert.id)}`,
      },
      reason,
      subject: { type: 'alert' as const, id: alert.id },
    }));
  }

  /** Sends a notification deferred by quiet hours, unless the alert was closed meanwhile. */
  private async deferredSend(alert: Alert, clock: Clock, now: Date): Promise<{ records: NotificationRecord[]; jobs: NotifyJob[] }> {
    const deferred = alert.notifications[clock.notification!];
    if (!deferred) return { records: [], jobs: [] };
    const roster = await this.roster();
    const picks = deferred.recipients.flatMap((u) => {
      const person = roster.people.find((p) => p.username === u);
      return person ? [{ person, via: 'deferred' }] : [];
    });
    const decision = decideNotification({ trigger: 'deferred-due', level: alert.level, status: alert.status, now, policy: { ...alert.policy.notifications, quietHours: undefined }, timeZone: this.deps.timeZone });
    const record: NotificationRecord = {
      at: now.toISOString(),
      trigger: `deferred-due: ${deferred.trigger}`,
      recipients: picks.map((p) => p.person.username),
      channels: deferred.channels,
      decision: decision.action,
      reason: decision.reason,
      summary: describeDecision(decision, this.deps.timeZone),
      jobIds: [],
    };
    if (decision.action !== 'send' || picks.length === 0) return { records: [record], jobs: [] };
    const jobs = this.buildJobs(alert, picks, decision.reason, `${clock.id}-${clock.token}`, `静默时段结束补发：${deferred.trigger}`);
    record.jobIds = jobs.map((j) => j.id);
    return { records: [record], jobs };
  }

  private withNotifications(alert: Alert, records: NotificationRecord[]): Alert {
    const sent = records.some((r) => r.decision === 'send');
    const next: Alert = { ...alert, notifications: [...alert.notifications, ...records].slice(-200) };
    if (sent) next.lastNotifiedAt = records.find((r) => r.decision === 'send')!.at;
    const due = nextDueAt(next);
    if (due) next.nextDueAt = due;
    else delete next.nextDueAt;
    return next;
  }

  /**
   * Writes a system change (a merge, a reopening, a fired clock, a post-change note) with
   * compare-and-set from `replaced`, under a receipt of its own (made here: no extra round trip), then
   * what it is owed (`afterWrite`). False when another change came first. A write whose outcome
   * stayed unknown is kept for the settler with all it would owe, then thrown: the job's retry that
   * finds the change applied (`unchanged`, `already-fired`) leaves its record to the settler.
   */
  private async writeSystemChange(replaced: string, w: Omit<LandedWrite, 'version' | 'receipt'>): Promise<boolean> {
    const key = `${w.actor.id}\u0000${randomUUID()}`;
    const receipt = keyedReceipt(key, parseVersion(replaced));
    let version: string;
    try {
      version = await this.deps.alerts.replace(w.alert, replaced, key);
    } catch (err) {
      if (err instanceof ConflictError) return false;
      if (err instanceof UnavailableError && err.code === 'write_outcome_unknown') {
        await this.rememberUnsettled({ ...identityOf({ ...w, receipt }), replaced, at: this.deps.now().toISOString(), owed: { record: recordOf(w), armClocks: true, jobs: w.jobs } });
      }
      throw err;
    }
    await this.afterWrite({ ...w, version, receipt });
    return true;
  }

  /**
   * What follows a landed write. Should its audit append, its clock arming or its deliveries' enqueue
   * fail, the write is kept for the settler with what it still owes, and the failure is thrown as
   * before: a job's retry or a resend that finds the change applied does not record it, the settler does.
   */
  private async afterWrite(w: LandedWrite): Promise<void> {
    const d = this.deps;
    const { alert, before } = w;
    const identity = identityOf(w);
    const record = recordOf(w);
    // People first: deliveries are enqueued before the bookkeeping; the audit append, the clocks and
    // the live publish are independent of each other (the change is already stored), so none waits
    // for another. The response still waits for the audit record to be durable.
    const [enqueued] = await Promise.allSettled(w.jobs.length > 0 ? [d.enqueueNotifications(w.jobs)] : []);
    const audited = d.audit.recordOnce(auditInputOf(identity, record), { key: w.receipt, maybeRecorded: w.maybeRecorded ?? false });
    const armed = d.clocks.arm(alert, before);
    const published = d.publish({ alertId: alert.id, change: w.change, status: alert.status, level: alert.level, version: w.version, at: alert.updatedAt }).catch((err: Error) => d.log.warn({ err: err.message }, 'live publish failed'));
    const [audit, clocks] = await Promise.allSettled([audited, armed, published]);
    const failed = [enqueued, audit, clocks].find((r): r is PromiseRejectedResult => r?.status === 'rejected');
    if (!failed) return;
    // The record is owed even when its own append answered: the once-key makes the settler's a no-op.
    const owed = { record, armClocks: clocks.status === 'rejected', jobs: enqueued?.status === 'rejected' ? w.jobs : [] };
    await this.rememberUnsettled({ ...identity, at: d.now().toISOString(), owed });
    throw failed.reason;
  }
}

/**
 * A notification's title for an alert: its level and its title on one line (a title from a post's
 * text may hold line breaks, which would end a robot's heading), at most 200 characters, never
 * half an emoji.
 */
export function alertMessageTitle(alert: Pick<Alert, 'level' | 'title'>): string {
  return clip(`【${levelName(alert.level, 'plain')}预警】${oneLine(alert.title)}`, 200);
}
