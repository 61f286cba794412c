import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.js';
import { forEachDistinctFeature } from './features.js';

/**
 * A two-class binarized multinomial Naive Bayes reduced to what a decision needs: the prior log-odds and,
 * per kept feature, log P(f | positive) − log P(f | negative) (Laplace-smoothed over the kept
 * vocabulary). Features outside the vocabulary carry no evidence.
 */
export interface NaiveBayesModel {
  format: 'qianshao-nb-1';
  trainedOn: string;
  alpha: number;
  priorLogOdds: number;
  /** Feature → log-ratio (positive minus negative), rounded. */
  weights: Record<string, number>;
}

export class NaiveBayesSentiment {
  private readonly weights: Map<string, number>;
  readonly priorLogOdds: number;

  constructor(model: NaiveBayesModel) {
    if (model.format !== 'qianshao-nb-1') throw new Error(`unknown sentiment model format ${String(model.format)}`);
    this.weights = new Map(Object.entries(model.weights));
    this.priorLogOdds = model.priorLogOdds;
  }

  get vocabularySize(): number {
    return this.weights.size;
  }

  /** Log-odds that the text is positive (> 0 positive, < 0 negative). */
  logOdds(text: string): number {
    let sum = this.priorLogOdds;
    const weights = this.weights;
    forEachDistinctFeature(text, (f) => {
      const w = weights.get(f);
      if (w !== undefined) sum += w;
    });
    return sum;
  }
}

/** The model committed with the code (trained by `npm run train:sentiment`). */
export const MODEL_FILE = path.join(repoRoot, 'core', 'sentiment', 'naive-bayes-model.json');

let shipped: NaiveBayesSentiment | undefined;
export function loadShippedModel(): NaiveBayesSentiment {
  shipped ??= new NaiveBayesSentiment(JSON.parse(readFileSync(MODEL_FILE, 'utf8')) as NaiveBayesModel);
  return shipped;
}
