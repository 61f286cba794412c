import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRedis } from '../../scripts/redis-service.js';
import { freePort } from '../support/app-process.js';

describe('ensureRedis', () => {
  const dataRoot = mkdtempSync(path.join(tmpdir(), 'qs-redis-'));
  let started: Redis | undefined;

  afterAll(async () => {
    await started?.shutdown('NOSAVE').catch(() => undefined);
    started?.disconnect();
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('uses a Redis that answers as it is', async () => {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    expect(await ensureRedis(url, dataRoot)).toBe(url);
  });

  it('starts Debian\'s redis-server where none answers, with AOF on and noeviction', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    expect(await ensureRedis(url, dataRoot)).toBe(url);
    started = new Redis(url, { retryStrategy: () => null });
    started.on('error', () => undefined);
    expect(await started.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await started.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await started.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
  });

  it('refuses to start anything in place of a remote Redis', async () => {
    await expect(ensureRedis('redis://192.0.2.1:6379', dataRoot)).rejects.toThrow('is not local');
  });
});
