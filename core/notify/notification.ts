import { z } from 'zod';
import { AlertLevelSchema } from '../rules/rule-pack.js';

/**
 * The contract between deciding a notification (alerting: who, when, why — quiet hours, grouping,
 * inhibition) and delivering it (pipeline/notify: one `notify` job per delivery, retries, per-channel
 * rate limits, digests). The decider enqueues `NotifyJob`s; the deliverer records a
 * `DeliveryOutcome` on the alert through `DeliveryOutcomeSink`. Deliberately left out: any decision
 * about whether to notify — a job that reaches the deliverer is sent (or merged into a digest), unless
 * its id was delivered already: a notification id is sent once, so deciders may queue it again.
 */

export const ChannelTypeSchema = z.enum(['dingtalk', 'wecom', 'webhook', 'email', 'inapp']);
export type ChannelType = z.infer<typeof ChannelTypeSchema>;

/** A person the message is for: robots @-mention their mobile, e-mail goes to their address, in-app to their user. */
export const RecipientSchema = z.object({
  username: z.string(),
  displayName: z.string(),
  email: z.string().email().optional(),
  mobile: z.string().optional(),
});
export type Recipient = z.infer<typeof RecipientSchema>;

export const NotificationMessageSchema = z.object({
  /** Short title, e.g. 【二级橙色预警】县医院收费问题 */
  title: z.string().min(1),
  /** Plain text (never HTML: crawled text is hostile); channels format it for their medium. */
  text: z.string(),
  level: AlertLevelSchema.optional(),
  /** Absolute link that opens the alert (robots cannot take replies: acknowledgement happens there). */
  link: z.string().url(),
  /**
   * For a digest: the held-back deliveries listed in `text`, each title with the link to its alert,
   * and how many more `text` only counts. Robots list the entries as links and drop entries from
   * the end, never the acknowledgement link, when the message would exceed their size limit.
   */
  digest: z
    .object({
      entries: z.array(z.object({ title: z.string(), link: z.string().url() })),
      more: z.number().int().min(0),
    })
    .optional(),
});
export type NotificationMessage = z.infer<typeof NotificationMessageSchema>;

export const NotifyJobSchema = z.object({
  /** Deterministic: subject + step + channel + version token, so a retry never sends twice. */
  id: z.string().min(1),
  channelId: z.string().min(1),
  recipients: z.array(RecipientSchema),
  message: NotificationMessageSchema,
  /** The named reason of the decision that produced this delivery, e.g. `first`, `escalation-step-2`. */
  reason: z.string(),
  subject: z.object({ type: z.enum(['alert', 'ledger', 'plan', 'source', 'report', 'test']), id: z.string() }),
});
export type NotifyJob = z.infer<typeof NotifyJobSchema>;

export type DeliveryStatus = 'sent' | 'failed' | 'merged_into_digest' | 'retrying';

export interface DeliveryOutcome {
  jobId: string;
  channelId: string;
  channelType: ChannelType;
  status: DeliveryStatus;
  at: string;
  attempts: number;
  /** Human-readable cause of a failure (never a secret or a signed URL). */
  error?: string;
  /** For a digest: the job ids it carried. */
  digestOf?: string[];
}

export interface DeliveryOutcomeSink {
  record(subject: NotifyJob['subject'], outcome: DeliveryOutcome): Promise<void>;
}
