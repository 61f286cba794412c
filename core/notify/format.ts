import type { AlertLevel } from '../rules/rule-pack.js';
import { clip, oneLine } from '../text/clip.js';
import type { NotificationMessage, NotifyJob, Recipient } from './notification.js';

/** Level names as staff say them, for message titles. */

const WECOM_COLOR: Record<AlertLevel, string> = { 1: 'warning', 2: 'warning', 3: 'comment', 4: 'info' };

/** WeCom refuses group-robot markdown over 4096 bytes; kept under it with a margin. */
const WECOM_MAX_BYTES = 4000;
/** DingTalk refuses robot messages over 20000 bytes; kept under it with a margin. */
const DINGTALK_MAX_BYTES = 19_000;
/** Entries a digest lists, and characters of each entry's title. */
const DIGEST_ENTRIES = 30;
const DIGEST_TITLE_CHARS = 40;

/**
 * Crawled text is hostile: in a robot's markdown it could forge links, headings or @-mentions.
 * Escape every markdown metacharacter, neutralise `@` and `<`, and defang `://` (a bare URL in a
 * post would otherwise become a link next to ours) so only our own markup and links render.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]()#>]/g, (c) => `\\${c}`).replace(/@/g, '＠').replace(/</g, '＜').replace(/:\/\//g, '：//');
}

/** A title in a robot's markdown: on one line (a line break would end the heading and start the post's own lines), escaped. */
function markdownLine(text: string): string {
  return escapeMarkdown(oneLine(text));
}

const moreLine = (n: number) => `…另有 ${n} 条，请在系统中查看`;

/**
 * A robot's markdown within `maxBytes`, `head` and `tail` (our acknowledgement link) always whole:
 * a digest drops entries from its end into its 另有 N 条 count; other text is cut.
 */
function fitMarkdown(head: string, message: NotificationMessage, tail: string, maxBytes: number): string {
  const join = (body: string) => `${head}\n${body}\n${tail}`;
  if (message.digest) {
    const { entries, more } = message.digest;
    const lines = entries.map((e, i) => `${i + 1}. [${markdownLine(e.title)}](${e.link})`);
    for (let keep = lines.length; ; keep--) {
      const left = more + lines.length - keep;
      const out = join([...lines.slice(0, keep), ...(left > 0 ? [moreLine(left)] : [])].join('\n'));
      if (keep === 0 || Buffer.byteLength(out) <= maxBytes) return out;
    }
  }
  return join(truncateBytes(escapeMarkdown(message.text), maxBytes - Buffer.byteLength(join(''))));
}

function mobiles(recipients: Recipient[]): string[] {
  return [...new Set(recipients.map((r) => r.mobile).filter((m): m is string => !!m && /^1\d{10}$/.test(m)))];
}

/** DingTalk robot markdown message; mobiles in `at` only ring when the text also names them. */
export function dingTalkPayload(message: NotificationMessage, recipients: Recipient[]): object {
  const at = mobiles(recipients);
  const tail = [`[打开预警并签收](${message.link})`, ...(at.length > 0 ? ['', at.map((m) => `@${m}`).join(' ')] : [])].join('\n');
  const text = fitMarkdown(`### ${markdownLine(message.title)}\n`, message, `\n${tail}`, DINGTALK_MAX_BYTES);
  return { msgtype: 'markdown', markdown: { title: clip(oneLine(message.title), 64), text }, at: { atMobiles: at, isAtAll: false } };
}

/** WeCom group robot markdown (≤ 4096 bytes); mentions by mobile need a text message, sent alongside when there are any. */
export function weComPayloads(message: NotificationMessage, recipients: Recipient[]): object[] {
  const color = message.level ? WECOM_COLOR[message.level] : 'info';
  const content = fitMarkdown(`## <font color="${color}">${markdownLine(message.title)}</font>`, message, `[打开预警并签收](${message.link})`, WECOM_MAX_BYTES);
  const payloads: object[] = [{ msgtype: 'markdown', markdown: { content } }];
  const at = mobiles(recipients);
  if (at.length > 0) payloads.push({ msgtype: 'text', text: { content: `请及时签收：${oneLine(message.title)}`, mentioned_mobile_list: at } });
  return payloads;
}

export function webhookBody(job: NotifyJob, sentAt: Date): string {
  return JSON.stringify({ id: job.id, subject: job.subject, reason: job.reason, message: job.message, recipients: job.recipients, sentAt: sentAt.toISOString() });
}

export function emailContent(message: NotificationMessage): { subject: string; text: string } {
  return { subject: `[前哨] ${message.title}`.replace(/[\r\n]+/g, ' '), text: `${message.text}\n\n打开预警并签收：${message.link}\n\n—— 前哨舆情监测预警系统（请勿直接回复本邮件）` };
}

/**
 * One message standing for deliveries a rate limit held back. Lists each title (one line, at most
 * 40 characters) with its link, most urgent first, so nothing held back is lost from sight.
 */
export function digestMessage(jobs: NotifyJob[], link: string): NotificationMessage {
  const sorted = [...jobs].sort((a, b) => (a.message.level ?? 5) - (b.message.level ?? 5));
  const top = sorted[0]?.message.level;
  const entries = sorted.slice(0, DIGEST_ENTRIES).map((j) => ({ title: clip(oneLine(j.message.title), DIGEST_TITLE_CHARS, '…'), link: j.message.link }));
  const more = sorted.length - entries.length;
  const lines = entries.map((e, i) => `${i + 1}. ${e.title} ${e.link}`);
  if (more > 0) lines.push(moreLine(more));
  return { title: `【预警汇总】${jobs.length} 条通知因发送频率限制合并发送`, text: lines.join('\n'), link, digest: { entries, more }, ...(top ? { level: top } : {}) };
}

/** The longest start of `text` within `max` bytes of UTF-8, with `…` when cut; never half a character. */
function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let bytes = Buffer.byteLength('…');
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return `${out}…`;
}
