import { describe, expect, it } from 'vitest';
import { parsePeriod, previousPeriod } from '../../../core/reports/period.js';
import { buildReport } from '../../../reports/build-report.js';
import type { ReportData } from '../../../reports/report-data.js';

const period = parsePeriod('2026-W49');
const empty = { total: 0, previousTotal: 0, bySource: [], byKind: [], byDomain: [], bySentiment: [], perDay: [], keywords: [], unansweredByAge: { under1Month: 0, months1to3: 0, over3Months: 0 }, lastItemBySource: {}, deletedBySource: [], editedBySource: [] };
const event = { id: 'e1', heat: 9, posts: 3, firstSeen: '2026-12-01T01:00:00.000Z', lastSeen: '2026-12-01T03:00:00.000Z', sourceIds: ['s'], timeline: [{ at: '2026-12-01', count: 3, negative: 2, neutral: 1, positive: 0 }], representative: [] };

describe('an event chart\'s title', () => {
  it('cuts the event title at 24 characters without halving an emoji', () => {
    const data: ReportData = { posts: { ...empty, total: 3 }, alerts: [], previousAlerts: [], events: [{ ...event, title: `${'县'.repeat(23)}😡后面的文字` }], signals: [], ledger: [], queries: {} };
    const report = buildReport(data, { unit: '青山县', period, previous: previousPeriod(period), scope: { kind: 'unit' }, sources: [{ id: 's', name: '县政府网站' }], gaps: [], zombieDays: 30, generatedAt: new Date('2026-12-08T01:00:00.000Z') });
    const titles = report.sections.flatMap((s) => s.charts.map((c) => c.title)).filter((t) => t.startsWith('事件走势'));
    expect(titles).toEqual([`事件走势与情感倾向：${'县'.repeat(23)}😡…`]);
  });
});
