import type { Client, estypes } from '@elastic/elasticsearch';
import type { AuditActor, AuditLog } from '../core/audit/audit-log.js';
import { NotFoundError } from '../core/errors.js';
import { ensureIndex } from '../pipeline/elasticsearch/indices.js';
import { translateEsError } from '../pipeline/elasticsearch/es-client.js';
import { buildBrief, type Brief, type BriefAlert, type BriefPost } from './brief.js';

const MAPPING: estypes.MappingTypeMapping = { dynamic: false, properties: { alertId: { type: 'keyword' }, sequence: { type: 'integer' }, issuedAt: { type: 'date' } } };

/**
 * Issues 快报 (first) and 续报 (each later one, numbered) for an alert, keeps every issued brief
 * unchanged (a brief that went upward is a record), and audits who issued it.
 */
export class BriefService {
  constructor(
    private readonly deps: { es: Client; indices: { alerts: string; posts: string; briefs: string }; unit: string; sourceName: (id: string) => string; audit: AuditLog; now: () => Date },
  ) {}

  async ensure(): Promise<void> {
    await ensureIndex(this.deps.es, this.deps.indices.briefs, MAPPING);
  }

  async issue(alertId: string, actor: AuditActor, requestId?: string, nextSteps?: string): Promise<Brief> {
    const { es, indices } = this.deps;
    const alert = await this.alert(alertId);
    const posts = await this.posts(alert.postIds ?? []);
    let sequence = (await this.list(alertId)).length + 1;
    for (let attempt = 0; attempt < 20; attempt++, sequence++) {
      const brief = buildBrief({ alert, posts, sourceName: this.deps.sourceName(alert.sourceId), unit: this.deps.unit, sequence, issuedBy: actor.displayName ?? actor.id, now: this.deps.now(), ...(nextSteps ? { nextSteps } : {}) });
      try {
        // Create-only by (alert, sequence): two people issuing at once get 快报 and 续报（第2报）, never two 快报.
        await es.create({ index: indices.briefs, id: `${alertId}-${sequence}`, document: brief, refresh: 'wait_for' });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 409) continue;
        throw translateEsError(err, 'save a brief');
      }
      await this.deps.audit.record({ actor, entity: { type: 'alert', id: alertId }, action: sequence === 1 ? 'alert.brief_first' : 'alert.brief_follow_up', after: { title: brief.title, sequence }, requestId });
      return brief;
    }
    throw translateEsError(new Error('could not allocate a brief number'), 'issue a brief');
  }

  /** The alert's briefs in order; an unknown alert is a `NotFoundError`, not an empty list. */
  async list(alertId: string): Promise<Brief[]> {
    let briefs: Brief[];
    try {
      const res = await this.deps.es.search<Brief>({ index: this.deps.indices.briefs, size: 100, query: { term: { alertId } }, sort: [{ sequence: 'asc' }] });
      briefs = res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list briefs');
    }
    if (briefs.length === 0) await this.alert(alertId);
    return briefs;
  }

  async get(alertId: string, sequence: number): Promise<Brief> {
    const found = (await this.list(alertId)).find((b) => b.sequence === sequence);
    if (!found) throw new NotFoundError(`alert ${alertId} has no brief number ${sequence}`);
    return found;
  }

  private async alert(alertId: string): Promise<BriefAlert & { postIds?: string[] }> {
    try {
      const res = await this.deps.es.get<BriefAlert & { postIds?: string[] }>({ index: this.deps.indices.alerts, id: alertId });
      if (!res._source) throw new NotFoundError(`alert ${alertId} does not exist`);
      return res._source;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) throw new NotFoundError(`alert ${alertId} does not exist`);
      throw translateEsError(err, `read alert ${alertId}`);
    }
  }

  private async posts(ids: string[]): Promise<BriefPost[]> {
    if (ids.length === 0) return [];
    try {
      const res = await this.deps.es.search<BriefPost>({ index: this.deps.indices.posts, size: 50, query: { ids: { values: ids.slice(0, 200) } }, _source: ['title', 'text', 'url', 'kind', 'publishedAt', 'collectedAt'] });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'read the alert posts');
    }
  }
}
