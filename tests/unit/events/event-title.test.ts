import { describe, expect, it } from 'vitest';
import { eventFromPosts, eventTitleOf } from '../../../core/events/event.js';

const post = { id: 'p1', sourceId: 's', kind: 'comment', collectedAt: '2026-12-07T01:00:00.000Z' };

describe('an event\'s title', () => {
  it('is its first post\'s title, on one line', () => {
    expect(eventFromPosts('e1', [{ ...post, title: '县医院\n收费问题', text: '正文' }], 1).title).toBe('县医院 收费问题');
  });

  it('else the start of its text on one line, 120 characters, never half an emoji (its title names report tables and sheets)', () => {
    const text = `网民称\n${'县'.repeat(115)}😡后面的文字`;
    expect(eventFromPosts('e1', [{ ...post, text }], 1).title).toBe(`网民称 ${'县'.repeat(115)}😡`);
    expect(eventTitleOf({ text })).toBe(`网民称 ${'县'.repeat(115)}😡`); // the title the clusterer stores
  });
});
