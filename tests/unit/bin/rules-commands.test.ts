import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classifyCommand, rulesCheck } from '../../../bin/rules-commands.js';
import { configDir } from '../../../core/paths.js';

function io(input = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  return { stdio: { stdin: Readable.from([input]), stdout, stderr }, out: () => out.join(''), err: () => err.join('') };
}

const rules = path.join(configDir, 'rules');

describe('qianshao classify', () => {
  it('writes one result per input line, in order, with an error result for each bad line', async () => {
    const input = [
      JSON.stringify({ id: 'a1', title: '青山县', text: '城管暴力执法，电话13812345678' }),
      '{not json',
      '',
      JSON.stringify('中华人民共合国成立'),
      JSON.stringify({ id: 7, content: '房间很干净，服务非常好' }),
      JSON.stringify({ id: 'no-text', title: '只有标题' }),
      JSON.stringify([1, 2]),
    ].join('\n');
    const t = io(input + '\n');
    expect(await classifyCommand(['classify', '--rules', rules], t.stdio)).toBe(0);
    const results = t.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(results.map((r) => [r.line, r.ok])).toEqual([[1, true], [2, false], [3, false], [4, true], [5, true], [6, false], [7, false]]);
    expect(results[0]).toMatchObject({ id: 'a1', terms: ['暴力执法'], level: 2, privacy: [{ kind: 'mobile', masked: '138****5678' }], sentiment: { label: 'negative' } });
    expect(results[1]).toMatchObject({ error: { code: 'invalid_json' } });
    expect(results[3]).toMatchObject({ hits: [{ term: '中华人民共合国', suggestion: '中华人民共和国' }] });
    expect(results[4]).toMatchObject({ id: 7, sentiment: { label: 'positive' } });
    expect(results[5]).toMatchObject({ id: 'no-text', error: { code: 'invalid_post' } });
  });

  it('returns only once every result is handed over, since the caller then exits the process', async () => {
    // A pipe to a slow reader: each write completes later. Results still queued at exit were lost (4990 of 5000).
    let handedOver = 0;
    const stdout = new Writable({
      highWaterMark: 1 << 24,
      write(chunk: Buffer, _enc, done) {
        setTimeout(() => {
          handedOver += chunk.toString().split('\n').length - 1;
          done();
        }, 1);
      },
    });
    const n = 200;
    const stdin = Readable.from([Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, text: '暴力执法' })).join('\n')]);
    expect(await classifyCommand(['classify', '--rules', rules], { stdin, stdout, stderr: new PassThrough() })).toBe(0);
    expect(handedOver).toBe(n);
  });

  it('refuses to run on invalid rules, naming the problem', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-cli-'));
    writeFileSync(path.join(dir, 'bad.yaml'), 'id: bad\nname: x\nversion: 1\nschemes:\n  - { id: s, name: x, level: 2, region: "青山|" }\n');
    const t = io('{"text":"x"}\n');
    expect(await classifyCommand(['classify', '--rules', dir], t.stdio)).toBe(1);
    expect(t.err()).toContain('bad.yaml:5:45: schemes.0.region: scheme "s", 地域词 "青山|": expected a word or "(", found end of expression at position 3');
    expect(t.out()).toBe('');
  });
});

describe('qianshao rules check', () => {
  it('exits 0 and summarises valid packs', () => {
    const t = io();
    expect(rulesCheck(['rules', 'check', rules], t.stdio)).toBe(0);
    expect(t.out()).toMatch(/demo-sensitive@\d+ \([0-9a-f]{16}\)/);
  });

  it('exits 1 with one readable line per problem', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-cli-'));
    writeFileSync(path.join(dir, 'a.yaml'), 'id: a\nname: x\nversion: 1\nterms:\n  - { term: 甲, level: 7 }\n');
    writeFileSync(path.join(dir, 'b.yaml'), 'id: b\nname: [\n');
    const t = io();
    expect(rulesCheck(['rules', 'check', dir], t.stdio)).toBe(1);
    const lines = t.err().trim().split('\n');
    expect(lines[0]).toBe(`2 problems in ${dir}:`);
    expect(lines[1]).toMatch(/^ {2}a\.yaml:5:23: terms\.0\.level: /);
    expect(lines[2]).toMatch(/^ {2}b\.yaml:\d+:\d+: YAML: /);
  });

  it('exits 0 on entries that can never match, warning with file, line and field; classify runs with the rest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-cli-'));
    writeFileSync(path.join(dir, 'a.yaml'), 'id: a\nname: x\nversion: 1\nlevel: 2\nterms:\n  - "***"\n  - 强拆\n');
    const t = io();
    expect(rulesCheck(['rules', 'check', dir], t.stdio)).toBe(0);
    expect(t.err()).toBe(`1 warning in ${dir}:\n  warning: a.yaml:6:5: terms.0.term: term "***" never matches: nothing is left once folded (spaces, zero-width characters and the punctuation the matcher skips)\n`);
    const c = io('{"text":"强拆"}\n');
    expect(await classifyCommand(['classify', '--rules', dir], c.stdio)).toBe(0);
    expect(c.err()).toContain('warning: a.yaml:6:5');
    expect(JSON.parse(c.out())).toMatchObject({ ok: true, terms: ['强拆'] });
  });
});

