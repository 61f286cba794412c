import { createHash } from 'node:crypto';
import { structuredPatch, createTwoFilesPatch, type StructuredPatchHunk } from 'diff';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { checkRulePacks, locateInYaml, parseRulePack, RulePackError, setPackVersion, type RulePack, type RuleProblem } from './rule-pack.js';
import type { RulePackStore, RulePackVersion, RulePackVersionSummary } from './rule-pack-store.js';

/** What a save or a revert announces, so every process reloads its rules. */
export interface RulePackChange {
  packId: string;
  version: number;
}

export type PackValidation =
  /** `warnings`: what loads but can never match, or matches twice (see `RulePackCheck`). */
  | { ok: true; pack: { id: string; name: string; version: number; hash: string; terms: number; schemes: number }; warnings: RuleProblem[] }
  | { ok: false; problems: RuleProblem[] };

/** Validates a pack's YAML; problems name the line and column, the field, and for schemes the rule and the position. */
export function validatePackYaml(yaml: string, file = 'pack.yaml'): PackValidation {
  try {
    const warnings: RuleProblem[] = [];
    const pack = parseRulePack(yaml, file, warnings);
    return { ok: true, pack: { id: pack.id, name: pack.name, version: pack.version, hash: pack.hash, terms: pack.terms.length, schemes: pack.schemes.length }, warnings };
  } catch (err) {
    if (err instanceof RulePackError) return { ok: false, problems: err.problems };
    throw err;
  }
}

export interface VersionDiff {
  packId: string;
  from: number;
  to: number;
  /** Unified diff of the two YAML texts. */
  patch: string;
  hunks: StructuredPatchHunk[];
}

export interface SaveOptions {
  /** The version the editor started from; anything else in force means someone saved meanwhile. */
  expectedVersion: number;
  reason: string;
  actor: AuditActor;
  requestId?: string;
}

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Rule packs as versions: seeded from `config/rules/`, then saved and reverted through the API.
 * The newest version of a pack is the one in force. A pack whose newest version came from its file
 * follows the file (a changed file adds a version); once saved through the API, the saved version
 * wins over the file, across restarts. Every change is audited and announced, so every process
 * (API, workers) swaps in the new rules for its next post.
 */
export class RulePackVersions {
  constructor(
    private readonly deps: {
      store: RulePackStore;
      audit: Pick<AuditLog, 'record'>;
      announce: (change: RulePackChange) => Promise<void>;
      now: () => Date;
      log: Log;
    },
  ) {}

  /**
   * Adds a version for each pack of `dir` that is new or whose file changed while the file is what
   * is in force. Throws {@link RulePackError} when the folder is invalid (nothing is seeded then).
   * Safe to run from several processes at once: the store refuses a version added twice.
   */
  async seed(dir: string): Promise<{ added: RulePackChange[] }> {
    const { packs, problems, texts } = checkRulePacks(dir);
    if (problems.length > 0) throw new RulePackError(problems);
    const added: RulePackChange[] = [];
    for (const pack of packs) {
      const text = texts[pack.id]!;
      const head = await this.deps.store.head(pack.id);
      const seedHash = sha256(text);
      if (head && (head.origin !== 'seed' || head.seedHash === seedHash)) continue;
      const version = head ? head.version + 1 : pack.version;
      const yaml = head ? setPackVersion(text, version) : text;
      const parsed = head ? parseRulePack(yaml, `${pack.id}.yaml`) : pack;
      const saved: RulePackVersion = { ...this.record(parsed, yaml, 'seed', 'config'), seedHash };
      try {
        await this.deps.store.add(saved);
      } catch (err) {
        if (err instanceof ConflictError) continue; // another process seeded the same change
        throw err;
      }
      await this.deps.audit.record({
        actor: { kind: 'system', id: 'seed', roles: [] },
        entity: { type: 'rule_pack', id: pack.id },
        action: 'rule_pack.seed',
        ...(head ? { before: { version: head.version, hash: head.hash } } : {}),
        after: { version, hash: parsed.hash },
        reason: head ? 'config/rules file changed' : 'seeded from config/rules',
      });
      added.push({ packId: pack.id, version });
    }
    for (const change of added) await this.deps.announce(change);
    if (added.length > 0) this.deps.log.info({ packs: added.map((c) => `${c.packId}@${c.version}`) }, 'rule packs seeded from config/rules');
    return { added };
  }

  async heads(): Promise<RulePackVersion[]> {
    return this.deps.store.heads();
  }

  async head(packId: string): Promise<RulePackVersion> {
    const head = await this.deps.store.head(packId);
    if (!head) throw new NotFoundError(`no rule pack ${packId}`);
    return head;
  }

  async list(packId: string): Promise<RulePackVersionSummary[]> {
    const versions = await this.deps.store.list(packId);
    if (versions.length === 0) throw new NotFoundError(`no rule pack ${packId}`);
    return versions;
  }

  async get(packId: string, version: number): Promise<RulePackVersion> {
    const found = await this.deps.store.get(packId, version);
    if (!found) throw new NotFoundError(`no version ${version} of rule pack ${packId}`);
    return found;
  }

