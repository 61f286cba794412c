import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configDir } from '../../../core/paths.js';
import { createPostClassifier } from '../../../core/classify/classify-post.js';
import { loadRulePacks, validateRulePack, type RulePackInput } from '../../../core/rules/rule-pack.js';
import { compileRuleSet } from '../../../core/rules/rule-set.js';
import { variantsOf } from '../../../core/rules/term-variants.js';
import { SentimentAnalyzer } from '../../../core/sentiment/analyze-sentiment.js';

const sentiment = new SentimentAnalyzer();
const classifierOf = (...packs: RulePackInput[]) => createPostClassifier(compileRuleSet(packs.map((p) => validateRulePack(p))), { sentiment });

const lexicon: RulePackInput = {
  id: 'lex',
  name: '词库',
  version: 4,
  category: '敏感词',
  domain: '民生经济和社会',
  terms: [
    { term: '暴力执法', level: 2, tags: ['执法'], variants: { pinyin: true, homophones: ['报力执法'] } },
    { term: '中华人民共合国', level: 2, category: '错敏词', domain: '政治', suggestion: '中华人民共和国' },
  ],
};

const scheme = (fields: Record<string, unknown>): RulePackInput => ({
  id: 'schemes',
  name: '方案',
  version: 1,
  schemes: [{ id: 's', name: '测试方案', level: 1, ...fields }],
});

describe('lexicon hits', () => {
  it('reports each hit with its offsets in the original text, pack version, domain, tags and suggestion', () => {
    const c = classifierOf(lexicon).classify({ title: '关于中華人民共合國', text: '城管 暴 力 执 法' });
    expect(c.hits).toEqual([
      expect.objectContaining({ term: '中华人民共合国', matched: '中華人民共合國', field: 'title', start: 2, end: 9, suggestion: '中华人民共和国', category: '错敏词', domain: '政治', packVersion: 4 }),
      expect.objectContaining({ term: '暴力执法', matched: '暴 力 执 法', field: 'text', start: 3, end: 10, tags: ['执法'], level: 2 }),
    ]);
    expect(c.level).toBe(2);
    expect(c.levelReason).toEqual({ kind: 'term', ref: '中华人民共合国', packId: 'lex' });
  });

  it('matches opt-in pinyin and homophone variants and says which variant matched', () => {
    const c = classifierOf(lexicon).classify({ text: '有人BaoLi ZhiFa，也有人写报力执法，还有暴力zhifa' });
    expect(c.hits.map((h) => [h.term, h.matched, h.variant])).toEqual([
      ['暴力执法', 'BaoLi ZhiFa', 'pinyin'],
      ['暴力执法', '报力执法', 'homophone'],
      ['暴力执法', '暴力zhifa', 'pinyin'],
    ]);
  });

  it('generates whole and mixed pinyin only for terms that opt in', () => {
    const term = { term: '跳楼', level: 1 as const, category: '敏感词' as const, domain: 'x', tags: [] };
    expect(variantsOf(term)).toEqual([]);
    expect(variantsOf({ ...term, variants: { pinyin: true, homophones: [] } }).map((v) => v.pattern)).toEqual(['tiaolou', 'tiao楼', '跳lou']);
  });
});

