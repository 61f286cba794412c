import { describe, expect, it } from 'vitest';
import { RulePackError } from '../../../core/rules/rule-pack.js';
import { tryRulePack } from '../../../core/rules/try-rule-pack.js';
import { SentimentAnalyzer } from '../../../core/sentiment/analyze-sentiment.js';

const deps = { sentiment: new SentimentAnalyzer() };

describe('tryRulePack', () => {
  it('runs an unsaved YAML pack on samples: caught by a term, by a scheme, or not at all', () => {
    const yaml = 'id: t\nname: t\nversion: 1\nlevel: 3\nterms: [乱收费]\nschemes:\n  - { id: s, name: s, level: 2, subject: 学校, event: 收费 }\n';
    const { pack, results } = tryRulePack(yaml, [{ text: '停车场乱收费' }, { title: '学校', text: '又要收费' }, { text: '手机13812345678' }], deps);
    expect(pack).toMatchObject({ id: 't', version: 1, terms: 1, schemes: 1 });
    expect(results.map((r) => r.caught)).toEqual([true, true, false]); // personal data is not the pack's catch
    expect(results[1]!.classification.schemes[0]).toMatchObject({ schemeId: 's', fired: true });
  });

  it('throws a RulePackError naming the line of a bad field', () => {
    expect(() => tryRulePack('id: t\nname: t\nversion: x\nterms: [a]\nlevel: 1\n', [{ text: '' }], deps)).toThrow(RulePackError);
    expect(() => tryRulePack('id: t\nname: t\nversion: x\nterms: [a]\nlevel: 1\n', [{ text: '' }], deps)).toThrow(/pack\.yaml:3:10: version/);
  });
});
