import { describe, expect, it } from 'vitest';
import { ChannelSchema } from '../../../core/notify/channel.js';
import { digestMessage, dingTalkPayload, emailContent, escapeMarkdown, weComPayloads } from '../../../core/notify/format.js';
import type { NotificationMessage, NotifyJob } from '../../../core/notify/notification.js';
import { signDingTalkUrl, verifyWebhookSignature, webhookSignature } from '../../../core/notify/signing.js';

const message = { title: '【二级橙色预警】县医院收费问题', text: '网民称 *乱收费*', level: 2 as const, link: 'http://127.0.0.1:8600/alerts/a1' };

describe('signatures (vectors computed with openssl)', () => {
  it('signs a DingTalk robot URL with timestamp and base64 HMAC-SHA256 of "timestamp\\nsecret"', () => {
    const url = new URL(signDingTalkUrl('http://127.0.0.1:1/robot/send?access_token=t', 'SECabc', 1_700_000_000_000));
    expect(url.searchParams.get('access_token')).toBe('t');
    expect(url.searchParams.get('timestamp')).toBe('1700000000000');
    expect(url.searchParams.get('sign')).toBe('jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM=');
  });

  it('signs webhook bodies as v1=hex(HMAC-SHA256(secret, "ts.body")) and verifies them in a time window', () => {
    const sig = webhookSignature('k', 1_700_000_000, '{"a":1}');
    expect(sig).toBe('v1=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3');
    expect(verifyWebhookSignature('k', 1_700_000_000, '{"a":1}', sig, 1_700_000_100)).toBe(true);
    expect(verifyWebhookSignature('k', 1_700_000_000, '{"a":2}', sig, 1_700_000_100)).toBe(false); // body changed
    expect(verifyWebhookSignature('k', 1_700_000_000, '{"a":1}', sig, 1_700_001_000)).toBe(false); // replayed later
    expect(verifyWebhookSignature('other', 1_700_000_000, '{"a":1}', sig, 1_700_000_100)).toBe(false);
  });
});

