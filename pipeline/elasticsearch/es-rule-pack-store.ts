import type { Client, estypes } from '@elastic/elasticsearch';
import { ConflictError } from '../../core/errors.js';
import type { RulePackStore, RulePackVersion, RulePackVersionSummary } from '../../core/rules/rule-pack-store.js';
import { translateEsError } from './es-client.js';
import { ensureIndex } from './indices.js';

const MAPPING: estypes.MappingTypeMapping = {
  dynamic: false,
  properties: {
    packId: { type: 'keyword' },
    version: { type: 'integer' },
    name: { type: 'keyword', ignore_above: 256 },
    hash: { type: 'keyword' },
    origin: { type: 'keyword' },
    savedAt: { type: 'date' },
    savedBy: { type: 'keyword' },
  },
};

/** Most packs a deployment holds; far above any real unit's. */
const MAX_PACKS = 1_000;

/**
 * Rule pack versions in one Elasticsearch index, one document per version with the id
 * `<packId>@<version>`, written create-only: two editors saving on the same version race for the
 * same id and the second gets a conflict. Writes refresh, so the next read sees them.
 */
export class EsRulePackStore implements RulePackStore {
  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async ensure(): Promise<void> {
    await ensureIndex(this.es, this.index, MAPPING);
  }

  async heads(): Promise<RulePackVersion[]> {
    try {
      const res = await this.es.search<RulePackVersion>({
        index: this.index,
        size: MAX_PACKS,
        query: { match_all: {} },
        collapse: { field: 'packId' },
        sort: [{ version: 'desc' }],
      });
      return res.hits.hits.map((h) => h._source!).sort((a, b) => a.packId.localeCompare(b.packId));
    } catch (err) {
      throw translateEsError(err, 'read rule packs');
    }
  }

  async head(packId: string): Promise<RulePackVersion | undefined> {
    try {
      const res = await this.es.search<RulePackVersion>({ index: this.index, size: 1, query: { term: { packId } }, sort: [{ version: 'desc' }] });
      return res.hits.hits[0]?._source;
    } catch (err) {
      throw translateEsError(err, `read rule pack ${packId}`);
    }
  }

  async get(packId: string, version: number): Promise<RulePackVersion | undefined> {
    try {
      const res = await this.es.get<RulePackVersion>({ index: this.index, id: `${packId}@${version}` }, { ignore: [404] });
      return res.found ? res._source : undefined;
    } catch (err) {
      throw translateEsError(err, `read rule pack ${packId} version ${version}`);
    }
  }

  async list(packId: string): Promise<RulePackVersionSummary[]> {
    try {
      const res = await this.es.search<RulePackVersionSummary>({
        index: this.index,
        size: 10_000,
        query: { term: { packId } },
        sort: [{ version: 'desc' }],
        _source: { excludes: ['yaml'] },
      });
      return res.hits.hits.map((h) => h._source!);
    } catch (err) {
      throw translateEsError(err, `list versions of rule pack ${packId}`);
    }
  }

  async add(version: RulePackVersion): Promise<void> {
    try {
      await this.es.create({ index: this.index, id: `${version.packId}@${version.version}`, document: version, refresh: true });
    } catch (err) {
      const translated = translateEsError(err, `save rule pack ${version.packId}`);
      if (translated instanceof ConflictError) throw new ConflictError(`rule pack ${version.packId} version ${version.version} was saved by someone else first`, 'rule_pack_version');
      throw translated;
    }
  }
}
