import { describe, expect, it } from 'vitest';
import { parseRulePack, RulePackError, setPackVersion, type RuleProblem } from '../../../core/rules/rule-pack.js';
import { validatePackYaml } from '../../../core/rules/rule-pack-versions.js';

function problemsOf(yaml: string): RuleProblem[] {
  const v = validatePackYaml(yaml);
  if (v.ok) throw new Error('expected problems');
  return v.problems;
}

const HEAD = 'id: p\nname: 包\nversion: 1\n';

describe('where a rule pack problem is', () => {
  it.each([
    // A level out of range points at the value on its line.
    ['a bad term level', `${HEAD}terms:\n  - { term: 强拆, level: 9 }\n`, { line: 5, column: 24, field: 'terms.0.level' }],
    // A term missing its level (and none on the pack) points at the term.
    ['a missing level', `${HEAD}terms:\n  - 强拆\n`, { line: 5, column: 5, field: 'terms.0.level' }],
    // An unknown key points at the key itself.
    ['an unknown key', `${HEAD}level: 2\nterms:\n  - term: 强拆\n    levle: 3\n`, { line: 7, column: 5, field: 'terms.0.levle' }],
    // An unknown category in block style.
    ['a bad category', `${HEAD}level: 2\nterms:\n  - term: 强拆\n    category: 其他\n`, { line: 7, column: 15, field: 'terms.0.category' }],
    // Broken YAML: the parser's own position.
    ['broken YAML', `${HEAD}terms: [强拆\n`, { line: 5, field: '' }],
  ])('%s', (_what, yaml, expected) => {
    expect(problemsOf(yaml)[0]).toMatchObject(expected);
  });

  it('a scheme syntax error names the rule, the field, the position in the expression, and the character in the YAML', () => {
    const yaml = `${HEAD}schemes:\n  - id: land\n    name: 征地\n    level: 2\n    region: 青山县|(东关村\n    event: 强拆\n`;
    const [p] = problemsOf(yaml);
    expect(p).toMatchObject({ field: 'schemes.0.region', scheme: { id: 'land', field: 'region', position: 8 }, line: 8 });
    // Column of the end of `青山县|(东关村` on line 8 ("    region: " is 12 characters).
    expect(p!.column).toBe(13 + 8);
    expect(p!.message).toContain('scheme "land"');
  });

  it('a quoted expression is located inside its quotes', () => {
    const yaml = `${HEAD}schemes:\n  - { id: s, name: s, level: 2, event: "强拆++补偿" }\n`;
    const [p] = problemsOf(yaml);
    expect(p).toMatchObject({ line: 5, scheme: { id: 's', field: 'event', position: 3 } });
    const line = yaml.split('\n')[4]!;
    expect(line[p!.column! - 1]).toBe('+');
  });

  it('every problem is reported, not just the first', () => {
    const problems = problemsOf(`${HEAD}terms:\n  - { term: 甲, level: 7 }\n  - { term: 乙, level: 0 }\n`);
    expect(problems.map((p) => p.line)).toEqual([5, 6]);
  });

  it('setPackVersion changes only the version, keeping comments and layout', () => {
    const yaml = '# 说明\nid: p\nname: 包\nversion: 3   # bumped on save\nterms: [{ term: 甲, level: 2 }]\n';
    const next = setPackVersion(yaml, 4);
    expect(next).toBe(yaml.replace('version: 3', 'version: 4'));
    expect(parseRulePack(next, 'p.yaml').version).toBe(4);
    expect(() => setPackVersion('id: p\n', 2)).toThrow(/version/);
    expect(() => parseRulePack('id: p\n', 'p.yaml')).toThrow(RulePackError);
  });
});
