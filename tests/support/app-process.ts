import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface AppProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the real composition root (`bin/qianshao.ts` through tsx) as a child process. */
export function runQianshao(args: string[], env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin/qianshao.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until the process prints `marker`, or fails with what it printed. */
export async function waitForOutput(app: AppProcess, marker: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.output().includes(marker)) return;
    if (app.child.exitCode !== null) throw new Error(`qianshao exited (${app.child.exitCode}) before "${marker}":\n${app.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`qianshao did not print "${marker}" within ${timeoutMs} ms:\n${app.output()}`);
}

/** The api role with the demo's accounts and positions, serving on `base`. */
/** The audit checkpoint key the demo API runs with (the server key other keys derive from). */
export const DEMO_AUDIT_KEY = 'k'.repeat(40);

export interface DemoApi {
  app: AppProcess;
  /** `http://127.0.0.1:<port>`, the port free when it started. */
  base: string;
}

/**
 * Starts `qianshao api --demo` on a free port against the test's Redis key prefix and index prefix
 * (and an audit checkpoint key), and resolves once it serves the dashboard; `extraEnv` adds to or
 * overrides that environment. A start that fails stops the process before it throws.
 */
export async function startDemoApi(
  iso: { redisUrl: string; redisPrefix: string; esUrl: string; indexPrefix: string },
  extraEnv: Record<string, string> = {},
): Promise<DemoApi> {
  const port = await freePort();
  const app = runQianshao(['api', '--demo'], {
    API_PORT: String(port),
    REDIS_URL: iso.redisUrl,
    REDIS_PREFIX: iso.redisPrefix,
    ES_URL: iso.esUrl,
    ES_INDEX_PREFIX: iso.indexPrefix,
    AUDIT_CHECKPOINT_KEY: DEMO_AUDIT_KEY,
    ...extraEnv,
  });
  try {
    await waitForOutput(app, 'Dashboard:');
  } catch (err) {
    await app.stop();
    throw err;
  }
  return { app, base: `http://127.0.0.1:${port}` };
}
