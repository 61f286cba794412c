import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.js';
import { EMOTICON, isWordCode } from './features.js';

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

/**
 * Unigram and bigram weights in an open-addressing hash over typed arrays. Keys are
 * (first code unit << 16 | second) as uint32 (a unigram has 0 as first): a Map would box every
 * bigram key above 2^30 as a heap number. A per-slot generation stamp makes "each distinct feature
 * once" free of any per-text set.
 */
class GramTable {
  private readonly keys: Uint32Array;
  private readonly values: Float64Array;
  private readonly stamps: Uint32Array;
  private readonly mask: number;
  private readonly shift: number;
  private generation = 0;
  readonly size: number;

  constructor(entries: readonly [number, number][]) {
    let bits = 4;
    while (1 << bits < entries.length * 2) bits++;
    this.keys = new Uint32Array(1 << bits);
    this.values = new Float64Array(1 << bits);
    this.stamps = new Uint32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    for (const [key, value] of entries) {
      let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
      while (this.keys[h] !== 0) h = (h + 1) & this.mask;
      this.keys[h] = key;
      this.values[h] = value;
    }
    this.size = entries.length;
  }

  /** Starts a new text: every feature counts once again. */
  next(): void {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** The weight of `key` the first time it is seen in this text, else 0. */
  take(key: number): number {
    const { keys, mask } = this;
    for (let h = Math.imul(key, 0x9e3779b1) >>> this.shift; ; h = (h + 1) & mask) {
      const k = keys[h]!;
      if (k === key) {
        if (this.stamps[h] === this.generation) return 0;
        this.stamps[h] = this.generation;
        return this.values[h]!;
      }
      if (k === 0) return 0;
    }
  }
}

export class NaiveBayesSentiment {
  private readonly grams: GramTable;
  private readonly emoticons = new Map<string, number>();
  readonly priorLogOdds: number;

  constructor(model: NaiveBayesModel) {
    if (model.format !== 'qianshao-nb-1') throw new Error(`unknown sentiment model format ${String(model.format)}`);
    const grams: [number, number][] = [];
    for (const [feature, w] of Object.entries(model.weights)) {
      if (feature.length === 1) grams.push([feature.charCodeAt(0), w]);
      else if (feature.length === 2) grams.push([((feature.charCodeAt(0) << 16) | feature.charCodeAt(1)) >>> 0, w]);
      else this.emoticons.set(feature, w);
    }
    this.grams = new GramTable(grams);
    this.priorLogOdds = model.priorLogOdds;
  }

  get vocabularySize(): number {
    return this.grams.size + this.emoticons.size;
  }

  /** Log-odds that the text is positive (> 0 positive, < 0 negative); the same features as `forEachDistinctFeature`. */
  logOdds(text: string): number {
    let sum = this.priorLogOdds;
    if (this.emoticons.size > 0 && text.includes('[')) {
      const found = new Set<string>();
      for (const m of text.toLowerCase().matchAll(EMOTICON)) found.add(m[0]);
      for (const f of found) sum += this.emoticons.get(f) ?? 0;
    }
    const grams = this.grams;
    grams.next();
    let previous = -1;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0x41 && c <= 0x5a) c += 32;
      if (!isWordCode(c)) {
        previous = -1;
        continue;
      }
      sum += grams.take(c);
      if (previous >= 0) sum += grams.take(((previous << 16) | c) >>> 0);
      previous = c;
    }
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