  /**
   * A new pack from the API: its id is the YAML's, it starts at version 1 (whatever the YAML says),
   * and like any pack saved through the API it is not overridden by a file of the same id later.
   * 400 (nothing saved) when invalid, 409 when a pack with that id exists.
   */
  async create(yaml: string, options: Omit<SaveOptions, 'expectedVersion'>): Promise<RulePackVersion> {
    const draft = parseRulePack(yaml, 'pack.yaml');
    const file = `${draft.id}.yaml`;
    const existing = await this.deps.store.head(draft.id);
    if (existing) throw new ConflictError(`rule pack ${draft.id} already exists (version ${existing.version}); edit it instead`, 'rule_pack_exists');
    const text = draft.version === 1 ? yaml : setPackVersion(yaml, 1);
    const saved: RulePackVersion = { ...this.record(parseRulePack(text, file), text, 'create', options.actor.id), reason: options.reason };
    try {
      await this.deps.store.add(saved);
    } catch (err) {
      if (err instanceof ConflictError) throw new ConflictError(`rule pack ${draft.id} was created by someone else at the same moment`, 'rule_pack_exists');
      throw err;
    }
    await this.deps.audit.record({
      actor: options.actor,
      entity: { type: 'rule_pack', id: saved.packId },
      action: 'rule_pack.create',
      after: { version: saved.version, hash: saved.hash },
      reason: options.reason,
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    await this.deps.announce({ packId: saved.packId, version: saved.version });
    return saved;
  }

  /** Saves `yaml` as the next version of `packId`. 400 (nothing saved) when invalid, 404 for an unknown pack, 409 when stale. */
  async save(packId: string, yaml: string, options: SaveOptions): Promise<RulePackVersion> {
    const pack = parseRulePack(yaml, `${packId}.yaml`);
    if (pack.id !== packId) {
      throw new RulePackError([{ file: `${packId}.yaml`, ...locateInYaml(yaml, ['id']), field: 'id', message: `a pack's id cannot change (${packId} → ${pack.id})` }]);
    }
    const head = await this.expectHead(packId, options.expectedVersion);
    const next = setPackVersion(yaml, head.version + 1);
    if (next === head.yaml) throw new InvalidInputError(`rule pack ${packId}: nothing changed since version ${head.version}`, 'rule_pack_unchanged');
    return this.add(head, parseRulePack(next, `${packId}.yaml`), next, 'edit', options);
  }

  /** Saves a copy of version `to` as the next version (the history keeps everything in between). */
  async revert(packId: string, to: number, options: SaveOptions): Promise<RulePackVersion> {
    const target = await this.get(packId, to);
    const head = await this.expectHead(packId, options.expectedVersion);
    if (to === head.version) throw new InvalidInputError(`rule pack ${packId}: version ${to} is already in force`, 'rule_pack_unchanged');
    const next = setPackVersion(target.yaml, head.version + 1);
    return this.add(head, parseRulePack(next, `${packId}.yaml`), next, 'revert', options, to);
  }

  async diff(packId: string, from: number, to: number): Promise<VersionDiff> {
    const [a, b] = await Promise.all([this.get(packId, from), this.get(packId, to)]);
    const names = [`${packId}@${from}`, `${packId}@${to}`] as const;
    return {
      packId,
      from,
      to,
      patch: createTwoFilesPatch(names[0], names[1], a.yaml, b.yaml),
      hunks: structuredPatch(names[0], names[1], a.yaml, b.yaml).hunks,
    };
  }

  private async expectHead(packId: string, expected: number): Promise<RulePackVersion> {
    const head = await this.head(packId);
    if (head.version !== expected) {
      throw new ConflictError(`rule pack ${packId} was saved meanwhile: version ${head.version} is in force, not ${expected}`, 'rule_pack_version');
    }
    return head;
  }

  private async add(head: RulePackVersion, pack: RulePack, yaml: string, origin: 'edit' | 'revert', options: SaveOptions, revertOf?: number): Promise<RulePackVersion> {
    const saved: RulePackVersion = { ...this.record(pack, yaml, origin, options.actor.id), reason: options.reason, ...(revertOf !== undefined ? { revertOf } : {}) };
    await this.deps.store.add(saved);
    await this.deps.audit.record({
      actor: options.actor,
      entity: { type: 'rule_pack', id: pack.id },
      action: origin === 'revert' ? 'rule_pack.revert' : 'rule_pack.save',
      before: { version: head.version, hash: head.hash },
      after: { version: saved.version, hash: saved.hash, ...(revertOf !== undefined ? { revertOf } : {}) },
      reason: options.reason,
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    await this.deps.announce({ packId: pack.id, version: saved.version });
    return saved;
  }

  private record(pack: RulePack, yaml: string, origin: RulePackVersion['origin'], savedBy: string): RulePackVersion {
    return { packId: pack.id, version: pack.version, name: pack.name, hash: pack.hash, yaml, origin, savedAt: this.deps.now().toISOString(), savedBy };
  }
}
