import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRulePacks, loadRulePacks, parseRulePack, RulePackError, validateRulePack, type RuleProblem } from '../../../core/rules/rule-pack.js';
import { parseSchemeExpression, SchemeSyntaxError } from '../../../core/rules/scheme-expression.js';
import { configDir } from '../../../core/paths.js';

function problemsOf(yaml: string, file = 'pack.yaml'): string[] {
  try {
    parseRulePack(yaml, file);
  } catch (err) {
    if (err instanceof RulePackError) return err.problems.map((p) => `${p.file}:${p.line ?? '?'} ${p.field} ${p.message}`);
    throw err;
  }
  return [];
}

describe('rule packs', () => {
  it('resolves term defaults from the pack and accepts bare strings', () => {
    const pack = parseRulePack('id: p\nname: 包\nversion: 3\ncategory: 负面\ndomain: 政治\nlevel: 4\nterms:\n  - 不作为\n  - { term: 吃拿卡要, level: 3, domain: 民生经济和社会 }\n', 'p.yaml');
    expect(pack.terms).toEqual([
      { term: '不作为', level: 4, category: '负面', domain: '政治', tags: [] },
      { term: '吃拿卡要', level: 3, category: '负面', domain: '民生经济和社会', tags: [] },
    ]);
    expect(pack.version).toBe(3);
    expect(pack.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives the same content hash to the same content however it is written, and another to other content', () => {
    const a = parseRulePack('id: p\nname: x\nversion: 1\nterms: [{ term: 甲, level: 2 }]\n', 'a.yaml');
    const b = parseRulePack('# comment\nversion: 1\nname: x\nid: p\nterms:\n  - term: 甲\n    level: 2\n', 'b.yaml');
    const c = parseRulePack('id: p\nname: x\nversion: 1\nterms: [{ term: 甲, level: 3 }]\n', 'c.yaml');
    expect(a.hash).toBe(b.hash);
    expect(c.hash).not.toBe(a.hash);
  });

  it.each([
    // [yaml, expected problem (file:line field message fragment)]
    ['id: p\nname: x\nversion: 1\nterms:\n  - { term: 甲, level: 5 }\n', 'pack.yaml:5 terms.0.level'], // level out of range, on its line
    ['id: p\nname: x\nversion: 1\nterms:\n  - { term: 甲 }\n', 'pack.yaml:5 terms.0.level a level (1–4) on the term or on the pack'], // no level anywhere
    ['id: p\nname: x\nversion: 1\ncategory: 禁词\nterms: [甲]\nlevel: 2\n', 'pack.yaml:4 category'], // unknown category
    ['id: p\nname: x\nversion: 1\nlevel: 2\nterms:\n  - { term: 甲, levle: 2 }\n', 'pack.yaml:6 terms.0'], // misspelt key is rejected, not ignored
    ['id: P!\nname: x\nversion: 1\nterms: [{ term: 甲, level: 1 }]\n', 'pack.yaml:1 id'], // bad id
    ['id: p\nname: x\nversion: 1\n', 'pack.yaml:1 terms a pack needs terms, schemes or domains'], // empty pack
    ['id: p\nname: x\nversion: 1\nterms: [甲\n', 'pack.yaml:5  YAML'], // broken YAML names its line
  ])('names file, line and field: %#', (yaml, expected) => {
    expect(problemsOf(yaml).join('\n')).toContain(expected);
  });

  it('reports a scheme syntax error with the scheme, the field and the position, on the field’s line', () => {
    const yaml = 'id: s\nname: x\nversion: 1\nschemes:\n  - id: land\n    name: 征地\n    level: 2\n    region: 青山县|青山\n    event: 强拆|(拆迁+补偿\n';
    const [problem] = problemsOf(yaml, 'schemes.yaml');
    expect(problem).toBe('schemes.yaml:9 schemes.0.event scheme "land", 事件词 "强拆|(拆迁+补偿": missing ")" for the "(" at position 3, found end of expression at position 9');
  });

  it('rejects a scheme without any positive field', () => {
    expect(problemsOf('id: s\nname: x\nversion: 1\nschemes:\n  - { id: a, name: x, level: 2, exclude: 广告 }\n').join()).toContain('schemes.0 a scheme needs at least one of region, subject, person, event');
  });

  it('checks a whole folder, reporting every problem and a duplicate pack id', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-rules-'));
    writeFileSync(path.join(dir, 'a.yaml'), 'id: same\nname: a\nversion: 1\nterms: [{ term: 甲, level: 2 }]\n');
    writeFileSync(path.join(dir, 'b.yaml'), 'id: same\nname: b\nversion: 1\nterms: [{ term: 乙, level: 2 }]\n');
    writeFileSync(path.join(dir, 'c.yml'), 'id: c\nname: c\nversion: 0\nterms: [{ term: 丙, level: 2 }]\n');
    const { packs, problems } = checkRulePacks(dir);
    expect(packs.map((p) => p.id)).toEqual(['same', 'same']);
    expect(problems.map((p) => `${p.file}:${p.field}`)).toEqual(['b.yaml:id', 'c.yml:version']);
    expect(() => loadRulePacks(dir)).toThrow(/b\.yaml: id: rule pack id "same" is also used by a\.yaml\nc\.yml:3:\d+: version/);
  });

  it('validates a pack given as an object (the try-a-rule API)', () => {
    expect(validateRulePack({ id: 'x', name: 'x', version: 1, terms: ['甲'], level: 2 }).terms[0]!.level).toBe(2);
    expect(() => validateRulePack({ id: 'x', name: 'x', version: 1, terms: [{ term: '' }] })).toThrow(/terms\.0/);
  });

  it('loads the shipped demo packs without a problem', () => {
    const { packs, problems } = checkRulePacks(path.join(configDir, 'rules'));
    expect(problems).toEqual([]);
    expect(packs.map((p) => p.id)).toEqual(expect.arrayContaining(['demo-sensitive', 'demo-misstatements', 'demo-negative', 'demo-secrecy', 'demo-schemes', 'domains']));
  });
});

