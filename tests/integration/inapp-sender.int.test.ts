import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { NotifyJob } from '../../core/notify/notification.js';
import { UnavailableError } from '../../core/errors.js';
import { createSender, inboxKey } from '../../pipeline/notify/senders.js';
import { isolation } from '../support/isolation.js';

/** The in-app sender on real Redis: a notification is sent only when every inbox was written. */
describe('the in-app sender', () => {
  const iso = isolation();
  const redis = new Redis(iso.redisUrl);
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

  afterAll(async () => {
    await redis.quit();
    await iso.cleanup();
  });

  it('writes each recipient inbox', async () => {
    await sender.send(job('n-1', ['duty', 'chief']), new Date());
    expect(await inboxIds('duty')).toEqual(['n-1']);
    expect(await inboxIds('chief')).toEqual(['n-1']);
  });

  it('fails (to be retried) when an inbox write failed inside the transaction, instead of counting the notification as sent', async () => {
    // An inbox key of the wrong type: LPUSH fails on its own, the rest of the transaction runs.
    await redis.set(inboxKey(iso.redisPrefix, 'duty2'), 'not a list');
    const sending = sender.send(job('n-2', ['leader', 'duty2']), new Date());
    await expect(sending).rejects.toBeInstanceOf(UnavailableError);
    await expect(sending).rejects.toThrow(/站内通知写入失败.*WRONGTYPE/);
  });
});