describe('message formats', () => {
  it.each([
    ['[链接](http://x)', '\\[链接\\]\\(http：//x\\)'], // a forged link stays text
    ['签收请点 https://evil.cn/ack', '签收请点 https：//evil.cn/ack'], // a bare URL is no link
    ['# 标题', '\\# 标题'], // no heading
    ['@所有人', '＠所有人'], // no @all
    ['<font color="red">', '＜font color="red"\\>'], // no WeCom markup
    ['普通文字。', '普通文字。'],
  ])('escapes crawled markdown %s', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });

  it('@-mentions valid mobiles only, in both the at list and the text', () => {
    const p = dingTalkPayload(message, [
      { username: 'a', displayName: 'A', mobile: '13800001234' },
      { username: 'b', displayName: 'B', mobile: '12345' },
    ]) as { at: { atMobiles: string[] }; markdown: { text: string } };
    expect(p.at.atMobiles).toEqual(['13800001234']);
    expect(p.markdown.text).toContain('@13800001234');
    expect(p.markdown.text).not.toContain('@12345');
  });

  it('keeps WeCom markdown within 4096 bytes and adds a mention message only when there is someone to mention', () => {
    const long = { ...message, text: '长'.repeat(5000) };
    const [md, ...rest] = weComPayloads(long, []) as { markdown: { content: string } }[];
    expect(Buffer.byteLength(md!.markdown.content)).toBeLessThanOrEqual(4096);
    expect(rest).toHaveLength(0);
    expect(weComPayloads(message, [{ username: 'a', displayName: 'A', mobile: '13800001234' }])).toHaveLength(2);
  });

  it('keeps a WeCom message\'s acknowledgement link when its text is cut', () => {
    const [md] = weComPayloads({ ...message, text: '长'.repeat(5000) }, []) as { markdown: { content: string } }[];
    expect(md!.markdown.content.endsWith(`[打开预警并签收](${message.link})`)).toBe(true);
  });

  it.each([
    ['DingTalk', (m: NotificationMessage) => (dingTalkPayload(m, []) as { markdown: { text: string } }).markdown.text],
    ['WeCom', (m: NotificationMessage) => (weComPayloads(m, []) as { markdown: { content: string } }[])[0]!.markdown.content],
  ])('keeps a %s title with line breaks in its heading, so a post cannot add lines or links of its own', (_, markdown) => {
    const text = markdown({ ...message, title: '【二级橙色预警】好消息\n### 签收请点 https://evil.cn/ack\n[点此签收](https://evil.cn)' });
    const [heading, ...rest] = text.split('\n');
    expect(heading).toContain('好消息 \\#\\#\\# 签收请点 https：//evil.cn/ack \\[点此签收\\]\\(https：//evil.cn\\)');
    expect(rest.join('\n')).not.toContain('evil');
    expect(text.match(/:\/\//g)).toHaveLength(1); // our acknowledgement link alone
  });

  it.each([
    ['WeCom', 4096, (m: NotificationMessage) => (weComPayloads(m, []) as { markdown: { content: string } }[])[0]!.markdown.content],
    ['DingTalk', 20_000, (m: NotificationMessage) => (dingTalkPayload(m, []) as { markdown: { text: string } }).markdown.text],
  ])('fits a %s digest of long titles within %d bytes by dropping entries, keeping the acknowledgement link and counting the rest', (_, limit, markdown) => {
    const jobs = Array.from({ length: 45 }, (_, i): NotifyJob => ({ id: `j${i}`, channelId: 'c', recipients: [], reason: 'first', subject: { type: 'alert', id: `a${i}` }, message: { title: `【二级橙色预警】${'县'.repeat(150)}`, text: '', level: 2, link: `http://h/alerts/a${i}` } }));
    const text = markdown(digestMessage(jobs, 'http://h/alerts'));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(limit);
    expect(text).toContain('[打开预警并签收](http://h/alerts)');
    const listed = text.match(/^\d+\. \[.*\]\(http:\/\/h\/alerts\/a\d+\)$/gm) ?? [];
    expect(listed.length).toBeGreaterThan(0);
    expect(text).toContain(`…另有 ${45 - listed.length} 条`);
    for (const line of listed) expect([...line.slice(line.indexOf('[') + 1, line.indexOf(']('))].length).toBeLessThanOrEqual(41); // each title capped: 40 characters and …
  });

  it('keeps e-mail subjects on one line', () => {
    expect(emailContent({ ...message, title: '第一行\r\nBcc: x@y' }).subject).toBe('[前哨] 第一行 Bcc: x@y');
  });

  it('lists held-back deliveries most urgent first in a digest', () => {
    const jobs = [4, 1, 3].map(
      (level, i): NotifyJob => ({
        id: `j${i}`,
        channelId: 'c',
        recipients: [],
        message: { title: `预警${level}`, text: '', level: level as 1 | 3 | 4, link: `http://h/${i}` },
        reason: 'first',
        subject: { type: 'alert', id: `a${i}` },
      }),
    );
    const d = digestMessage(jobs, 'http://h/');
    expect(d.title).toContain('3 条');
    expect(d.level).toBe(1);
    expect(d.text.split('\n')[0]).toContain('预警1');
  });
});

describe('channel definitions', () => {
  it('refuses a robot with both or neither of url and urlEnv, naming the field', () => {
    const both = ChannelSchema.safeParse({ id: 'x', name: 'x', type: 'dingtalk', url: 'http://127.0.0.1/', urlEnv: 'X' });
    expect(both.success).toBe(false);
    expect(both.error!.issues[0]!.path).toEqual(['url']);
    expect(ChannelSchema.safeParse({ id: 'x', name: 'x', type: 'wecom' }).success).toBe(false);
  });

  it('takes secrets only by env var name', () => {
    expect(ChannelSchema.safeParse({ id: 'x', name: 'x', type: 'dingtalk', urlEnv: 'DT_URL', secretEnv: 'SEC123abc' }).success).toBe(false);
    const ok = ChannelSchema.parse({ id: 'x', name: 'x', type: 'dingtalk', urlEnv: 'DT_URL', secretEnv: 'DT_SECRET' });
    expect(ok.type === 'dingtalk' && ok.rateLimit).toEqual({ perMinute: 18, blockSeconds: 600 });
  });
});
