import { watch, type FSWatcher } from 'node:fs';
import { createPostClassifier, type PostClassifier } from '../classify/classify-post.js';
import { SentimentAnalyzer } from '../sentiment/analyze-sentiment.js';
import { checkRulePacks, formatProblem, RulePackError, type RulePack, type RulePackCheck, type RuleProblem } from './rule-pack.js';
import { compileRuleSet } from './rule-set.js';

export interface RegistryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type ReloadOutcome = { outcome: 'swapped'; version: string } | { outcome: 'unchanged'; version: string } | { outcome: 'kept-old'; version: string; problems: RuleProblem[] };

/**
 * The compiled rules in force, swapped whole when the packs change: those of a folder (`load`,
 * `reload`, `watch`), or packs handed over by whoever keeps them (`of`, `swap`: the saved versions,
 * see `startRulesSync`). A running worker asks for `current()` per post, so a swap applies to the
 * next post; a post in flight finishes with the set it started with. Invalid packs never replace a
 * valid set: the old one stays and the problems are logged (and returned).
 */
export class RulesRegistry {
  private classifier: PostClassifier;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((c: PostClassifier) => void)[] = [];

  private constructor(
    /** Where the packs come from (a folder, or the saved versions), for logs. */
    readonly origin: string,
    /** The analyzer every classifier of this registry shares (also lent to rule trials). */
    readonly sentiment: SentimentAnalyzer,
    private readonly log: RegistryLog,
    first: PostClassifier,
    private readonly read?: () => RulePackCheck,
  ) {
    this.classifier = first;
  }

  /** Loads the folder; throws {@link RulePackError} when it is invalid (nothing to fall back on yet). */
  static load(dir: string, deps: { log: RegistryLog; sentiment?: SentimentAnalyzer }): RulesRegistry {
    const sentiment = deps.sentiment ?? new SentimentAnalyzer();
    const { packs, problems } = checkRulePacks(dir);
    if (problems.length > 0) throw new RulePackError(problems);
    const registry = new RulesRegistry(dir, sentiment, deps.log, createPostClassifier(compileRuleSet(packs), { sentiment }), () => checkRulePacks(dir));
    deps.log.info({ dir, version: registry.classifier.ruleSet.version, packs: packs.map((p) => `${p.id}@${p.version}`) }, 'rules loaded');
    return registry;
  }

  /** Starts from packs validated elsewhere; later sets come through {@link swap}. */
  static of(packs: readonly RulePack[], origin: string, deps: { log: RegistryLog; sentiment?: SentimentAnalyzer }): RulesRegistry {
    const sentiment = deps.sentiment ?? new SentimentAnalyzer();
    const registry = new RulesRegistry(origin, sentiment, deps.log, createPostClassifier(compileRuleSet(packs), { sentiment }));
    deps.log.info({ origin, version: registry.classifier.ruleSet.version, packs: packs.map((p) => `${p.id}@${p.version}`) }, 'rules loaded');
    return registry;
  }

  current(): PostClassifier {
    return this.classifier;
  }

  /** Called after every swap (e.g. to add new words to the segmenter's dictionary). */
  onSwap(listener: (c: PostClassifier) => void): void {
    this.listeners.push(listener);
  }

  /** Re-reads the folder this registry was loaded from. */
  reload(): ReloadOutcome {
    if (!this.read) throw new Error(`rules from ${this.origin} are swapped in by their keeper, not reloaded`);
    return this.swap(this.read());
  }

  /** Compiles `packs` and swaps them in, unless there are problems (then the rules in force stay). */
  swap({ packs, problems }: Pick<RulePackCheck, 'packs' | 'problems'>): ReloadOutcome {
    const old = this.classifier.ruleSet.version;
    if (problems.length > 0) {
      this.log.warn({ origin: this.origin, version: old, problems: problems.map(formatProblem) }, 'rules changed but are invalid; keeping the rules in force');
      return { outcome: 'kept-old', version: old, problems };
    }
    const next = createPostClassifier(compileRuleSet(packs), { sentiment: this.sentiment });
    if (next.ruleSet.version === old) return { outcome: 'unchanged', version: old };
    this.classifier = next;
    for (const l of this.listeners) l(next);
    this.log.info({ origin: this.origin, from: old, to: next.ruleSet.version, packs: packs.map((p) => `${p.id}@${p.version}`) }, 'rules reloaded');
    return { outcome: 'swapped', version: next.ruleSet.version };
  }

  /** Watches the folder; bursts of changes (an editor's save) are folded into one reload after `debounceMs`. */
  watch(debounceMs = 300): void {
    if (this.watcher || !this.read) return;
    this.watcher = watch(this.origin, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), debounceMs);
    });
    this.watcher.on('error', (err) => this.log.warn({ dir: this.origin, err: err.message }, 'cannot watch the rules folder'));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
