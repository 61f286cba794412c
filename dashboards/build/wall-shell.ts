import type { GetModuleInfo, ManualChunkMeta } from 'rollup';

/** Every module `roots` import statically, directly or through others. */
function staticClosure(roots: readonly string[], getModuleInfo: GetModuleInfo): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(getModuleInfo(id)?.importedIds ?? []));
  }
  return seen;
}

/**
 * Chunk assignment for the landing page: the layout and the wall, with the Element Plus components
 * and styles they use, go to one `wall-shell` chunk (one JS and one CSS request). Left to Rollup,
 * their code came in ~35 small requests that queued on the browser's six connections per host
 * (cold: 250–330 ms before the wall could render). What the entry imports is named `index` so it
 * stays in the entry: a manual chunk takes in its modules' unassigned static imports, and would
 * otherwise take what the entry shares with the shell, making the shell part of the initial load.
 * Expects the barrel-free imports of `elementPlusDeepImports()`.
 */
export function wallShellChunks(entry: string, shellRoots: readonly string[]): (id: string, meta: ManualChunkMeta) => string | undefined {
  let initial: Set<string> | undefined;
  let shell: Set<string> | undefined;
  return (id, { getModuleInfo }) => {
    if (!initial || !shell) {
      const entryModules = (initial = staticClosure([entry], getModuleInfo));
      shell = new Set([...staticClosure(shellRoots, getModuleInfo)].filter((m) => !entryModules.has(m)));
    }
    if (initial.has(id)) return 'index';
    if (shell.has(id)) return 'wall-shell';
    return undefined;
  };
}
