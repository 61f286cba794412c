import type { Report, ReportSection } from '../../core/reports/report.js';

/** A weekly unit report holding `sections`, for render tests. */
export function reportOf(sections: ReportSection[]): Report {
  return {
    id: 'r',
    unit: '青山县',
    period: { kind: 'week', key: '2026-W49', label: '第49周', from: '2026-11-30T00:00:00+08:00', to: '2026-12-07T00:00:00+08:00' },
    previousPeriod: { key: '2026-W48', label: '第48周' },
    scope: { kind: 'unit' },
    scopeLabel: '青山县',
    generatedAt: '2026-12-07T01:00:00.000Z',
    empty: false,
    dataNotes: [],
    sections,
    editable: { conclusions: '', nextSteps: '' },
  };
}

/** A section of the events chapter with whatever `over` sets. */
export const sectionOf = (over: Partial<ReportSection>): ReportSection => ({ id: 'events', heading: '重点事件', paragraphs: [], figures: [], charts: [], tables: [], ...over });
