import type { Client, estypes } from '@elastic/elasticsearch';
import type { AuditActor, AuditLog } from '../core/audit/audit-log.js';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { parsePeriod, previousPeriod } from '../core/reports/period.js';
import { scopeKey, type Chart, type Report, type ReportEditable, type ReportScope } from '../core/reports/report.js';
import { ensureIndex } from '../pipeline/elasticsearch/indices.js';
import { translateEsError } from '../pipeline/elasticsearch/es-client.js';
import { buildReport, reportId, type ReportContext, type ReportInspection } from './build-report.js';
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
  /** What staff wrote (研判结论, 下一步工作打算): changed only by `saveEditable`, never by a build. */
  editable: ReportEditable;
  /** The report as an audited generation stored it (a schedule, someone keeping it for the meeting), so a meeting reads the same numbers it discussed. */
  snapshot?: Report;
  snapshotBy?: string;
  /** When `editable` was last saved, and by whom. */
  updatedAt: string;
  updatedBy?: string;
}

interface Versioned {
  doc: StoredReport;
  if_seq_no: number;
  if_primary_term: number;
}

const MAPPING: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: { id: { type: 'keyword' }, periodKey: { type: 'keyword' }, scope: { type: 'keyword' }, updatedAt: { type: 'date' }, updatedBy: { type: 'keyword' } },
};

const NO_EDITABLE: ReportEditable = { conclusions: '', nextSteps: '' };
/** Reports built lately in this process, kept so the charts of the report a reader is looking at come from that very build. */
const RECENT_BUILDS = 32;
const WRITE_ATTEMPTS = 5;

/**
 * Builds reports on demand from live data (with what staff wrote), keeps what staff write
 * (研判结论, 下一步工作打算) with the report, audited, and the snapshot an audited generation stored.
 * Reading never stores: only `generateFor` (audited) keeps a snapshot, only `saveEditable` (audited)
 * changes what staff wrote, and each rewrites just its own part of the stored document.
 */
export class ReportService {
  private readonly recent = new Map<string, Report>();

  constructor(private readonly deps: ReportServiceDeps) {}

  async ensure(): Promise<void> {
    await ensureIndex(this.deps.es, this.deps.indices.reports, MAPPING);
  }

