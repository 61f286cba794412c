import { describe, expect, it } from 'vitest';
import type { Report } from '../../../core/reports/report.js';
import { renderMarkdown } from '../../../reports/render/markdown.js';

const hostile = '好\n[点此签收](https://evil.cn)<img src=x onerror=alert(1)>';
const report: Report = {
  id: 'r',
  unit: '青山县',
  period: { kind: 'week', key: '2026-W49', label: '第49周', from: '2026-11-30T00:00:00+08:00', to: '2026-12-07T00:00:00+08:00' },
  previousPeriod: { key: '2026-W48', label: '第48周' },
  scope: { kind: 'unit' },
  scopeLabel: '青山县',
  generatedAt: '2026-12-07T01:00:00.000Z',
  empty: false,
  dataNotes: [],
  sections: [{ id: 'events', heading: '重点事件', paragraphs: [], figures: [], charts: [], tables: [{ title: `“${hostile}”代表性信息`, columns: ['标题'], rows: [[hostile]] }] }],
  editable: { conclusions: '', nextSteps: '' },
};

describe('report Markdown', () => {
  it('writes an event title in a table heading as text on the heading\'s line', () => {
    const lines = renderMarkdown(report).split('\n');
    expect(lines).toContain('### （一）“好 \\[点此签收\\](https://evil.cn)\\<img src=x onerror=alert(1)\\>”代表性信息');
    expect(lines.some((l) => l.startsWith('[点此签收]'))).toBe(false);
  });
});
