import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

/** Where each name `element-plus` exports is defined: its module and the name it has there. */
function elementPlusExports(): Map<string, { file: string; name: string }> {
  // The package's `exports` do not list this file, so it is found where npm installs it.
  const index = fileURLToPath(new URL('../../node_modules/element-plus/es/index.mjs', import.meta.url));
  const code = readFileSync(index, 'utf8');
  const source = new Map<string, { file: string; name: string }>();
  const file = (relative: string) => path.join(path.dirname(index), relative);
  for (const m of code.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"(\.\/[^"]+)";$/gm)) {
    for (const local of m[1]!.split(',').map((n) => n.trim()).filter(Boolean)) source.set(local, { file: file(m[2]!), name: local });
  }
  // `import vLoading from "./components/loading/src/directive.mjs"`: that module's default export.
  for (const m of code.matchAll(/^import\s+([\w$]+)\s+from\s*"(\.\/[^"]+)";$/gm)) source.set(m[1]!, { file: file(m[2]!), name: 'default' });
  const exports = new Map<string, { file: string; name: string }>();
  for (const m of code.matchAll(/^export\s*\{([^}]*)\};$/gm)) {
    for (const spec of m[1]!.split(',').map((n) => n.trim()).filter(Boolean)) {
      const [local, exported = local] = spec.split(/\s+as\s+/) as [string, string?];
      const found = source.get(local);
      if (found) exports.set(exported, found);
    }
  }
  return exports;
}

/**
 * Rewrites `import { ElMenu, ElMenuItem } from 'element-plus'` in the dashboard's own modules into
 * imports of the modules that define them. The output is the same code (the package is free of side
 * effects and tree-shaken either way), but the module graph no longer runs through the package's
 * barrel, which imports every component: a manual chunk pulls in the static imports of its modules,
 * and through the barrel that was all of Element Plus (vite.config.ts, the wall's chunk).
 * Names the barrel does not define in one module stay imported from it. Runs after
 * unplugin-element-plus (itself `enforce: 'post'`, so list this plugin after it), which needs the
 * barrel imports to add each component's stylesheet.
 */
export function elementPlusDeepImports(): Plugin {
  let exports: Map<string, { file: string; name: string }> | undefined;
  return {
    name: 'qianshao:element-plus-deep-imports',
    enforce: 'post',
    transform(code, id) {
      if (id.includes('/node_modules/') || !/\.(vue|ts)(\?|$)/.test(id) || !code.includes('element-plus')) return null;
      exports ??= elementPlusExports();
      const table = exports;
      let changed = false;
      const out = code.replace(/import\s*\{([^}]*)\}\s*from\s*["']element-plus["'];?/g, (whole, names: string) => {
        const kept: string[] = [];
        const deep: string[] = [];
        for (const spec of names.split(',').map((n) => n.trim()).filter(Boolean)) {
          const [imported, local = imported] = spec.split(/\s+as\s+/) as [string, string?];
          const found = table.get(imported);
          if (!found || imported.startsWith('type ')) kept.push(spec);
          else deep.push(`import { ${found.name} as ${local} } from ${JSON.stringify(found.file)};`);
        }
        if (deep.length === 0) return whole;
        changed = true;
        return [...deep, ...(kept.length > 0 ? [`import { ${kept.join(', ')} } from 'element-plus';`] : [])].join('\n');
      });
      return changed ? { code: out, map: null } : null;
    },
  };
}
