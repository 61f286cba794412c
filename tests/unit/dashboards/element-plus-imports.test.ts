import { describe, expect, it } from 'vitest';
import { elementPlusDeepImports } from '../../../dashboards/build/element-plus-imports.js';

const plugin = elementPlusDeepImports();
const transform = (code: string, id = '/repo/dashboards/src/pages/wall/WallPage.vue?vue&type=script&setup=true&lang.ts') =>
  (plugin.transform as (code: string, id: string) => { code: string } | null)(code, id)?.code;

describe('elementPlusDeepImports: our imports of Element Plus skip the package barrel', () => {
  it.each([
    // each component from the module that defines it, under the name the code uses
    ["import { ElButton, ElMenuItem } from 'element-plus';", [/import \{ ElButton as ElButton \} from ".*element-plus\/es\/components\/button\/index\.mjs";/, /import \{ ElMenuItem as ElMenuItem \} from ".*element-plus\/es\/components\/menu\/index\.mjs";/]],
    // a sub-component lives in its parent's folder
    ['import { ElOption } from "element-plus"', [/import \{ ElOption as ElOption \} from ".*element-plus\/es\/components\/select\/index\.mjs";/]],
    // a renamed import keeps its local name
    ["import { ElTag as Tag } from 'element-plus';", [/import \{ ElTag as Tag \} from ".*element-plus\/es\/components\/tag\/index\.mjs";/]],
    // a name exported under another name is imported by the defining module's own name (here its default)
    ["import { ElLoadingDirective } from 'element-plus';", [/import \{ default as ElLoadingDirective \} from ".*element-plus\/es\/components\/loading\/src\/directive\.mjs";/]],
  ])('%s', (code, expected) => {
    const out = transform(code);
    for (const re of expected) expect(out).toMatch(re);
    expect(out).not.toMatch(/from ["']element-plus["']/);
  });

  it('leaves a name the barrel does not define on the barrel, beside the deep imports', () => {
    const out = transform("import { ElButton, notAnExport } from 'element-plus';");
    expect(out).toMatch(/components\/button\/index\.mjs/);
    expect(out).toContain("import { notAnExport } from 'element-plus';");
  });

  it('leaves Element Plus itself, deep imports and modules without it alone', () => {
    expect(transform("import { ElButton } from 'element-plus';", '/repo/node_modules/element-plus/es/x.mjs')).toBeUndefined();
    expect(transform("import zhCn from 'element-plus/es/locale/lang/zh-cn';")).toBeUndefined();
    expect(transform("import { ref } from 'vue';")).toBeUndefined();
  });
});
