import { createHash, randomBytes } from 'node:crypto';
import { ConflictError } from '../../core/errors.js';

/** A document version as Elasticsearch checks it in a compare-and-set. */
export interface DocVersion {
  if_seq_no: number;
  if_primary_term: number;
}

/** A version as the stores give it out (`<seq_no>:<primary_term>`). */
export function parseVersion(version: string): DocVersion {
  const m = /^(\d+):(\d+)$/.exec(version);
  if (!m) throw new ConflictError(`version "${version}" is not one this server gave out`, 'version_conflict');
  return { if_seq_no: Number(m[1]), if_primary_term: Number(m[2]) };
}

/** The version a document has before it exists: what a create "replaces". */
export const ABSENT: DocVersion = { if_seq_no: -1, if_primary_term: 0 };

/** How many receipts a document keeps: enough that a write overwritten right after it landed is still recognised. */
export const RECEIPTS_KEPT = 8;

const PROCESS_TOKEN = randomBytes(6).toString('base64url');
let written = 0;

/**
 * A receipt names one compare-and-set write and the version it replaced: `<token>@<seq_no>:<primary_term>`.
 * The token is unique per write (this process's random token and a counter), so a receipt found in a
 * stored document proves that this very write landed, whatever happened to the answer.
 */
export function newReceipt(replaced: DocVersion): string {
  written += 1;
  return `${PROCESS_TOKEN}.${written.toString(36)}@${replaced.if_seq_no}:${replaced.if_primary_term}`;
}

/**
 * The receipt of a write made on behalf of `key` (a raise job's id, a client's Idempotency-Key with
 * its user): `k.<digest of key>@<seq_no>:<primary_term>`. Every attempt of that one intent writes the
 * same token, so a later attempt recognises a write of an earlier one whose answer it never got
 * (`carriesWriteOf`). The attempts of one key are sequential (a job's retries, a client resending
 * after an answer), and two of them from the same version are one compare-and-set: only one lands.
 */
export function keyedReceipt(key: string, replaced: DocVersion): string {
  return `${keyToken(key)}@${replaced.if_seq_no}:${replaced.if_primary_term}`;
}

/** Whether the receipts a document keeps include a write made on behalf of `key` (see `keyedReceipt`). */
export function carriesWriteOf(receipts: readonly string[] | undefined, key: string): boolean {
  return writeOf(receipts, key) !== undefined;
}

/** The receipt of the newest write made on behalf of `key` among those a document keeps, if any. */
export function writeOf(receipts: readonly string[] | undefined, key: string): string | undefined {
  const token = `${keyToken(key)}@`;
  return (receipts ?? []).find((r) => r.startsWith(token));
}

const keyToken = (key: string) => `k.${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;

/** The receipts a document carries after a write: this write's first, then the newest of the ones it had. */
export function withReceipt(receipt: string, earlier: readonly string[] | undefined): string[] {
  return [receipt, ...(earlier ?? []).slice(0, RECEIPTS_KEPT - 1)];
}

const sameVersion = (a: DocVersion, b: DocVersion) => a.if_seq_no === b.if_seq_no && a.if_primary_term === b.if_primary_term;

function replacedBy(receipt: string): DocVersion | undefined {
  const m = /@(\d+):(\d+)$/.exec(receipt);
  return m ? { if_seq_no: Number(m[1]), if_primary_term: Number(m[2]) } : undefined;
}

/**
 * What became of a compare-and-set write whose answer was lost (the connection cut, a timeout, a 5xx
 * for the whole request), decided from a real-time read of the document afterwards:
 * - `landed`: the document carries this write's receipt as its newest; its version is this write's.
 * - `landed-then-changed`: the receipt is there under a newer one; this write's version is the one
 *   the next write replaced.
 * - `still-at-expected`: the document is still at the version the write replaced, without the
 *   receipt: the write has not landed (it may still be on its way, so only resending the same
 *   compare-and-set settles it: exactly one of the two can land).
 * - `overtaken`: another write replaced that version first; this one can never land (a conflict).
 * - `missing`: there is no document to have written.
 */
export type LostAnswerOutcome =
  | { outcome: 'landed'; version: DocVersion }
  | { outcome: 'landed-then-changed'; version: DocVersion }
  | { outcome: 'still-at-expected' }
  | { outcome: 'overtaken' }
  | { outcome: 'missing' };

export function decideLostAnswer(receipt: string, expected: DocVersion, stored: { version: DocVersion; receipts: readonly string[] } | undefined): LostAnswerOutcome {
  if (!stored) return { outcome: 'missing' };
  const at = stored.receipts.indexOf(receipt);
  if (at === 0) return { outcome: 'landed', version: stored.version };
  if (at > 0) {
    const version = replacedBy(stored.receipts[at - 1]!);
    if (version) return { outcome: 'landed-then-changed', version };
  }
  if (sameVersion(stored.version, expected)) return { outcome: 'still-at-expected' };
  return { outcome: 'overtaken' };
}
