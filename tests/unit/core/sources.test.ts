import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSources } from '../../../core/sources/source.js';

function sourcesFile(yaml: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'qs-sources-')), 'sources.yaml');
  writeFileSync(file, yaml);
  return file;
}
const owner = 'owner: { section: 县委网信办, person: 张三 }';

describe('loadSources with every kind', () => {
  it('reads each kind with its own fields and defaults', () => {
    const sources = loadSources(
      sourcesFile(`sources:
  - { id: site, kind: website, name: 门户网站, ${owner}, entryPoints: [http://a.test/index.html] }
  - { id: feed, kind: rss, name: 订阅, ${owner}, entryPoints: [http://b.test/rss.xml] }
  - id: mp
    kind: wechat-mp
    name: 青山发布
    ${owner}
    api: { appidEnv: WX_APPID, secretEnv: WX_SECRET }
  - { id: wb, kind: weibo, name: 青山发布微博, ${owner}, uid: "7001234567" }
  - { id: hotline, kind: push, name: 12345热线, ${owner}, tokenEnv: HOTLINE_TOKEN }
`),
    );
    expect(sources.map((s) => s.kind)).toEqual(['website', 'rss', 'wechat-mp', 'weibo', 'push']);
    expect(sources[1]).toMatchObject({ allowedHosts: ['b.test'] });
    expect(sources[2]).toMatchObject({ api: { baseUrl: 'https://api.weixin.qq.com', appidEnv: 'WX_APPID', maxArticles: 100, comments: true }, articleUrls: [] });
    expect(sources[3]).toMatchObject({ uid: '7001234567', baseUrl: 'https://m.weibo.cn', maxPages: 3, comments: true });
  });

  it.each([
    // a secret pasted where the env variable's name belongs
    [`{ id: mp, kind: wechat-mp, name: x, ${owner}, api: { appidEnv: wx1234abcd, secretEnv: WX_SECRET } }`, /api\.appidEnv: the NAME of an environment variable/],
    // neither the API nor public pages
    [`{ id: mp, kind: wechat-mp, name: x, ${owner} }`, /wechat-mp source needs `api`/],
    // a uid that is a screen name
    [`{ id: wb, kind: weibo, name: x, ${owner}, uid: 青山发布 }`, /uid: the numeric Weibo uid/],
    // an unknown kind
    [`{ id: x, kind: douyin, name: x, ${owner} }`, /sources\.0\.kind/],
    // a push source without a token
    [`{ id: p, kind: push, name: x, ${owner} }`, /tokenEnv/],
    // invalid YAML (an unclosed flow map): the file and the line are named
    [`{ id: w, kind: website, name: x, ${owner}, entryPoints: [http://a.test/`, /sources\.yaml:\d+: YAML: /],
  ])('%s → a readable error', (entry, message) => {
    expect(() => loadSources(sourcesFile(`sources:\n  - ${entry}\n`))).toThrow(message);
  });
});
