import { NotifyJobSchema, type NotifyJob } from '../../core/notify/notification.js';
import type { Queues } from '../queues.js';

/**
 * Puts one delivery on the `notify` queue. The job id is the delivery's own deterministic id, so
 * deciding the same notification twice (a retried evaluation, a re-armed clock) sends it once: BullMQ
 * adds nothing while it keeps the job, and the notify worker sends a notification id once after
 * BullMQ dropped it (`DeliveredNotifications`).
 */
export async function enqueueNotification(queues: Pick<Queues, 'notify'>, job: NotifyJob): Promise<void> {
  const valid = NotifyJobSchema.parse(job);
  // BullMQ refuses ':' in custom ids and treats integer-looking ids as its own.
  const jobId = `n-${valid.id.replace(/:/g, '_')}`;
  await queues.notify.add('deliver', { delivery: valid }, { jobId });
}
