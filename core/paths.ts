import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding our package.json. Works from `dist/` too. */
export function findRepoRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'config'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the qianshao repository root above ${from}`);
    dir = parent;
  }
}

export const repoRoot = findRepoRoot();
/** Folder of YAML configuration: `QIANSHAO_CONFIG_DIR` or `<repo>/config`. */
export const configDir = process.env.QIANSHAO_CONFIG_DIR ?? path.join(repoRoot, 'config');
