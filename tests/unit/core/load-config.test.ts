import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../core/config/load-config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'qs-config-'));
function yamlFile(text: string): string {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('gives working defaults when there is no file and no env', () => {
    const config = loadConfig({}, path.join(dir, 'missing.yaml'));
    expect(config.api.port).toBe(8600);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.elasticsearch.indexPrefix).toBe('qianshao');
    expect(config.demo.enabled).toBe(false);
  });

  it('lets env override YAML, which overrides defaults', () => {
    const file = yamlFile('api:\n  port: 9000\nredis:\n  prefix: fromyaml\n');
    const config = loadConfig({ API_PORT: '9100' }, file);
    expect(config.api.port).toBe(9100);
    expect(config.redis.prefix).toBe('fromyaml');
  });

  it.each([
    // [env value of DEMO, parsed]
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads DEMO=%s as %s', (value, expected) => {
    expect(loadConfig({ DEMO: value }, path.join(dir, 'missing.yaml')).demo.enabled).toBe(expected);
  });

  it.each([
    // [env, message fragment]
    [{ API_PORT: 'abc' }, 'api.port (from env API_PORT)'],
    [{ API_PORT: '70000' }, 'api.port (from env API_PORT)'],
    [{ REDIS_URL: 'nope' }, 'redis.url (from env REDIS_URL)'],
    [{ ES_INDEX_PREFIX: 'Upper Case' }, 'elasticsearch.indexPrefix (from env ES_INDEX_PREFIX)'],
    [{ LOG_LEVEL: 'loud' }, 'log.level (from env LOG_LEVEL)'],
    [{ DEMO: 'maybe' }, 'demo.enabled (from env DEMO)'],
  ])('rejects %o naming the field and where it came from', (env, fragment) => {
    expect(() => loadConfig(env, path.join(dir, 'missing.yaml'))).toThrow(ConfigError);
    expect(() => loadConfig(env, path.join(dir, 'missing.yaml'))).toThrow(fragment);
  });

  it('names the YAML file and line of a syntax error', () => {
    const file = yamlFile('api:\n  port: [1, 2\n');
    expect(() => loadConfig({}, file)).toThrow(new RegExp(`${path.basename(file)}:\\d+`));
  });

  it('names the YAML file for a bad value that came from it', () => {
    const file = yamlFile('crawl:\n  everySeconds: 1\n');
    expect(() => loadConfig({}, file)).toThrow(`crawl.everySeconds (from ${path.basename(file)})`);
  });
});
