import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, runQianshao } from '../support/app-process.js';

async function runToExit(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const app = runQianshao(args, env);
  const code = await app.exited;
  return { code, output: app.output().trim() };
}

describe('bad configuration or missing services: one clear line and a non-zero exit', () => {
  it.each([
    // [case, args, env, expected text]
    ['a non-numeric API port names the field and the env var', ['api', '--demo'], { API_PORT: 'abc' }, /api\.port \(from env API_PORT\)/],
    ['an invalid Redis URL names the field', ['api', '--demo'], { REDIS_URL: 'not a url' }, /redis\.url \(from env REDIS_URL\)/],
    ['an unreachable Redis says how to fix it', ['worker', '--demo'], { REDIS_URL: 'redis://127.0.0.1:1' }, /Redis at redis:\/\/127\.0\.0\.1:1 is unreachable.*REDIS_URL/],
    ['an unreachable Elasticsearch says how to fix it', ['worker', '--demo'], { ES_URL: 'http://127.0.0.1:1' }, /Elasticsearch at http:\/\/127\.0\.0\.1:1 is unreachable.*ES_URL/],
    ['an unknown role lists the roles', ['scheduler'], {}, /unknown role "scheduler"/],
  ])('%s', async (_case, args, env, expected) => {
    const { code, output } = await runToExit(args as string[], env as Record<string, string>);
    expect(code).toBe(1);
    expect(output).toMatch(expected as RegExp);
    // An unknown role is followed by the usage text; every other failure is one line.
    if (expected.source.includes('unknown role')) expect(output).toContain('usage: qianshao');
    else expect(output.split('\n')).toHaveLength(1);
  });

  it('a port in use stops the start before any role runs', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const { code, output } = await runToExit(['api', '--demo'], { API_PORT: String(port) });
      expect(code).toBe(1);
      expect(output).toContain(`port 127.0.0.1:${port} is already in use`);
      expect(output).toContain('API_PORT');
    } finally {
      blocker.close();
    }
  });
});
