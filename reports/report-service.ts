import type { Client, estypes } from '@elastic/elasticsearch';
import type { AuditActor, AuditLog } from '../core/audit/audit-log.js';
import { NotFoundError } from '../core/errors.js';
import { parsePeriod, previousPeriod } from '../core/reports/period.js';
import { scopeKey, type Report, type ReportEditable, type ReportScope } from '../core/reports/report.js';
import { ensureIndex } from '../pipeline/elasticsearch/indices.js';
import { translateEsError } from '../pipeline/elasticsearch/es-client.js';
import { buildReport, type ReportContext, type ReportInspection } from './build-report.js';
import { loadReportData, type ReportIndices } from './report-data.js';

export interface ReportServiceDeps {
  es: Client;
  indices: ReportIndices & { reports: string };
  unit: string;
  sources: () => Promise<{ id: string; name: string }[]> | { id: string; name: string }[];
  gaps: () => Promise<ReportContext['gaps']>;
  zombieDays: number;
  /** Today's website self-inspection (网站自查), when this process can measure it. */
  inspections?: () => Promise<ReportInspection[]>;
  audit?: AuditLog;
  now: () => Date;
}

interface StoredReport {
  id: string;
  periodKey: string;
  scope: string;
  editable: ReportEditable;
  /** The last generated report, so a meeting reads the same numbers it discussed. */
  snapshot?: Report;
  updatedAt: string;
  updatedBy?: string;
}

const MAPPING: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: { id: { type: 'keyword' }, periodKey: { type: 'keyword' }, scope: { type: 'keyword' }, updatedAt: { type: 'date' }, updatedBy: { type: 'keyword' } },
};

/**
 * Generates reports on demand from live data, keeps what staff write (研判结论, 下一步工作打算) with
 * the report, audited, and remembers the last generated snapshot.
 */
export class ReportService {
  constructor(private readonly deps: ReportServiceDeps) {}

  async ensure(): Promise<void> {
    await ensureIndex(this.deps.es, this.deps.indices.reports, MAPPING);
  }

  async generate(periodText: string, scope: ReportScope): Promise<Report> {
    const period = parsePeriod(periodText);
    const previous = previousPeriod(period);
    const [data, sources, gaps, stored, inspected] = await Promise.all([
      loadReportData(this.deps.es, this.deps.indices, period, previous, scope),
      this.deps.sources(),
      this.deps.gaps(),
      this.stored(period.key, scope),
      // A domain has no websites of its own; a self-inspection that cannot be measured now leaves its table out, never the report.
      scope.kind === 'domain' || !this.deps.inspections ? undefined : this.deps.inspections().catch(() => undefined),
    ]);
    const scopedSources = scope.kind === 'source' ? sources.filter((s) => s.id === scope.id) : sources;
    const inspection = scope.kind === 'source' ? inspected?.filter((i) => i.sourceId === scope.id) : inspected;
    const report = buildReport(data, {
      unit: this.deps.unit,
      period,
      previous,
      scope,
      sources: scopedSources,
      gaps,
      zombieDays: this.deps.zombieDays,
      generatedAt: this.deps.now(),
      ...(stored ? { editable: stored.editable } : {}),
      ...(inspection ? { inspection } : {}),
    });
    await this.put({ id: report.id, periodKey: period.key, scope: scopeKey(scope), editable: report.editable, snapshot: report, updatedAt: stored?.updatedAt ?? report.generatedAt, ...(stored?.updatedBy ? { updatedBy: stored.updatedBy } : {}) });
    return report;
  }

  /** Generates on someone's behalf (a schedule, a person exporting for the meeting) and records it in the audit chain. */
  async generateFor(actor: AuditActor, periodText: string, scope: ReportScope, reason: string, requestId?: string): Promise<Report> {
    const report = await this.generate(periodText, scope);
    await this.deps.audit?.record({ actor, entity: { type: 'report', id: report.id }, action: 'report.generate', after: { period: report.period.key, scope: scopeKey(scope), empty: report.empty }, reason, requestId });
    return report;
  }

  async saveEditable(periodText: string, scope: ReportScope, editable: ReportEditable, actor: AuditActor, requestId?: string): Promise<ReportEditable> {
    const period = parsePeriod(periodText);
    const stored = await this.stored(period.key, scope);
    const id = stored?.id ?? (await this.generate(periodText, scope)).id;
    const before = stored?.editable ?? { conclusions: '', nextSteps: '' };
    await this.put({ ...(stored ?? { id, periodKey: period.key, scope: scopeKey(scope) }), editable, updatedAt: this.deps.now().toISOString(), updatedBy: actor.id });
    await this.deps.audit?.record({ actor, entity: { type: 'report', id }, action: 'report.edit', before, after: editable, requestId });
    return editable;
  }

  async snapshot(periodText: string, scope: ReportScope): Promise<Report> {
    const stored = await this.stored(parsePeriod(periodText).key, scope);
    if (!stored?.snapshot) throw new NotFoundError(`no report has been generated for ${periodText} (${scopeKey(scope)})`);
    return { ...stored.snapshot, editable: stored.editable };
  }

  private async stored(periodKey: string, scope: ReportScope): Promise<StoredReport | undefined> {
    try {
      const res = await this.deps.es.get<StoredReport>({ index: this.deps.indices.reports, id: `${periodKey}--${scopeKey(scope)}` });
      return res._source;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw translateEsError(err, 'read a saved report');
    }
  }

  /** Stored reports are only read back by id (a real-time GET), so no refresh is awaited (it cost up to 1 s per generate). */
  private async put(doc: StoredReport): Promise<void> {
    try {
      await this.deps.es.index({ index: this.deps.indices.reports, id: `${doc.periodKey}--${doc.scope}`, document: doc });
    } catch (err) {
      throw translateEsError(err, 'save a report');
    }
  }
}
