/**
 * Sentiment accuracy on the two labelled review corpora (evaluation only; never trained on):
 * lexicon alone, Naive Bayes alone, and combined.
 *
 *   npm run bench:sentiment        (reads ../shared/data, or QIANSHAO_DATA_DIR)
 *
 * Accuracy is binary: a text is called positive when its score is ≥ 0 (the corpora have no neutral
 * class). "covered" is the share of texts where the lexicon found any evidence at all.
 */
import { SentimentAnalyzer, type SentimentMethod } from '../core/sentiment/analyze-sentiment.js';
import { REVIEW_CORPORA, readLabelledCsv } from './corpora.js';

const analyzer = new SentimentAnalyzer();
const methods: SentimentMethod[] = ['lexicon', 'naive-bayes', 'combined'];

console.log('| corpus | texts | positive share | lexicon | lexicon covered | Naive Bayes | combined | combined ms/1k texts |');
console.log('|---|---|---|---|---|---|---|---|');
for (const file of REVIEW_CORPORA) {
  const rows = readLabelledCsv(file);
  const correct: Record<SentimentMethod, number> = { lexicon: 0, 'naive-bayes': 0, combined: 0 };
  let covered = 0;
  let combinedMs = 0;
  for (const row of rows) {
    for (const method of methods) {
      const started = method === 'combined' ? performance.now() : 0;
      const s = analyzer.analyze(row.text, method);
      if (method === 'combined') combinedMs += performance.now() - started;
      if (s.score >= 0 === row.positive) correct[method]++;
      if (method === 'lexicon' && s.lexicon !== 0) covered++;
    }
  }
  const pct = (n: number) => `${((100 * n) / rows.length).toFixed(1)} %`;
  const positives = rows.filter((r) => r.positive).length;
  console.log(
    `| ${file} | ${rows.length} | ${pct(positives)} | ${pct(correct.lexicon)} | ${pct(covered)} | ${pct(correct['naive-bayes'])} | ${pct(correct.combined)} | ${((combinedMs / rows.length) * 1000).toFixed(0)} |`,
  );
}
