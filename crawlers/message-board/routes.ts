import type { Route } from '../shared/crawl-source.js';
import { extractMessage, extractMessageList } from './extract.js';

/** 留言板 list → each message with the unit's reply, if any. */
export const messageBoardRoutes: Record<'LIST' | 'DETAIL', Route> = {
  async LIST(page) {
    const list = extractMessageList(page.html, page.url);
    // The status column is part of the signature: a message that gets answered is fetched again.
    await page.enqueue(
      list.messages.map((m) => ({ url: m.url, signature: `${m.title}|${m.publishedAt ?? ''}|${m.answered ? 'answered' : 'open'}`, ...(m.publishedAt ? { listedAt: m.publishedAt } : {}) })),
      'DETAIL',
    );
    await page.enqueue(list.nextPages, 'LIST');
  },
  async DETAIL(page) {
    const message = extractMessage(page.html, page.url);
    await page.emit({
      kind: 'message',
      url: page.url,
      platformId: message.id,
      title: message.title,
      text: message.text,
      ...(message.author ? { author: message.author } : {}),
      ...(message.publishedAt ? { publishedAt: message.publishedAt } : {}),
      ...(message.reply ? { reply: message.reply } : {}),
    });
  },
};
