import { systemActor, type AuditEntityType, type AuditLog } from '../../core/audit/audit-log.js';
import type { Logger } from '../../core/logger.js';
import type { DeliveryOutcome, DeliveryOutcomeSink, NotifyJob } from '../../core/notify/notification.js';

/**
 * A delivery outcome sink that also leaves a system audit record (actor `notify`) per outcome:
 * `notification.sent`, `.failed`, `.retrying` or `.merged_into_digest`, on the subject the message
 * was about (a test send is recorded on its channel). The outcome and the audit record are written
 * side by side, so the notify path waits for the slower of the two, not their sum; the audit log
 * group-commits, so a burst of deliveries costs a few appends. A failed audit append is logged and
 * does not fail the delivery: failing it would retry the job and send the message again.
 */
export function auditedOutcomes(sink: DeliveryOutcomeSink, audit: AuditLog, log: Logger): DeliveryOutcomeSink {
  const actor = systemActor('notify');
  return {
    async record(subject: NotifyJob['subject'], outcome: DeliveryOutcome): Promise<void> {
      const entity: { type: AuditEntityType; id: string } = subject.type === 'test' ? { type: 'channel', id: outcome.channelId } : { type: subject.type, id: subject.id };
      const audited = audit
        .record({
          actor,
          entity,
          action: `notification.${outcome.status}`,
          after: outcome,
          at: new Date(outcome.at),
          ...(outcome.error ? { reason: outcome.error } : {}),
        })
        .then(
          () => undefined,
          (err: Error) => log.warn({ err: err.message, jobId: outcome.jobId, status: outcome.status }, 'delivery outcome not audited'),
        );
      await Promise.all([sink.record(subject, outcome), audited]);
    },
  };
}