  /** The report from live data, with the conclusions saved so far; stores nothing. */
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
      ...(stored ? { editable: stored.doc.editable } : {}),
      ...(inspection ? { inspection } : {}),
    });
    this.remember(report);
    return report;
  }

  /**
   * Generates on someone's behalf (a schedule, a person keeping it for the meeting), stores it as the
   * snapshot the meeting reads, and records it in the audit chain. The conclusions stay as last saved.
   */
  async generateFor(actor: AuditActor, periodText: string, scope: ReportScope, reason: string, requestId?: string): Promise<Report> {
    const built = await this.generate(periodText, scope);
    const { before, after } = await this.change(built.period.key, scope, (stored) => {
      const editable = stored?.editable ?? NO_EDITABLE;
      const base = stored ?? { id: built.id, periodKey: built.period.key, scope: scopeKey(scope), editable, updatedAt: built.generatedAt };
      return { ...base, snapshot: { ...built, editable }, snapshotBy: actor.id };
    });
    const report = after.snapshot!;
    await this.deps.audit?.record({
      actor,
      entity: { type: 'report', id: report.id },
      action: 'report.generate',
      ...(before?.snapshot ? { before: { generatedAt: before.snapshot.generatedAt } } : {}),
      after: { period: report.period.key, scope: scopeKey(scope), empty: report.empty, generatedAt: report.generatedAt },
      reason,
      requestId,
    });
    return report;
  }

  async saveEditable(periodText: string, scope: ReportScope, editable: ReportEditable, actor: AuditActor, requestId?: string): Promise<ReportEditable> {
    const period = parsePeriod(periodText);
    const id = reportId(period.key, scope);
    const { before } = await this.change(period.key, scope, (stored) => ({ ...(stored ?? { id, periodKey: period.key, scope: scopeKey(scope) }), editable, updatedAt: this.deps.now().toISOString(), updatedBy: actor.id }));
    await this.deps.audit?.record({ actor, entity: { type: 'report', id }, action: 'report.edit', before: before?.editable ?? NO_EDITABLE, after: editable, requestId });
    return editable;
  }

  async snapshot(periodText: string, scope: ReportScope): Promise<Report> {
    const stored = await this.stored(parsePeriod(periodText).key, scope);
    if (!stored?.doc.snapshot) throw new NotFoundError(`no report has been generated for ${periodText} (${scopeKey(scope)})`);
    return { ...stored.doc.snapshot, editable: stored.doc.editable };
  }

  /**
   * One chart of the report generated at `generatedAt`: of a build this process made lately, or of
   * the stored snapshot, else of a new build from live data; without `generatedAt`, of the stored snapshot.
   */
  async chart(periodText: string, scope: ReportScope, chartId: string, generatedAt?: string): Promise<Chart | undefined> {
    const period = parsePeriod(periodText);
    let report = generatedAt ? this.recent.get(recentKey(period.key, scope, generatedAt)) : undefined;
    if (!report) {
      const snapshot = (await this.stored(period.key, scope))?.doc.snapshot;
      if (snapshot && (!generatedAt || snapshot.generatedAt === generatedAt)) report = snapshot;
    }
    if (!report && !generatedAt) throw new NotFoundError(`no report has been generated for ${periodText} (${scopeKey(scope)})`);
    report ??= await this.generate(periodText, scope);
    return report.sections.flatMap((s) => s.charts).find((c) => c.id === chartId);
  }

  private remember(report: Report): void {
    const key = recentKey(report.period.key, report.scope, report.generatedAt);
    this.recent.delete(key);
    this.recent.set(key, report);
    for (const oldest of this.recent.keys()) {
      if (this.recent.size <= RECENT_BUILDS) break;
      this.recent.delete(oldest);
    }
  }

  private async stored(periodKey: string, scope: ReportScope): Promise<Versioned | undefined> {
    try {
      const res = await this.deps.es.get<StoredReport>({ index: this.deps.indices.reports, id: `${periodKey}--${scopeKey(scope)}` });
      return res._source ? { doc: res._source, if_seq_no: res._seq_no!, if_primary_term: res._primary_term! } : undefined;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw translateEsError(err, 'read a saved report');
    }
  }

  /**
   * Read-modify-write of the stored document under `if_seq_no`/`if_primary_term` (create-only when
   * absent), so a snapshot and the conclusions saved at the same time both stay. Stored reports are only
   * read back by id (a real-time GET), so no refresh is awaited.
   */
  private async change(periodKey: string, scope: ReportScope, next: (stored?: StoredReport) => StoredReport): Promise<{ before?: StoredReport; after: StoredReport }> {
    const id = `${periodKey}--${scopeKey(scope)}`;
    for (let attempt = 1; ; attempt++) {
      const current = await this.stored(periodKey, scope);
      const after = next(current?.doc);
      try {
        if (current) await this.deps.es.index({ index: this.deps.indices.reports, id, document: after, if_seq_no: current.if_seq_no, if_primary_term: current.if_primary_term });
        else await this.deps.es.create({ index: this.deps.indices.reports, id, document: after });
        return { ...(current ? { before: current.doc } : {}), after };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 409) throw translateEsError(err, 'save a report');
        if (attempt >= WRITE_ATTEMPTS) throw new ConflictError(`报告正被他人同时修改，请稍后重试 (report ${id} kept changing while being saved)`, 'report_busy');
      }
    }
  }
}

function recentKey(periodKey: string, scope: ReportScope, generatedAt: string): string {
  return `${periodKey}--${scopeKey(scope)}@${generatedAt}`;
}
