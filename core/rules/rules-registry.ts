import { watch, type FSWatcher } from 'node:fs';
import { createPostClassifier, type PostClassifier } from '../classify/classify-post.js';
import { SentimentAnalyzer } from '../sentiment/analyze-sentiment.js';
import { checkRulePacks, formatProblem, RulePackError, type RuleProblem } from './rule-pack.js';
import { compileRuleSet } from './rule-set.js';

export interface RegistryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type ReloadOutcome = { outcome: 'swapped'; version: string } | { outcome: 'unchanged'; version: string } | { outcome: 'kept-old'; version: string; problems: RuleProblem[] };

/**
 * The compiled rules of a folder, swapped whole when the folder changes. A running worker asks for
 * `current()` per post, so a reload applies to the next post; a post in flight finishes with the
 * set it started with. An invalid folder never replaces a valid set: the old one stays and the
 * problems are logged (and returned).
 */
export class RulesRegistry {
  private classifier: PostClassifier;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((c: PostClassifier) => void)[] = [];

  private constructor(
    readonly dir: string,
    /** The analyzer every classifier of this registry shares (also lent to rule trials). */
    readonly sentiment: SentimentAnalyzer,
    private readonly log: RegistryLog,
    first: PostClassifier,
  ) {
    this.classifier = first;
  }

  /** Loads the folder; throws {@link RulePackError} when it is invalid (nothing to fall back on yet). */
  static load(dir: string, deps: { log: RegistryLog; sentiment?: SentimentAnalyzer }): RulesRegistry {
    const sentiment = deps.sentiment ?? new SentimentAnalyzer();
    const { packs, problems } = checkRulePacks(dir);
    if (problems.length > 0) throw new RulePackError(problems);
    const registry = new RulesRegistry(dir, sentiment, deps.log, createPostClassifier(compileRuleSet(packs), { sentiment }));
    deps.log.info({ dir, version: registry.classifier.ruleSet.version, packs: packs.map((p) => `${p.id}@${p.version}`) }, 'rules loaded');
    return registry;
  }

  current(): PostClassifier {
    return this.classifier;
  }

  /** Called after every swap (e.g. to add new words to the segmenter's dictionary). */
  onSwap(listener: (c: PostClassifier) => void): void {
    this.listeners.push(listener);
  }

  reload(): ReloadOutcome {
    const { packs, problems } = checkRulePacks(this.dir);
    const old = this.classifier.ruleSet.version;
    if (problems.length > 0) {
      this.log.warn({ dir: this.dir, version: old, problems: problems.map(formatProblem) }, 'rules changed but are invalid; keeping the rules in force');
      return { outcome: 'kept-old', version: old, problems };
    }
    const next = createPostClassifier(compileRuleSet(packs), { sentiment: this.sentiment });
    if (next.ruleSet.version === old) return { outcome: 'unchanged', version: old };
    this.classifier = next;
    for (const l of this.listeners) l(next);
    this.log.info({ dir: this.dir, from: old, to: next.ruleSet.version, packs: packs.map((p) => `${p.id}@${p.version}`) }, 'rules reloaded');
    return { outcome: 'swapped', version: next.ruleSet.version };
  }

  /** Watches the folder; bursts of changes (an editor's save) are folded into one reload after `debounceMs`. */
  watch(debounceMs = 300): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), debounceMs);
    });
    this.watcher.on('error', (err) => this.log.warn({ dir: this.dir, err: err.message }, 'cannot watch the rules folder'));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
