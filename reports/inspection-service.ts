import { NotFoundError } from '../core/errors.js';
import type { ReportInspection } from './build-report.js';
import { inspectNewMedia, inspectWebsite, type WebsiteInspection } from '../core/inspection/inspect-website.js';
import type { InspectionPolicy } from '../core/inspection/inspection-policy.js';
import { columnPrefix, websiteColumns, type Source, type WebsiteSource } from '../core/sources/source.js';
import type { ProbeLog } from '../crawlers/probe/probe-log.js';
import { describeHealth, emptyHealth, type SourceHealthStore } from '../crawlers/shared/source-health.js';
import type { SourceRegistry } from '../crawlers/shared/source-registry.js';
import type { InspectionFigures } from '../pipeline/elasticsearch/es-inspection-figures.js';

/** One position's self-inspection, with who answers for it. */
export interface PositionInspection extends WebsiteInspection {
  name: string;
  kind: Source['kind'];
  owner: Source['owner'];
  /** Websites: whether the columns were declared or taken from the entry points. */
  columnsDeclared?: boolean;
  /** Websites: the message boards counted for 互动回应差. */
  messageBoards?: string[];
}

export interface InspectionServiceDeps {
  registry: SourceRegistry;
  health: SourceHealthStore;
  probes: ProbeLog;
  figures: InspectionFigures;
  policy: InspectionPolicy;
  /** The positions' zombie threshold (a position's own `zombieDays` wins). */
  zombieDays: number;
  now?: () => Date;
}

/** Rows read per list for a trace; the figures themselves are exact up to this many. */
const LIST_LIMIT = 500;
const NEW_MEDIA: readonly Source['kind'][] = ['wechat-mp', 'weibo'];

function hostsOf(source: Source): string[] {
  if (source.kind === 'website' || source.kind === 'message-board' || source.kind === 'rss') return [...source.allowedHosts, ...source.entryPoints.map((u) => new URL(u).host)];
  return [];
}

/**
 * Self-inspection (网站自查) on live data: gathers each website's measurements (probes from the probe
 * log, columns, unanswered 留言 and misstatements from the indexed posts) and judges them with the
 * inspector's rules; new-media accounts are judged by the positions' zombie flag. Computed on
 * every read, so the page shows the figures the superior's 通报 would use today.
 */
export class InspectionService {
  private readonly now: () => Date;
  constructor(private readonly deps: InspectionServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Every position's verdict and items as the analysis-and-judgment report shows them. */
  async forReport(): Promise<ReportInspection[]> {
    return (await this.inspectAll()).map((i) => ({ sourceId: i.sourceId, name: i.name, verdict: i.verdict, findings: i.findings.map((f) => ({ label: f.label, status: f.status, figure: f.figure.text })) }));
  }

  /** Every enabled website and new-media position, websites first. */
  async inspectAll(): Promise<PositionInspection[]> {
    const at = this.now();
    const all = (await this.deps.registry.list()).map((s) => s.source);
    const inspected = all.filter((s) => s.enabled && (s.kind === 'website' || NEW_MEDIA.includes(s.kind)));
    // Every position goes along: a website's message boards are found among them.
    const out = await Promise.all(inspected.map((s) => this.inspect(s, all, at)));
    return out.sort((a, b) => Number(a.kind !== 'website') - Number(b.kind !== 'website'));
  }

  /** @throws NotFoundError when the id is no website or new-media position */
  async inspectOne(sourceId: string): Promise<PositionInspection> {
    const all = (await this.deps.registry.list()).map((s) => s.source);
    const source = all.find((s) => s.id === sourceId);
    if (!source || !(source.kind === 'website' || NEW_MEDIA.includes(source.kind))) throw new NotFoundError(`no website or new-media position ${sourceId}`);
    return this.inspect(source, all, this.now());
  }

  private async inspect(source: Source, all: readonly Source[], at: Date): Promise<PositionInspection> {
    const base = { name: source.name, kind: source.kind, owner: source.owner };
    if (source.kind !== 'website') {
      const view = describeHealth((await this.deps.health.get(source.id)) ?? emptyHealth(source.id), at, source.zombieDays ?? this.deps.zombieDays);
      return { ...base, ...inspectNewMedia(source.id, view, at) };
    }
    return { ...base, ...(await this.inspectSite(source, all, at)) };
  }

  private async inspectSite(site: WebsiteSource, all: readonly Source[], at: Date): Promise<Omit<PositionInspection, 'name' | 'kind' | 'owner'>> {
    const p = this.deps.policy;
    const day = 86_400_000;
    // A message board on one of the site's hosts is the site's interaction channel.
    const siteHosts = new Set(hostsOf(site));
    const boards = all.filter((s) => s.kind === 'message-board' && s.enabled && hostsOf(s).some((h) => siteHosts.has(h))).map((s) => s.id);
    const columns = websiteColumns(site).map((c) => ({ name: c.name, url: c.url, type: c.type, prefix: columnPrefix(c) }));
    const [probes, health, boardHealth, columnFigures, unanswered, misstatements] = await Promise.all([
      this.deps.probes.list(site.id, new Date(at.getTime() - p.availability.windowDays * day), at),
      this.deps.health.get(site.id),
      Promise.all(boards.map((id) => this.deps.health.get(id))),
      this.deps.figures.columns(columns),
      this.deps.figures.unanswered(boards, new Date(at.getTime() - p.interaction.lookbackDays * day), LIST_LIMIT),
      this.deps.figures.misstatements(site.id, [...p.misstatements.failCategories, ...p.misstatements.typoCategories], new Date(at.getTime() - p.misstatements.periodDays * day), LIST_LIMIT),
    ]);
    const inspection = inspectWebsite(
      {
        sourceId: site.id,
        probes,
        crawled: health?.lastSuccessAt !== undefined,
        columns: columnFigures,
        messageBoards: boards,
        boardsCrawled: boardHealth.some((h) => h?.lastSuccessAt !== undefined),
        unanswered: unanswered.items,
        unansweredTotal: unanswered.total,
        misstatements,
      },
      p,
      at,
    );
    return { ...inspection, columnsDeclared: (site.columns?.length ?? 0) > 0, messageBoards: boards };
  }
}
