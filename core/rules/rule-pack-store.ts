/** One saved version of a rule pack: its YAML as it was written, and who saved it, when and why. */
export interface RulePackVersion {
  packId: string;
  /** 1, 2, 3 …; the pack's `version:` field says the same number. */
  version: number;
  name: string;
  /** The pack's content hash (see `RulePack.hash`). */
  hash: string;
  yaml: string;
  /** `seed`: read from config/rules/; `edit`: saved through the API; `revert`: a copy of an older version. */
  origin: 'seed' | 'create' | 'edit' | 'revert';
  savedAt: string;
  /** A username, or `config` for a seed. */
  savedBy: string;
  reason?: string;
  /** For a seed: sha256 of the file's text, so a changed file is seen as a change. */
  seedHash?: string;
  /** For a revert: the version copied. */
  revertOf?: number;
}

export type RulePackVersionSummary = Omit<RulePackVersion, 'yaml'>;

/**
 * Every version ever saved of every rule pack; the newest version of each pack is the one in force.
 * Versions are immutable and added only as the next number, so adding version n + 1 twice is a
 * conflict: that is the optimistic concurrency of saving. Deliberately left out: deleting a version
 * or a pack (a pack is retired by saving a version without terms, which the schema refuses — so not yet).
 */
export interface RulePackStore {
  ensure(): Promise<void>;
  /** The newest version of every pack. */
  heads(): Promise<RulePackVersion[]>;
  head(packId: string): Promise<RulePackVersion | undefined>;
  get(packId: string, version: number): Promise<RulePackVersion | undefined>;
  /** Newest first, without the YAML. */
  list(packId: string): Promise<RulePackVersionSummary[]>;
  /** Adds a version, visible to every reader once this resolves; a `ConflictError` when that version exists already. */
  add(version: RulePackVersion): Promise<void>;
}
