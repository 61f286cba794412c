import type { AlertLevel } from '../rules/rule-pack.js';
import type { NotificationMessage, NotifyJob, Recipient } from './notification.js';

/** Level names as staff say them, for message titles. */

const WECOM_COLOR: Record<AlertLevel, string> = { 1: 'warning', 2: 'warning', 3: 'comment', 4: 'info' };

/**
 * Crawled text is hostile: in a robot's markdown it could forge links, headings or @-mentions.
 * Escape every markdown metacharacter and neutralise `@` and `<` so only our own markup renders.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]()#>]/g, (c) => `\\${c}`).replace(/@/g, '＠').replace(/</g, '＜');
}

function mobiles(recipients: Recipient[]): string[] {
  return [...new Set(recipients.map((r) => r.mobile).filter((m): m is string => !!m && /^1\d{10}$/.test(m)))];
}

/** DingTalk robot markdown message; mobiles in `at` only ring when the text also names them. */
export function dingTalkPayload(message: NotificationMessage, recipients: Recipient[]): object {
  const at = mobiles(recipients);
  const lines = [
    `### ${escapeMarkdown(message.title)}`,
    '',
    escapeMarkdown(message.text),
    '',
    `[打开预警并签收](${message.link})`,
  ];
  if (at.length > 0) lines.push('', at.map((m) => `@${m}`).join(' '));
  return { msgtype: 'markdown', markdown: { title: message.title.slice(0, 64), text: lines.join('\n') }, at: { atMobiles: at, isAtAll: false } };
}

/** WeCom group robot markdown (≤ 4096 bytes); mentions by mobile need a text message, sent alongside when there are any. */
export function weComPayloads(message: NotificationMessage, recipients: Recipient[]): object[] {
  const color = message.level ? WECOM_COLOR[message.level] : 'info';
  const content = truncateBytes(
    [`## <font color="${color}">${escapeMarkdown(message.title)}</font>`, escapeMarkdown(message.text), `[打开预警并签收](${message.link})`].join('\n'),
    4000,
  );
  const payloads: object[] = [{ msgtype: 'markdown', markdown: { content } }];
  const at = mobiles(recipients);
  if (at.length > 0) payloads.push({ msgtype: 'text', text: { content: `请及时签收：${message.title}`, mentioned_mobile_list: at } });
  return payloads;
}

export function webhookBody(job: NotifyJob, sentAt: Date): string {
  return JSON.stringify({ id: job.id, subject: job.subject, reason: job.reason, message: job.message, recipients: job.recipients, sentAt: sentAt.toISOString() });
}

export function emailContent(message: NotificationMessage): { subject: string; text: string } {
  return { subject: `[前哨] ${message.title}`.replace(/[\r\n]+/g, ' '), text: `${message.text}\n\n打开预警并签收：${message.link}\n\n—— 前哨舆情监测预警系统（请勿直接回复本邮件）` };
}

/**
 * One message standing for deliveries a rate limit held back. Lists each title with its link,
 * most urgent first, so nothing held back is lost from sight.
 */
export function digestMessage(jobs: NotifyJob[], link: string): NotificationMessage {
  const sorted = [...jobs].sort((a, b) => (a.message.level ?? 5) - (b.message.level ?? 5));
  const top = sorted[0]?.message.level;
  const lines = sorted.slice(0, 30).map((j, i) => `${i + 1}. ${j.message.title} ${j.message.link}`);
  if (sorted.length > 30) lines.push(`…另有 ${sorted.length - 30} 条，请在系统中查看`);
  return { title: `【预警汇总】${jobs.length} 条通知因发送频率限制合并发送`, text: lines.join('\n'), link, ...(top ? { level: top } : {}) };
}

function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = text;
  while (Buffer.byteLength(out) > max - 3) out = out.slice(0, Math.floor(out.length * 0.9));
  return `${out}…`;
}
