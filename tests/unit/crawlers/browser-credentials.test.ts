import { describe, expect, it } from 'vitest';
import { decideHopAuthorization, hopHeaders, hopPatterns, parseCookieHeader } from '../../../crawlers/shared/browser-credentials.js';

/** Which hops of a rendered page get the source's authorization header, and with which headers. */
describe('a source’s authorization header in Chromium, hop by hop', () => {
  const hosts = new Set(['oa.example.gov.cn', '127.0.0.1:8601']);

  it.each([
    // the source's own host, any path, either scheme
    ['https://oa.example.gov.cn/list/index.html', 'own-host'],
    ['http://oa.example.gov.cn/api/list.json?page=2', 'own-host'],
    // an explicit default port is the same host once parsed
    ['https://oa.example.gov.cn:443/x', 'own-host'],
    // host and port are both part of the allowed host
    ['http://127.0.0.1:8601/hdjl/lyb/index.html', 'own-host'],
    ['http://127.0.0.1:8602/', 'other-host'],
    ['http://127.0.0.1/', 'other-host'],
    // another host, however alike
    ['https://oa.example.gov.cn.evil.test/', 'other-host'],
    ['https://cdn.oa.example.gov.cn/a.js', 'other-host'],
    ['https://evil.test/?next=https://oa.example.gov.cn/', 'other-host'],
    // credentials in the URL name someone else's account
    ['https://user:pw@oa.example.gov.cn/', 'other-host'],
    // no HTTP request to add a header to
    ['data:text/plain,hello', 'not-http'],
    ['blob:https://oa.example.gov.cn/0d5c', 'not-http'],
    ['not a url', 'not-http'],
  ])('%s → %s', (url, decision) => {
    expect(decideHopAuthorization(url, hosts)).toBe(decision);
  });

  it('pauses hops to the allowed hosts only, on both schemes, with wildcards in a host escaped', () => {
    expect(hopPatterns(['oa.example.gov.cn', '127.0.0.1:8601', 'odd*host?'])).toEqual([
      { urlPattern: 'http://oa.example.gov.cn/*', requestStage: 'Request' },
      { urlPattern: 'https://oa.example.gov.cn/*', requestStage: 'Request' },
      { urlPattern: 'http://127.0.0.1:8601/*', requestStage: 'Request' },
      { urlPattern: 'https://127.0.0.1:8601/*', requestStage: 'Request' },
      { urlPattern: 'http://odd\\*host\\?/*', requestStage: 'Request' },
      { urlPattern: 'https://odd\\*host\\?/*', requestStage: 'Request' },
    ]);
  });

  const secret = 'Bearer s3cret';
  it.each([
    // own host: added, the other headers kept as they were
    ['own-host', { Accept: '*/*', Cookie: 'SESSIONID=1' }, [['Accept', '*/*'], ['Cookie', 'SESSIONID=1'], ['Authorization', secret]]],
    // own host: the source's header replaces one the page set, whatever its case
    ['own-host', { authorization: 'Bearer page-own' }, [['Authorization', secret]]],
    // another host: a page's own header is its business and stays
    ['other-host', { Accept: '*/*', Authorization: 'Bearer page-own' }, [['Accept', '*/*'], ['Authorization', 'Bearer page-own']]],
    // another host: the source's own value never leaves with it
    ['other-host', { Accept: '*/*', authorization: secret }, [['Accept', '*/*']]],
  ] as const)('%s: %j', (decision, headers, expected) => {
    expect(hopHeaders(headers, secret, decision)).toEqual(expected.map(([name, value]) => ({ name, value })));
  });

  it('reads a cookie header into pairs, dropping pieces without a name', () => {
    expect(parseCookieHeader('SESSIONID=s3cret; lang=zh; =x; flag; a=b=c')).toEqual([
      { name: 'SESSIONID', value: 's3cret' },
      { name: 'lang', value: 'zh' },
      { name: 'a', value: 'b=c' },
    ]);
  });
});
