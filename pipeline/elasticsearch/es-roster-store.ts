import type { Client } from '@elastic/elasticsearch';
import { RosterSchema, type Roster } from '../../core/duty/roster.js';
import { ConflictError } from '../../core/errors.js';
import { translateEsError } from './es-client.js';

export interface VersionedRoster {
  roster: Roster;
  version: string;
  updatedAt: string;
  updatedBy: string;
}

/**
 * The duty roster as one document with optimistic concurrency. Seeded from the unit's YAML the
 * first time; afterwards the API edits it (the YAML is not read again, so edits are not lost).
 */
export interface RosterStore {
  seed(roster: Roster): Promise<void>;
  current(): Promise<VersionedRoster>;
  replace(roster: Roster, version: string, by: string): Promise<VersionedRoster>;
}

export class EsRosterStore implements RosterStore {
  private cache: { value: VersionedRoster; at: number } | undefined;

  constructor(
    private readonly es: Client,
    private readonly index: string,
    /** How long a read may be served from memory (the escalate worker reads it per clock). */
    private readonly cacheMs = 2_000,
  ) {}

  async seed(roster: Roster): Promise<void> {
    try {
      await this.es.create({ index: this.index, id: 'current', document: { roster, updatedAt: new Date().toISOString(), updatedBy: 'seed' }, refresh: 'wait_for' });
    } catch (err) {
      const translated = translateEsError(err, 'seed roster');
      if (!(translated instanceof ConflictError)) throw translated;
    }
  }

  async current(): Promise<VersionedRoster> {
    if (this.cache && Date.now() - this.cache.at < this.cacheMs) return this.cache.value;
    try {
      const res = await this.es.get<{ roster: unknown; updatedAt: string; updatedBy: string }>({ index: this.index, id: 'current' });
      const value = { roster: RosterSchema.parse(res._source!.roster), version: `${res._seq_no}:${res._primary_term}`, updatedAt: res._source!.updatedAt, updatedBy: res._source!.updatedBy };
      this.cache = { value, at: Date.now() };
      return value;
    } catch (err) {
      throw translateEsError(err, 'read roster');
    }
  }

  async replace(roster: Roster, version: string, by: string): Promise<VersionedRoster> {
    const m = /^(\d+):(\d+)$/.exec(version);
    if (!m) throw new ConflictError(`roster version "${version}" is not one this server gave out`, 'version_conflict');
    const updatedAt = new Date().toISOString();
    try {
      const res = await this.es.index({
        index: this.index,
        id: 'current',
        document: { roster, updatedAt, updatedBy: by },
        if_seq_no: Number(m[1]),
        if_primary_term: Number(m[2]),
        refresh: 'wait_for',
      });
      this.cache = undefined;
      return { roster, version: `${res._seq_no}:${res._primary_term}`, updatedAt, updatedBy: by };
    } catch (err) {
      const translated = translateEsError(err, 'update roster');
      if (translated instanceof ConflictError) throw new ConflictError('值班表刚被他人修改，请刷新后重试 (the roster was changed by someone else)', 'version_conflict');
      throw translated;
    }
  }
}
