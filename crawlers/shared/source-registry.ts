import type { Redis } from 'ioredis';
import { ConflictError, InvalidInputError, NotFoundError } from '../../core/errors.js';
import { SourceSchema, withDefaultHosts, type Source } from '../../core/sources/source.js';

export interface StoredSource {
  source: Source;
  /** Bumped on every change; an update naming an older version is refused (optimistic concurrency). */
  version: number;
  updatedAt: string;
  updatedBy: string;
  /** `yaml` while the source is as the seed file has it; `api` once edited. */
  origin: 'yaml' | 'api';
}

/**
 * The positions, as the crawler and the API see them. YAML is the seed: a source in the file and
 * not yet stored is added at start; once stored, edits made through the API win and survive
 * restarts. Port: it leaves out scheduling (see `scheduleSource`) and health.
 */
export interface SourceRegistry {
  /** What this call wrote (another process seeding at once writes the rest), for the audit trail. */
  seed(sources: readonly Source[]): Promise<{ added: Source[]; updated: { before: Source; after: Source }[] }>;
  list(): Promise<StoredSource[]>;
  get(id: string): Promise<StoredSource | undefined>;
  create(source: unknown, actor: string): Promise<StoredSource>;
  update(id: string, source: unknown, actor: string, expectedVersion?: number): Promise<{ before: StoredSource; after: StoredSource }>;
}

/** Validates a source coming from the API; errors name the field. */
export function parseSource(raw: unknown): Source {
  const result = SourceSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InvalidInputError(`${issue.path.join('.') || 'source'}: ${issue.message}`, 'invalid_source', result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
  }
  return withDefaultHosts(result.data);
}

const CAS = `local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return -1 end
if cjson.decode(cur).version ~= tonumber(ARGV[2]) then return 1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 0`;

export class RedisSourceRegistry implements SourceRegistry {
  private readonly key: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.key = `${prefix}:sources`;
  }

  async seed(sources: readonly Source[]): Promise<{ added: Source[]; updated: { before: Source; after: Source }[] }> {
    const added: Source[] = [];
    const updated: { before: Source; after: Source }[] = [];
    for (const source of sources) {
      const stored: StoredSource = { source, version: 1, updatedAt: this.now().toISOString(), updatedBy: 'config', origin: 'yaml' };
      for (let attempt = 0; attempt < 5; attempt++) {
        if ((await this.redis.hsetnx(this.key, source.id, JSON.stringify(stored))) === 1) {
          added.push(source);
          break;
        }
        // A seed-origin source follows the file until someone edits it through the API.
        const current = await this.get(source.id);
        if (!current) continue;
        if (current.origin !== 'yaml' || JSON.stringify(current.source) === JSON.stringify(source)) break;
        // Written only over the version read: an edit saved through the API meanwhile wins (it is then no longer `yaml`).
        // 0: written; 1 or -1: changed or deleted meanwhile, so look again.
        if ((await this.redis.eval(CAS, 1, this.key, source.id, String(current.version), JSON.stringify({ ...stored, version: current.version + 1 }))) === 0) {
          updated.push({ before: current.source, after: source });
          break;
        }
      }
    }
    return { added, updated };
  }

  async list(): Promise<StoredSource[]> {
    return Object.values(await this.redis.hgetall(this.key))
      .map((v) => JSON.parse(v) as StoredSource)
      .sort((a, b) => a.source.id.localeCompare(b.source.id));
  }

  async get(id: string): Promise<StoredSource | undefined> {
    const raw = await this.redis.hget(this.key, id);
    return raw ? (JSON.parse(raw) as StoredSource) : undefined;
  }

  async create(raw: unknown, actor: string): Promise<StoredSource> {
    const source = parseSource(raw);
    const stored: StoredSource = { source, version: 1, updatedAt: this.now().toISOString(), updatedBy: actor, origin: 'api' };
    if ((await this.redis.hsetnx(this.key, source.id, JSON.stringify(stored))) === 0) throw new ConflictError(`source ${source.id} exists already`, 'source_exists');
    return stored;
  }

  async update(id: string, raw: unknown, actor: string, expectedVersion?: number): Promise<{ before: StoredSource; after: StoredSource }> {
    const source = parseSource(raw);
    if (source.id !== id) throw new InvalidInputError(`id: a source's id cannot change (${id} → ${source.id})`, 'invalid_source');
    // Compare-and-set in one script: two editors saving at once cannot both win.
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await this.get(id);
      if (!before) throw new NotFoundError(`no source ${id}`);
      if (expectedVersion !== undefined && expectedVersion !== before.version) {
        throw new ConflictError(`source ${id} was changed meanwhile (version ${before.version}, not ${expectedVersion})`, 'source_version');
      }
      const after: StoredSource = { source, version: before.version + 1, updatedAt: this.now().toISOString(), updatedBy: actor, origin: 'api' };
      const result = (await this.redis.eval(CAS, 1, this.key, id, String(before.version), JSON.stringify(after))) as number;
      if (result === 0) return { before, after };
      if (result === -1) throw new NotFoundError(`no source ${id}`);
    }
    throw new ConflictError(`source ${id} is being changed by someone else; try again`, 'source_version');
  }
}