describe('monitoring schemes', () => {
  it.each([
    // [scheme fields, text, outcome]
    [{ region: '青山|清河', event: '强拆' }, '青山县昨天有强拆', 'fired'], // region AND event
    [{ region: '青山|清河', event: '强拆' }, '清河镇强拆', 'fired'], // the other region word
    [{ region: '青山|清河', event: '强拆' }, '外地强拆', 'incomplete'], // no region word
    [{ region: '青山', event: '(拆迁+补偿)|强拆' }, '青山的拆迁款和补偿', 'fired'], // parenthesised and
    [{ region: '青山', event: '(拆迁+补偿)|强拆' }, '青山的拆迁', 'incomplete'], // half of the and
    [{ region: '青山', event: '强拆', exclude: '招聘|广告' }, '青山强拆队招聘', 'excluded'], // exclusion fires
    [{ subject: '城管', event: '打人', proximity: 10 }, '城管打人了', 'fired'], // near
    [{ subject: '城管', event: '打人', proximity: 10 }, '城管今天来了，我们一直在说其他的事情，后来听说有人打人', 'not-near'], // too far apart
    [{ subject: '城管', event: '打人', proximity: 10 }, '城管今天来了，我们一直在说其他的事情，后来城管打人', 'fired'], // a later pair is near
  ])('%j on %s → %s', (fields, text, outcome) => {
    const [result] = classifierOf(scheme(fields)).classify({ text }).schemes;
    expect(result?.outcome).toBe(outcome);
    expect(result?.fired).toBe(outcome === 'fired');
  });

  it('explains a fired scheme: groups with the words that satisfied them, and the exclusion checked', () => {
    const c = classifierOf(scheme({ region: '青山', subject: '城管', event: '强拆|打人', exclude: '演练' })).classify({ title: '青山', text: '城管强拆' });
    expect(c.schemes).toEqual([
      expect.objectContaining({
        schemeId: 's',
        outcome: 'fired',
        groups: [
          { field: 'region', name: '地域词', expression: '青山', satisfied: true, words: [{ term: '青山', field: 'title', start: 0, end: 2 }] },
          { field: 'subject', name: '主体词', expression: '城管', satisfied: true, words: [{ term: '城管', field: 'text', start: 0, end: 2 }] },
          { field: 'event', name: '事件词', expression: '强拆|打人', satisfied: true, words: [{ term: '强拆', field: 'text', start: 2, end: 4 }] },
        ],
        exclusion: { expression: '演练', fired: false, words: [] },
      }),
    ]);
    expect(c.level).toBe(1);
    expect(c.levelReason).toEqual({ kind: 'scheme', ref: 's', packId: 'schemes' });
  });

  it('shares one automaton with the lexicon: a word in both is a hit and a scheme word', () => {
    const c = classifierOf(lexicon, scheme({ subject: '城管', event: '暴力执法' })).classify({ text: '城管暴力执法' });
    expect(c.hits.map((h) => h.term)).toEqual(['暴力执法']);
    expect(c.schemes[0]?.fired).toBe(true);
  });

  it('handles schemes with more than 32 words (multi-word bitsets)', () => {
    const towns = Array.from({ length: 40 }, (_, i) => `第${i}镇`).join('|');
    const c = classifierOf(scheme({ region: towns, event: '强拆' })).classify({ text: '第39镇强拆' });
    expect(c.schemes[0]?.outcome).toBe('fired');
  });

  it('lists no scheme none of whose words occur', () => {
    expect(classifierOf(scheme({ region: '青山', event: '强拆' })).classify({ text: '今天天气很好' }).schemes).toEqual([]);
  });
});

describe('the whole classification', () => {
  it('combines privacy findings, sentiment and domain, and takes the highest level over all of them', () => {
    const c = classifierOf(lexicon).classify({ text: '城管暴力执法，太气愤了！我的电话13812345678' });
    expect(c.privacy).toEqual([expect.objectContaining({ kind: 'mobile', field: 'text', masked: '138****5678', level: 3 })]);
    expect(c.sentiment.label).toBe('negative');
    expect(c.domain.label).toBe('民生经济和社会');
    expect(c.level).toBe(2);
    expect(c.rulesVersion).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a post with only personal data gets the privacy level', () => {
    const c = classifierOf(lexicon).classify({ text: '张三的手机是13812345678' });
    expect(c.hits).toEqual([]);
    expect(c.level).toBe(3);
    expect(c.levelReason).toEqual({ kind: 'privacy', ref: 'mobile' });
  });

  it('classifies domains from built-in keywords and a pack’s own domain', () => {
    const own: RulePackInput = { id: 'd', name: '领域', version: 1, domains: { 生态环境: ['排污', '黑臭水体'] } };
    const classifier = classifierOf(own);
    expect(classifier.classify({ text: '工厂夜里偷偷排污，河道成了黑臭水体' }).domain.label).toBe('生态环境');
    expect(classifier.classify({ text: '学校食堂的学生午餐' }).domain.label).toBe('文化教育');
    expect(classifier.classify({ text: '寺庙的宗教活动' }).domain.label).toBe('民族宗教');
    expect(classifier.classify({ text: '今天天气不错' }).domain.label).toBeNull();
  });
});

describe('the shipped demo packs on the demo county’s posts', () => {
  const demo = createPostClassifier(compileRuleSet(loadRulePacks(path.join(configDir, 'rules'))), { sentiment });
  it.each([
    // [text, scheme expected to fire, lexicon terms]
    ['我家房屋去年被列入征收范围，拆迁补偿至今未到位，多次到镇政府询问没有答复。村里不少人说要集体上访，希望领导重视。', 'land-and-demolition', ['拆迁补偿', '没有答复', '集体上访']],
    ['听说昨天镇上城管去强拆，还有暴力执法，把人推倒了，有视频。', 'law-enforcement-conflict', ['暴力执法']],
    ['恳请县里彻查实验小学食堂，已有多名学生疑似食物中毒，家长们准备集体上访。', 'school-food-safety', ['食物中毒', '集体上访']],
    ['听说食堂承包商是某领导亲戚，这次食物中毒要追责到底。', 'leadership-complaints', ['食物中毒']],
  ])('%s', (text, scheme, terms) => {
    const c = demo.classify({ text });
    expect(c.schemes.filter((s) => s.fired).map((s) => s.schemeId)).toContain(scheme);
    expect(c.terms).toEqual(terms);
  });

  it('does not fire the food-safety scheme on a drill', () => {
    const c = demo.classify({ text: '实验小学开展食物中毒应急演练，学生有序疏散' });
    expect(c.schemes.find((s) => s.schemeId === 'school-food-safety')).toMatchObject({ outcome: 'excluded', exclusion: { fired: true } });
  });
});
