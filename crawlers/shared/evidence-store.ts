import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface EvidenceRef {
  sha256: string;
  /** Path relative to the evidence root. */
  path: string;
}

/**
 * Evidence (证据保存): the raw bytes of every collected page and the screenshots asked for, gzip,
 * content-addressed (`snapshots/ab/<sha256>.gz`), written once. Port: it keeps bytes only; which
 * item refers to which snapshot is on the item itself.
 */
export interface EvidenceStore {
  keep(bytes: Buffer, kind: 'snapshot' | 'screenshot'): Promise<EvidenceRef>;
}

export class DiskEvidenceStore implements EvidenceStore {
  constructor(readonly root: string) {}

  async keep(bytes: Buffer, kind: 'snapshot' | 'screenshot'): Promise<EvidenceRef> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const rel = path.join(kind === 'snapshot' ? 'snapshots' : 'screenshots', sha256.slice(0, 2), `${sha256}${kind === 'snapshot' ? '.gz' : '.png'}`);
    const file = path.join(this.root, rel);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, kind === 'snapshot' ? await gzipAsync(bytes) : bytes);
      await rename(tmp, file);
    }
    return { sha256, path: rel };
  }
}
