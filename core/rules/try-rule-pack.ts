import { createPostClassifier, type Classification, type ClassifyInput, type PostClassifier } from '../classify/classify-post.js';
import type { SentimentAnalyzer } from '../sentiment/analyze-sentiment.js';
import { parseRulePack, validateRulePack, type RulePack } from './rule-pack.js';
import { compileRuleSet } from './rule-set.js';

/**
 * "Try a rule before saving it": a pack that is not in force yet (YAML text or an object) compiled
 * on its own and run on sample texts or stored posts. Pure; nothing is saved.
 */
export interface RuleTrial {
  pack: Pick<RulePack, 'id' | 'name' | 'version' | 'hash'> & { terms: number; schemes: number };
  classifier: PostClassifier;
}

/** Throws a RulePackError (an InvalidInputError: HTTP 400) naming the line and field of each problem. */
export function prepareRuleTrial(pack: string | object, deps: { sentiment: SentimentAnalyzer }): RuleTrial {
  const parsed = typeof pack === 'string' ? parseRulePack(pack, 'pack.yaml') : validateRulePack(pack, 'pack');
  return {
    pack: { id: parsed.id, name: parsed.name, version: parsed.version, hash: parsed.hash, terms: parsed.terms.length, schemes: parsed.schemes.length },
    classifier: createPostClassifier(compileRuleSet([parsed]), deps),
  };
}

/** Whether the pack itself caught the post: a lexicon hit or a fired scheme (privacy and sentiment are not the pack's). */
export function caughtByPack(c: Classification): boolean {
  return c.hits.length > 0 || c.schemes.some((s) => s.fired);
}

export interface TrialOutcome {
  caught: boolean;
  classification: Classification;
}

export function tryRulePack(pack: string | object, samples: readonly ClassifyInput[], deps: { sentiment: SentimentAnalyzer }): { pack: RuleTrial['pack']; results: TrialOutcome[] } {
  const trial = prepareRuleTrial(pack, deps);
  return {
    pack: trial.pack,
    results: samples.map((s) => {
      const classification = trial.classifier.classify(s);
      return { caught: caughtByPack(classification), classification };
    }),
  };
}
