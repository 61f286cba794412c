import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoSiteUrl, secretHostsOf } from '../../../bin/services.js';
import { configDir } from '../../../core/paths.js';
import { ConfigSchema } from '../../../core/config/config-schema.js';
import { assertSecretBindings, assertSecretHosts, decideSecretHost, SecretHostSchema, type SecretHosts } from '../../../core/config/secret-hosts.js';
import { channelSentSecrets, ChannelSchema, loadChannels } from '../../../core/notify/channel.js';
import { loadSources, resolveCredentials, SourceSchema, sourceSentSecrets, withDefaultHosts, type PageSource } from '../../../core/sources/source.js';

const owner = { section: '县委宣传部', person: '陈静' };
const bindings: SecretHosts = { QS_SITE_COOKIE: ['cms.qingshan.example', '127.0.0.1:8601'], QS_WEIBO_COOKIE: ['m.weibo.example'] };

function website(entry: string, credentials: Record<string, string> = { cookie: 'QS_SITE_COOKIE' }, allowedHosts: string[] = []): PageSource {
  return withDefaultHosts(SourceSchema.parse({ id: 'site', kind: 'website', name: '门户网站', owner, entryPoints: [entry], allowedHosts, credentials })) as PageSource;
}

describe('secret bindings (secrets.hosts)', () => {
  it.each([
    // The binding names the host (port included, as URL.host writes it).
    ['QS_SITE_COOKIE', 'cms.qingshan.example', 'bound-here'],
    ['QS_SITE_COOKIE', '127.0.0.1:8601', 'bound-here'],
    // The same address on another port is another host.
    ['QS_SITE_COOKIE', '127.0.0.1:8602', 'bound-elsewhere'],
    ['QS_WEIBO_COOKIE', 'cms.qingshan.example', 'bound-elsewhere'],
    // No binding: only the admin's YAML names such a secret.
    ['QS_OTHER', 'anywhere.example', 'unbound'],
  ] as const)('%s to %s is %s', (name, host, decision) => {
    expect(decideSecretHost(bindings, name, host)).toBe(decision);
  });

  it.each([
    ['weibo.example', true],
    ['127.0.0.1:8601', true],
    ['[::1]:8080', true],
    // URL.host drops a default port and lower-cases: such an entry would never match.
    ['weibo.example:443', false],
    ['weibo.example:80', false],
    ['Weibo.Example', false],
    ['https://weibo.example', false],
    ['weibo.example/path', false],
  ])('takes %s as a bound host: %s', (host, ok) => {
    expect(SecretHostSchema.safeParse(host).success).toBe(ok);
  });

  it('is read from the config file and empty by default', () => {
    expect(ConfigSchema.parse({}).secrets.hosts).toEqual({});
    expect(ConfigSchema.parse({ secrets: { hosts: { QS_WEIBO_COOKIE: ['m.weibo.example'] } } }).secrets).toEqual({ envPrefixes: ['QS_'], hosts: { QS_WEIBO_COOKIE: ['m.weibo.example'] } });
    expect(ConfigSchema.safeParse({ secrets: { hosts: { QS_WEIBO_COOKIE: [] } } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ secrets: { hosts: { 'qs-weibo': ['m.weibo.example'] } } }).success).toBe(false);
  });

  it('at use, refuses a bound secret for a host outside its binding, naming the variable and the host, never the value', () => {
    const secrets = sourceSentSecrets(website('http://127.0.0.1:9999/index.html'));
    const attempt = () => assertSecretHosts('阵地 site', secrets, bindings);
    expect(attempt).toThrow(expect.objectContaining({ httpStatus: 400, code: 'secret_host_not_allowed', message: expect.stringMatching(/QS_SITE_COOKIE.*127\.0\.0\.1:9999/) }));
    // Unbound secrets and bound ones going where they belong pass.
    expect(() => assertSecretHosts('阵地 site', sourceSentSecrets(website('https://cms.qingshan.example/')), bindings)).not.toThrow();
    expect(() => assertSecretHosts('阵地 site', sourceSentSecrets(website('http://127.0.0.1:9999/', { cookie: 'QS_OTHER' })), bindings)).not.toThrow();
  });

  it('resolves a page source’s credentials only when every host of the source is in their bindings', () => {
    const env = { QS_SITE_COOKIE: 'SESSIONID=s3cret' };
    expect(resolveCredentials(website('https://cms.qingshan.example/'), env, bindings)).toEqual({ cookie: 'SESSIONID=s3cret' });
    // An extra allowed host outside the binding: the crawl would send the cookie there too.
    const wider = website('https://cms.qingshan.example/', { cookie: 'QS_SITE_COOKIE' }, ['cms.qingshan.example', 'cdn.elsewhere.example']);
    let error: unknown;
    try {
      resolveCredentials(wider, env, bindings);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'secret_host_not_allowed', details: [{ field: 'credentials.cookie', message: expect.stringContaining('cdn.elsewhere.example') }] });
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('at a write, wants a binding for every secret, covering every host the source or channel sends it to', () => {
    const write = (s: PageSource) => () => assertSecretBindings('阵地 site', sourceSentSecrets(s), bindings);
    expect(write(website('https://cms.qingshan.example/'))).not.toThrow();
    expect(write(website('http://127.0.0.1:9999/'))).toThrow(expect.objectContaining({ code: 'secret_host_not_allowed', details: [{ field: 'credentials.cookie', message: expect.stringContaining('not to 127.0.0.1:9999') }] }));
    expect(write(website('https://cms.qingshan.example/', { authorization: 'QS_OTHER' }))).toThrow(expect.objectContaining({ details: [{ field: 'credentials.authorization', message: expect.stringContaining('QS_OTHER has no binding') }] }));
  });

  it('takes each kind’s destination: API hosts for WeChat and Weibo, none for a push token (only compared)', () => {
    const weibo = SourceSchema.parse({ id: 'wb', kind: 'weibo', name: '微博', owner, uid: '7712345678', baseUrl: 'https://m.weibo.example:8443/', cookieEnv: 'QS_WEIBO_COOKIE' });
    expect(sourceSentSecrets(weibo)).toEqual([{ field: 'cookieEnv', name: 'QS_WEIBO_COOKIE', hosts: ['m.weibo.example:8443'] }]);
    const mp = SourceSchema.parse({ id: 'mp', kind: 'wechat-mp', name: '公众号', owner, api: { baseUrl: 'https://api.wx.example', appidEnv: 'QS_WX_APPID', secretEnv: 'QS_WX_SECRET' } });
    expect(sourceSentSecrets(mp).map((s) => [s.field, s.hosts])).toEqual([
      ['api.appidEnv', ['api.wx.example']],
      ['api.secretEnv', ['api.wx.example']],
    ]);
    expect(sourceSentSecrets(SourceSchema.parse({ id: 'hl', kind: 'push', name: '热线', owner, tokenEnv: 'QS_PUSH' }))).toEqual([]);
  });

  it('takes a channel’s destination from its URL, the URL in its env var, or the SMTP server’s host:port', () => {
    const webhook = ChannelSchema.parse({ id: 'hook', name: '接口', type: 'webhook', url: 'http://127.0.0.1:7001/hook', secretEnv: 'QS_HOOK_KEY' });
    expect(channelSentSecrets(webhook, {})).toEqual([{ field: 'secretEnv', name: 'QS_HOOK_KEY', hosts: ['127.0.0.1:7001'] }]);
    const robot = ChannelSchema.parse({ id: 'dd', name: '钉钉', type: 'dingtalk', urlEnv: 'QS_DD_URL', secretEnv: 'QS_DD_SECRET' });
    expect(channelSentSecrets(robot, { QS_DD_URL: 'https://oapi.dingtalk.example/robot/send?access_token=t' }).map((s) => s.hosts)).toEqual([['oapi.dingtalk.example'], ['oapi.dingtalk.example']]);
    // Not known where it goes: only a binding is asked for at a write; the sender checks at use.
    expect(channelSentSecrets(robot, {}).map((s) => s.hosts)).toEqual([[], []]);
    const mail = ChannelSchema.parse({ id: 'mail', name: '邮件', type: 'email', smtp: { host: 'SMTP.Qingshan.example', port: 465, user: 'u', passwordEnv: 'QS_SMTP_PASSWORD', from: 'a@qingshan.example' } });
    expect(channelSentSecrets(mail, {})).toEqual([{ field: 'smtp.passwordEnv', name: 'QS_SMTP_PASSWORD', hosts: ['smtp.qingshan.example:465'] }]);
  });
});

describe('the demo’s secret bindings', () => {
  const demo = ConfigSchema.parse({ demo: { enabled: true, sitePort: 8601 } });
  const robots = { DEMO_DINGTALK_URL: 'http://127.0.0.1:40001/robot/send?access_token=demo-duty-group', DEMO_WECOM_URL: 'http://127.0.0.1:40002/cgi-bin/webhook/send?key=demo-leaders-group' };

  it('bind every secret the demo’s positions and channels name to where they send it, so they stay editable through the API', () => {
    const hosts = secretHostsOf(demo, robots);
    for (const source of loadSources(path.join(configDir, 'demo', 'sources.yaml'), { DEMO_SITE_URL: demoSiteUrl(demo) })) {
      expect(() => assertSecretBindings(source.id, sourceSentSecrets(source), hosts)).not.toThrow();
    }
    for (const channel of loadChannels(path.join(configDir, 'demo', 'channels.yaml'))) {
      expect(() => assertSecretBindings(channel.id, channelSentSecrets(channel, robots), hosts)).not.toThrow();
    }
    expect(hosts.DEMO_WX_SECRET).toEqual(['127.0.0.1:8601']);
    expect(hosts.DEMO_DINGTALK_SECRET).toEqual(['127.0.0.1:40001']);
  });

  it('leave the config file’s bindings in force, and add nothing outside the demo', () => {
    const own = ConfigSchema.parse({ demo: { enabled: true }, secrets: { hosts: { DEMO_WX_SECRET: ['api.wx.example'] } } });
    expect(secretHostsOf(own, robots).DEMO_WX_SECRET).toEqual(['api.wx.example']);
    expect(secretHostsOf(ConfigSchema.parse({ secrets: { hosts: { QS_A: ['a.example'] } } }), robots)).toEqual({ QS_A: ['a.example'] });
  });
});
