import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../core/paths.js';

/** Runs `qianshao <args>` as a real process with `input` on stdin and unreachable services in env. */
function run(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin/qianshao.ts'), ...args], {
    cwd: repoRoot,
    // The pure commands must not need them: any attempt would fail or hang.
    env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', ES_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('the pure sub-commands as processes, with no service reachable', () => {
  it('qianshao classify --rules <dir> answers each line of stdin on stdout and exits 0', async () => {
    const input = [JSON.stringify({ id: 1, text: '城管暴力执法，身份证号35010219900307123X' }), 'oops', JSON.stringify({ id: 3, text: '服务很好' })].join('\n') + '\n';
    const { code, stdout, stderr } = await run(['classify', '--rules', path.join(repoRoot, 'config', 'rules')], input);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { line: number; ok: boolean; terms?: string[] });
    expect(lines.map((l) => [l.line, l.ok])).toEqual([[1, true], [2, false], [3, true]]);
    expect(lines[0]!.terms).toEqual(['暴力执法']);
  });

  it('qianshao rules check <dir> exits 1 naming file, line and field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-check-'));
    writeFileSync(path.join(dir, 'x.yaml'), 'id: x\nname: x\nversion: 1\nschemes:\n  - { id: s, name: s, level: 2, event: "(强拆" }\n');
    const { code, stderr } = await run(['rules', 'check', dir], '');
    expect(code).toBe(1);
    expect(stderr).toContain('x.yaml:5:44: schemes.0.event: scheme "s", 事件词 "(强拆": missing ")"');
  });
});
