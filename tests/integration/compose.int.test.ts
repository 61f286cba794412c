import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const composeFile = path.join(repoRoot, 'docker-compose.yml');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  volumes?: unknown[];
}

/** Debian's docker-compose 1.29 validates against the Compose Specification without an engine. */
function composeConfig(envFile: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('docker-compose', ['--env-file', envFile, '-f', composeFile, 'config'], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('docker-compose.yml', () => {
  it('is valid Compose with the committed .env.example (docker-compose config -q)', () => {
    execFileSync('docker-compose', ['--env-file', path.join(repoRoot, '.env.example'), '-f', composeFile, 'config', '-q'], { cwd: repoRoot });
  });

  it('runs Elasticsearch 8 with security on, Redis with AOF and noeviction, every app role, each with a health check or dependency on healthy services', () => {
    const { code, stdout, stderr } = composeConfig(path.join(repoRoot, '.env.example'));
    expect(code, stderr).toBe(0);
    const services = (parse(stdout) as { services: Record<string, ComposeService> }).services;
    expect(services.elasticsearch?.image).toMatch(/elasticsearch:8\./);
    expect(services.elasticsearch?.environment?.['xpack.security.enabled']).toBe('true');
    expect(services.elasticsearch?.environment?.ELASTIC_PASSWORD).toBe('change-me-elastic');
    expect(services.redis?.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--requirepass']));
    for (const role of ['api', 'worker', 'crawler']) {
      expect(services[role]?.command).toEqual([role]);
      expect(services[role]?.environment?.ES_PASSWORD).toBe('change-me-elastic');
      expect(services[role]?.environment?.REDIS_URL).toContain('change-me-redis@redis:6379');
    }
    for (const name of ['elasticsearch', 'redis', 'api']) expect(services[name]?.healthcheck?.test.length).toBeGreaterThan(0);
    expect(services.elasticsearch?.volumes?.length).toBeGreaterThan(0);
    expect(services.redis?.volumes?.length).toBeGreaterThan(0);
  });

  it('refuses to start without passwords, saying which one to set', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-compose-'));
    const empty = path.join(dir, 'empty.env');
    copyFileSync('/dev/null', empty);
    const { code, stderr } = composeConfig(empty);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/set (ELASTIC|REDIS)_PASSWORD in \.env/);
  });
});
