import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../core/paths.js';

const rules = path.join(repoRoot, 'config', 'rules');

/** `qianshao <args>` as a real process with unreachable services in env. */
function start(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin/qianshao.ts'), ...args], {
    cwd: repoRoot,
    // The pure commands must not need them: any attempt would fail or hang.
    env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', ES_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `qianshao <args>` with `input` on stdin. */
function run(args: string[], input: string | Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args);
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

  it('answers every input line with its own line number, whatever the line holds, and never lets a line go or split', async () => {
    const gbk = Buffer.from([...Buffer.from('{"id":"gbk","text":"'), 0xb1, 0xa9, 0xc1, 0xa6, 0xd6, 0xb4, 0xb7, 0xa8, ...Buffer.from('"}')]); // 暴力执法 in GBK
    const input = Buffer.concat([
      Buffer.from('\uFEFF{"id":1,"text":"暴力执法"}\r\n'),
      gbk,
      Buffer.from('\n{"id":3,"text":"a",\r"title":"b"}\n'), // a bare CR is JSON whitespace, not a line end
      Buffer.from('\n'),
      Buffer.from('{"id":5,"text":"\xff"}\n', 'latin1'),
      Buffer.from('[5]\n{"id":7,"text":"𝐛𝐚𝐨𝐥𝐢𝐳𝐡𝐢𝐟𝐚"}'), // no LF at the end
    ]);
    const { code, stdout, stderr } = await run(['classify', '--rules', rules], input);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l) as { line: number; id?: number | string; ok: boolean; terms?: string[]; error?: { code: string } });
    expect(lines.map((l) => [l.line, l.id, l.ok, l.ok ? l.terms : l.error!.code])).toEqual([
      [1, 1, true, ['暴力执法']],
      [2, 'gbk', false, 'invalid_encoding'],
      [3, 3, true, []],
      [4, undefined, false, 'invalid_post'],
      [5, 5, false, 'invalid_encoding'],
      [6, undefined, false, 'invalid_post'],
      [7, 7, true, ['暴力执法']],
    ]);
  });

  it('stops quietly when the reader of its results goes away (| head)', async () => {
    const child = start(['classify', '--rules', rules]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(Array.from({ length: 20000 }, (_, i) => JSON.stringify({ id: i, text: '暴力执法' })).join('\n'));
    await once(child.stdout, 'data');
    child.stdout.destroy();
    const [code] = (await once(child, 'close')) as [number];
    expect(stderr).toBe('');
    expect(code).toBe(1);
  });

  it.each([
    [['classify', '--rule', 'config/rules'], 'unknown argument "--rule"'],
    [['classify', '--rules'], '--rules needs a folder'],
    [['classify', 'config/rules'], 'unknown argument "config/rules"'],
    [['rules', 'check', 'config/rules', 'other'], 'give the rules folder once'],
  ])('refuses %j instead of falling back to the default rules', async (args, message) => {
    const { code, stdout, stderr } = await run(args, '{"text":"暴力执法"}\n');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`qianshao: ${message}${message.startsWith('unknown') ? `; usage: qianshao ${args[0] === 'rules' ? 'rules check [<dir>]' : 'classify [--rules <dir>]'}` : ''}\n`);
  });
});
