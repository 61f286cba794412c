import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../../core/config/config-schema.js';
import { assertSecretEnvNames, secretEnvPrefixes } from '../../../core/config/secret-env-names.js';
import { redactUrl } from '../../../core/notify/channel.js';

describe('secret env var names given through the API', () => {
  it('allows QS_ by default and DEMO_ only while the demo runs', () => {
    expect(secretEnvPrefixes(ConfigSchema.parse({}))).toEqual(['QS_']);
    expect(secretEnvPrefixes(ConfigSchema.parse({ demo: { enabled: true } }))).toEqual(['QS_', 'DEMO_']);
    expect(secretEnvPrefixes(ConfigSchema.parse({ secrets: { envPrefixes: ['CMS_', 'QS_'] } }))).toEqual(['CMS_', 'QS_']);
  });

  it('refuses a name outside the prefixes with 400 naming the field and the rule', () => {
    expect(() => assertSecretEnvNames([{ field: 'tokenEnv', name: 'QS_HOTLINE_TOKEN' }], ['QS_'])).not.toThrow();
    expect(() => assertSecretEnvNames([{ field: 'credentials.authorization', name: 'ES_PASSWORD' }], ['QS_'])).toThrow(
      expect.objectContaining({ httpStatus: 400, code: 'secret_env_not_allowed', message: expect.stringMatching(/credentials\.authorization: ES_PASSWORD.*must start with QS_/) }),
    );
  });
});

describe('redactUrl', () => {
  it.each([
    // a DingTalk robot: the access token is the query
    ['https://oapi.example/robot/send?access_token=abc123', 'https://oapi.example/robot/send?access_token=***'],
    // every query value masked, each key once
    ['https://qyapi.example/cgi-bin/webhook/send?key=k&debug=1&key=j', 'https://qyapi.example/cgi-bin/webhook/send?key=***&debug=***'],
    // userinfo masked, fragment dropped
    ['http://user:pw@127.0.0.1:9/hook#x', 'http://***:***@127.0.0.1:9/hook'],
    // nothing secret to mask
    ['http://127.0.0.1:9/hooks/qianshao', 'http://127.0.0.1:9/hooks/qianshao'],
    // not a URL at all: nothing of it shown
    ['not a url token', '***'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});
