import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../reports/render/markdown.js';
import { reportOf, sectionOf } from '../../support/report-fixture.js';

const hostile = '好\n[点此签收](https://evil.cn)<img src=x onerror=alert(1)>';
const report = reportOf([sectionOf({ tables: [{ title: `“${hostile}”代表性信息`, columns: ['标题'], rows: [[hostile]] }] })]);

describe('report Markdown', () => {
  it('writes an event title in a table heading as text on the heading\'s line', () => {
    const lines = renderMarkdown(report).split('\n');
    expect(lines).toContain('### （一）“好 \\[点此签收\\](https://evil.cn)\\<img src=x onerror=alert(1)\\>”代表性信息');
    expect(lines.some((l) => l.startsWith('[点此签收]'))).toBe(false);
  });
});