function warningsOf(yaml: string): string[] {
  const warnings: RuleProblem[] = [];
  parseRulePack(yaml, 'pack.yaml', warnings);
  return warnings.map((p) => `${p.file}:${p.line ?? '?'} ${p.field} ${p.message}`);
}

describe('rules that could never match, or match twice', () => {
  const head = 'id: p\nname: 包\nversion: 1\nlevel: 2\n';
  const never = 'never matches: nothing is left once folded';
  it.each([
    // The matcher drops an empty key: `rules check` said ok and the term never matched.
    ['a term of skipped punctuation', 'terms: ["***", 强拆]\n', [`pack.yaml:5 terms.0.term term "***" ${never}`]],
    ['a zero-width term, shown escaped', 'terms: ["\\u200b\\u3000", 强拆]\n', [`pack.yaml:5 terms.0.term term "\\u200b" ${never}`]],
    ['a homophone of punctuation', 'terms:\n  - { term: 强拆, variants: { homophones: ["、、"] } }\n', [`pack.yaml:6 terms.0.variants.homophones.0 homophone "、、" of "强拆" ${never}`]],
    [
      'a scheme word of punctuation',
      'schemes:\n  - { id: s, name: s, level: 2, event: "强拆|？？", exclude: "！" }\n',
      [`pack.yaml:6 schemes.0.event scheme "s", 事件词: word "？？" ${never}`, `pack.yaml:6 schemes.0.exclude scheme "s", 排除词: word "！" ${never}`],
    ],
    // One occurrence gave one hit per copy, each with its own level.
    [
      'the same term twice, however written (spaced, traditional)',
      'terms:\n  - { term: 城管, level: 2 }\n  - { term: 城 管, level: 4 }\n  - 台独\n  - 臺獨\n',
      ['pack.yaml:7 terms.1.term term "城 管" matches the same text as terms.0 "城管"', 'pack.yaml:9 terms.3.term term "臺獨" matches the same text as terms.2 "台独"'],
    ],
  ])('warns of %s, naming line and field, and still loads the pack', (_name, body, expected) => {
    const warnings = warningsOf(head + body);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(warnings[i]).toContain(e));
  });

  it('accepts distinct terms, full-width ones included, without a warning', () => {
    expect(warningsOf(head + 'terms: [城管, 暴力执法, ＡＢＣ, abd]\n')).toEqual([]);
  });

  it('refuses an alert level out of range, saying which levels there are', () => {
    expect(problemsOf(head + 'terms:\n  - { term: 强拆, level: 7 }\n')).toEqual(['pack.yaml:6 terms.0.level a level is 1, 2, 3 or 4 (1 = 一级红 … 4 = 四级蓝), not 7']);
  });

  it('collects the warnings of a folder apart from its problems', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-rules-'));
    writeFileSync(path.join(dir, 'a.yaml'), head + 'terms: ["***", 强拆]\n');
    const { packs, problems, warnings } = checkRulePacks(dir);
    expect([packs.length, problems, warnings.map((w) => [w.file, w.line, w.field])]).toEqual([1, [], [['a.yaml', 5, 'terms.0.term']]]);
  });

  it('refuses a pack file that is not UTF-8 (a GBK file), at the first bad byte, instead of loading garbled terms', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-rules-'));
    writeFileSync(path.join(dir, 'gbk.yaml'), Buffer.concat([Buffer.from('id: g\nname: g\nversion: 1\nlevel: 2\nterms: ['), Buffer.from([0xb1, 0xa9, 0xc1, 0xa6]), Buffer.from(']\n')]));
    writeFileSync(path.join(dir, 'ok.yaml'), 'id: ok\nname: ok\nversion: 1\nlevel: 2\nterms: [强拆]\n');
    const { packs, problems } = checkRulePacks(dir);
    expect(packs.map((p) => p.id)).toEqual(['ok']);
    expect(problems).toEqual([{ file: 'gbk.yaml', line: 5, column: 9, field: '', message: expect.stringMatching(/^not UTF-8 \(invalid byte 0xb1\)/) }]);
  });
});

