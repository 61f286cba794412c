import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RulesRegistry } from '../../../core/rules/rules-registry.js';
import { RulePackError } from '../../../core/rules/rule-pack.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qs-registry-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const pack = (term: string, version = 1) => `id: p\nname: p\nversion: ${version}\nterms: [{ term: ${term}, level: 2 }]\n`;
const log = () => ({ info: vi.fn(), warn: vi.fn() });

describe('RulesRegistry', () => {
  it('refuses to start on an invalid folder', () => {
    expect(() => RulesRegistry.load(folder({ 'p.yaml': 'id: p\n' }), { log: log() })).toThrow(RulePackError);
  });

  it('swaps in the new rules on reload; a post classified before keeps the old rules', () => {
    const dir = folder({ 'p.yaml': pack('强拆') });
    const registry = RulesRegistry.load(dir, { log: log() });
    const before = registry.current();
    writeFileSync(path.join(dir, 'p.yaml'), pack('上访', 2));
    expect(registry.reload()).toMatchObject({ outcome: 'swapped' });
    expect(registry.current().classify({ text: '强拆 上访' }).terms).toEqual(['上访']);
    expect(before.classify({ text: '强拆 上访' }).terms).toEqual(['强拆']);
    expect(registry.reload()).toMatchObject({ outcome: 'unchanged' });
  });

  it('keeps the rules in force when the folder becomes invalid, and logs why', () => {
    const dir = folder({ 'p.yaml': pack('强拆') });
    const l = log();
    const registry = RulesRegistry.load(dir, { log: l });
    const version = registry.current().ruleSet.version;
    writeFileSync(path.join(dir, 'p.yaml'), pack('强拆').replace('level: 2', 'level: 9'));
    const outcome = registry.reload();
    expect(outcome).toMatchObject({ outcome: 'kept-old', version });
    expect(registry.current().classify({ text: '强拆' }).terms).toEqual(['强拆']);
    expect(l.warn).toHaveBeenCalledWith(expect.objectContaining({ problems: [expect.stringContaining('p.yaml:4:28: terms.0.level')] }), expect.stringContaining('keeping the rules in force'));
  });

  it('reloads by itself when a file in the watched folder changes', async () => {
    const dir = folder({ 'p.yaml': pack('强拆') });
    const registry = RulesRegistry.load(dir, { log: log() });
    const swaps: string[] = [];
    registry.onSwap((c) => swaps.push(c.ruleSet.version));
    registry.watch(50);
    try {
      writeFileSync(path.join(dir, 'q.yaml'), 'id: q\nname: q\nversion: 1\nterms: [{ term: 上访, level: 3 }]\n');
      await vi.waitFor(() => expect(registry.current().classify({ text: '上访' }).terms).toEqual(['上访']), { timeout: 5000 });
      expect(swaps).toHaveLength(1);
    } finally {
      registry.close();
    }
  });
});
