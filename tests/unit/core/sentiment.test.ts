import { describe, expect, it } from 'vitest';
import { SentimentAnalyzer } from '../../../core/sentiment/analyze-sentiment.js';
import { forEachFeature } from '../../../core/sentiment/features.js';
import { loadShippedModel, NaiveBayesSentiment } from '../../../core/sentiment/naive-bayes.js';

const analyzer = new SentimentAnalyzer();

describe('sentiment', () => {
  it.each([
    // [text, lexicon sign]
    ['服务很好', 1], // degree + positive
    ['服务不好', -1], // negation flips
    ['一点也不满意', -1], // longest cue: 满意 negated
    ['环境不差', 1], // negated negative is faintly positive
    ['态度差', -1],
    ['[怒][怒]', -1], // emoticons alone
    ['哈哈[哈哈]', 1],
    ['不，好', 1], // negation does not reach across a comma
    ['今天是星期三', 0], // no evidence
  ])('lexicon: %s → %i', (text, sign) => {
    expect(Math.sign(analyzer.lexicon(text).sum)).toBe(sign);
  });

  it('weighs the clause after a contrast word more', () => {
    const before = analyzer.lexicon('房间干净，服务差').sum;
    const after = analyzer.lexicon('房间干净，但是服务差').sum;
    expect(after).toBeLessThan(before);
  });

  it('lists its evidence with offsets', () => {
    const s = analyzer.analyze('位置方便，但是前台态度非常差[怒]');
    const text = '位置方便，但是前台态度非常差[怒]';
    expect(s.label).toBe('negative');
    for (const e of s.evidence) expect(text.slice(e.start, e.end)).toBe(e.term);
    expect(s.evidence.map((e) => e.term)).toEqual(expect.arrayContaining(['[怒]', '方便']));
  });

  it('labels clear cases with the shipped Naive Bayes model and the combination', () => {
    for (const method of ['naive-bayes', 'combined'] as const) {
      expect(analyzer.analyze('质量很好，物流也快，非常满意，还会再来', method).label).toBe('positive');
      expect(analyzer.analyze('太失望了，东西是坏的，客服也不理人，垃圾', method).label).toBe('negative');
    }
    expect(analyzer.analyze('今天是星期三', 'lexicon').label).toBe('neutral');
  });

  // The Naive Bayes model learnt from product reviews; incidents that harm people must still read as negative.
  it.each([
    '学校食堂疑似食物中毒，多名学生送医。',
    '听说实验小学食堂前天有学生食物中毒，好几个孩子去医院了',
    '青山路一小区发生火灾，一人受伤被送往医院抢救',
    '工地老板跑路了，几十个工人讨薪无门',
  ])('an incident post is negative: %s', (text) => {
    expect(analyzer.analyze(text).label).toBe('negative');
  });

  it('ships a compact model trained in the repository', () => {
    const model = loadShippedModel();
    expect(model.vocabularySize).toBeGreaterThan(10_000);
    expect(model.vocabularySize).toBeLessThanOrEqual(40_000);
  });

  it('scores with a hand-made model as multinomial NB over distinct features', () => {
    const nb = new NaiveBayesSentiment({ format: 'qianshao-nb-1', trainedOn: 'test', alpha: 1, priorLogOdds: 0.5, weights: { 好: 1, 差: -2, '[怒]': -3 } });
    expect(nb.logOdds('好好好')).toBe(1.5); // presence counts once
    expect(nb.logOdds('好差[怒]')).toBe(0.5 + 1 - 2 - 3);
  });

  it('extracts unigrams, bigrams within runs, and emoticons', () => {
    const features: string[] = [];
    forEachFeature('好的，OK[泪]', (f) => features.push(f));
    expect(features).toEqual(['[泪]', '好', '的', '好的', 'o', 'k', 'ok', '泪']);
  });
});

describe('the Naive Bayes fast path', () => {
  it('scores exactly as the sum over forEachDistinctFeature (the features it was trained on)', async () => {
    const { forEachDistinctFeature } = await import('../../../core/sentiment/features.js');
    const model = JSON.parse((await import('node:fs')).readFileSync((await import('../../../core/sentiment/naive-bayes.js')).MODEL_FILE, 'utf8')) as {
      weights: Record<string, number>;
      priorLogOdds: number;
    };
    const nb = loadShippedModel();
    for (const text of ['质量很好，物流也快OK', 'ABC好的[怒][怒] 差差差', '太失望了！！！[哈哈]好好', '', '   ', '2024年12月，价格99元']) {
      let expected = model.priorLogOdds;
      forEachDistinctFeature(text, (f) => (expected += model.weights[f] ?? 0));
      expect(nb.logOdds(text)).toBeCloseTo(expected, 9);
    }
  });
});
