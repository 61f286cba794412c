import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../errors.js';

/**
 * The HMAC key that signs audit checkpoints. It lives outside Elasticsearch — in the environment
 * (`AUDIT_CHECKPOINT_KEY`, at least 32 characters) or in a file readable only by the owner — so
 * someone able to rewrite the audit index cannot re-sign a rewritten chain. A missing file is
 * created with 32 random bytes on first use.
 */
export function loadCheckpointKey(options: { secret?: string; file: string }): Buffer {
  if (options.secret) {
    if (options.secret.length < 32) throw new InvalidInputError('audit.checkpointKey: needs at least 32 characters', 'audit_key_too_short');
    return Buffer.from(options.secret, 'utf8');
  }
  if (!existsSync(options.file)) {
    mkdirSync(path.dirname(options.file), { recursive: true });
    try {
      writeFileSync(options.file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: read theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const text = readFileSync(options.file, 'utf8').trim();
  if (text.length < 32) throw new InvalidInputError(`${options.file}: the audit checkpoint key needs at least 32 characters`, 'audit_key_too_short');
  try {
    chmodSync(options.file, 0o600);
  } catch {
    // A read-only mount keeps its own permissions.
  }
  return Buffer.from(text, 'utf8');
}