describe('scheme expressions', () => {
  it('parses | and + with + binding tighter, parentheses, full-width operators and spaced terms', () => {
    expect(parseSchemeExpression('a|b+c')).toEqual({
      type: 'or',
      items: [
        { type: 'term', term: 'a', position: 0 },
        { type: 'and', items: [{ type: 'term', term: 'b', position: 2 }, { type: 'term', term: 'c', position: 4 }] },
      ],
    });
    expect(parseSchemeExpression('（青山｜清河）＋ 强拆 ')).toMatchObject({ type: 'and', items: [{ type: 'or' }, { type: 'term', term: '强拆' }] });
    expect(parseSchemeExpression('Xi Wang')).toEqual({ type: 'term', term: 'Xi Wang', position: 0 });
  });

  it.each([
    // [expression, error]
    ['', 'expected a word or "(", found end of expression at position 0'],
    ['a|', 'expected a word or "(", found end of expression at position 2'],
    ['a||b', 'expected a word or "(", found "|" at position 2'],
    ['+a', 'expected a word or "(", found "+" at position 0'],
    ['(a|b', 'missing ")" for the "(" at position 0, found end of expression at position 4'],
    ['a)b', 'unmatched ")" at position 1'],
    ['()', 'expected a word or "(", found ")" at position 1'],
    ['a(b)', 'expected "|" or "+", found "(" at position 1'],
  ])('rejects %j: %s', (source, message) => {
    expect(() => parseSchemeExpression(source)).toThrow(SchemeSyntaxError);
    expect(() => parseSchemeExpression(source)).toThrow(message);
  });
});
