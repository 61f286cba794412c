import { describe, expect, it } from 'vitest';
import { POST_KIND_NAMES, STATUS_NAMES, levelName, nameOf } from '../../../core/labels.js';

describe('the names staff read', () => {
  it.each([
    [1, 'short', '一级红'], // tags on the wall and level reasons
    [2, 'formal', '二级（橙）'], // report tables and figures
    [3, 'plain', '三级黄色'], // briefs and messages: 发出三级黄色预警
    [4, undefined, '四级（蓝）'], // formal by default
    [7, 'short', '等级7'], // a level the table does not know is named, not dropped
  ] as const)('level %s as %s is %s', (level, form, name) => {
    expect(levelName(level, form)).toBe(name);
  });

  it('falls back to the key for a status or kind newer than the table', () => {
    expect(nameOf(STATUS_NAMES, 'closed')).toBe('已办结');
    expect(nameOf(POST_KIND_NAMES, 'comment')).toBe('评论');
    expect(nameOf(POST_KIND_NAMES, 'podcast')).toBe('podcast');
  });
});
