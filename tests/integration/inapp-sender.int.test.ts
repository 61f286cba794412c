import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyJob } from '../../core/notify/notification.js';
import { UnavailableError } from '../../core/errors.js';
import { createSender, inboxKey } from '../../pipeline/notify/senders.js';
import { eventually, isolation } from '../support/isolation.js';

/** The in-app sender on real Redis: a notification is sent only when every inbox was written, and each inbox gets it once. */
describe('the in-app sender', () => {
  const iso = isolation();
  const redis = new Redis(iso.redisUrl);
  const subscriber = new Redis(iso.redisUrl);
  const liveChannel = `${iso.redisPrefix}:live:notifications`;
  /** What the live channel announced, in order. */
  const announced: { username: string; id: string }[] = [];
  const sender = createSender({ id: 'inapp', name: '站内通知', type: 'inapp', enabled: true }, { env: {}, redis, prefix: iso.redisPrefix });
  const job = (id: string, usernames: string[]): NotifyJob => ({
    id,
    channelId: 'inapp',
    recipients: usernames.map((username) => ({ username, displayName: username })),
    message: { title: '【三级黄色预警】县医院收费问题', text: '网民留言：县医院乱收费', level: 3, link: 'http://127.0.0.1:8600/alerts/a1' },
    reason: 'first',
    subject: { type: 'alert', id: 'a1' },
  });
  const inboxIds = async (username: string) => (await redis.lrange(inboxKey(iso.redisPrefix, username), 0, -1)).map((e) => (JSON.parse(e) as { id: string }).id);

  /** The announcements made until now: a marker published after them arrives after them. */
  async function announcedSoFar() {
    const marker = `marker-${Math.random()}`;
    await redis.publish(liveChannel, JSON.stringify({ username: marker, id: marker }));
    await eventually(async () => (announced.some((a) => a.username === marker) ? true : undefined), 5_000, 'the marker announcement');
    return announced.splice(0).filter((a) => a.username !== marker);
  }

  beforeAll(async () => {
    subscriber.on('message', (_channel: string, message: string) => announced.push(JSON.parse(message) as { username: string; id: string }));
    await subscriber.subscribe(liveChannel);
  });

  afterAll(async () => {
    await subscriber.quit();
    await redis.quit();
    await iso.cleanup();
  });

  it('writes each recipient inbox', async () => {
    await sender.send(job('n-1', ['duty', 'chief']), new Date());
    expect(await inboxIds('duty')).toEqual(['n-1']);
    expect(await inboxIds('chief')).toEqual(['n-1']);
    expect(await announcedSoFar()).toEqual([
      { username: 'duty', id: 'n-1' },
      { username: 'chief', id: 'n-1' },
    ]);
  });

  it('writes and announces nothing when the same delivery is sent again (its answer lost, or a rerun after a crash past the send)', async () => {
    const j = job('n-again', ['secretary', 'deputy']);
    await sender.send(j, new Date());
    await sender.send(j, new Date(Date.now() + 2_000));
    expect(await inboxIds('secretary')).toEqual(['n-again']);
    expect(await inboxIds('deputy')).toEqual(['n-again']);
    expect((await announcedSoFar()).map((a) => a.username)).toEqual(['secretary', 'deputy']);
  });

  it('fails (to be retried) when an inbox refused the entry, instead of counting the notification as sent', async () => {
    // An inbox key of the wrong type: LPUSH fails on its own, the other inboxes are written.
    await redis.set(inboxKey(iso.redisPrefix, 'duty2'), 'not a list');
    const sending = sender.send(job('n-2', ['leader', 'duty2']), new Date());
    await expect(sending).rejects.toBeInstanceOf(UnavailableError);
    await expect(sending).rejects.toThrow(/站内通知写入失败.*WRONGTYPE/);
    expect((await announcedSoFar()).map((a) => a.username)).toEqual(['leader']);
  });

  it('when one inbox refused the entry, writes the others; the retry writes and announces only the inbox that refused, so nobody gets it twice', async () => {
    await redis.set(inboxKey(iso.redisPrefix, 'office'), 'not a list');
    const j = job('n-3', ['clerk', 'office', 'auditor']);
    await expect(sender.send(j, new Date())).rejects.toThrow(/站内通知写入失败：office WRONGTYPE/);
    expect(await inboxIds('clerk')).toEqual(['n-3']);
    expect(await inboxIds('auditor')).toEqual(['n-3']);
    expect((await announcedSoFar()).map((a) => a.username)).toEqual(['clerk', 'auditor']);

    await redis.del(inboxKey(iso.redisPrefix, 'office'));
    await sender.send(j, new Date(Date.now() + 2_000));
    expect(await inboxIds('clerk')).toEqual(['n-3']);
    expect(await inboxIds('office')).toEqual(['n-3']);
    expect(await inboxIds('auditor')).toEqual(['n-3']);
    expect(await announcedSoFar()).toEqual([{ username: 'office', id: 'n-3' }]);
  });
});
