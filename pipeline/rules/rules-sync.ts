import { watch, type FSWatcher } from 'node:fs';
import type { Redis } from 'ioredis';
import { parseRulePack, RulePackError, type RulePack, type RulePackCheck, type RuleProblem } from '../../core/rules/rule-pack.js';
import type { RulePackVersion } from '../../core/rules/rule-pack-store.js';
import type { RulePackChange, RulePackVersions } from '../../core/rules/rule-pack-versions.js';
import { RulesRegistry, type RegistryLog } from '../../core/rules/rules-registry.js';
import type { SentimentAnalyzer } from '../../core/sentiment/analyze-sentiment.js';

/** The Redis channel on which a saved, reverted or re-seeded pack is announced. */
export function rulesChannel(prefix: string): string {
  return `${prefix}:rules:changed`;
}

/** Announces a change to every process (see {@link startRulesSync}). */
export function publishRuleChanges(redis: Redis, prefix: string): (change: RulePackChange) => Promise<void> {
  return async (change) => void (await redis.publish(rulesChannel(prefix), JSON.stringify(change)));
}

function compileHeads(heads: readonly RulePackVersion[]): RulePackCheck {
  const packs: RulePack[] = [];
  const problems: RuleProblem[] = [];
  const warnings: RuleProblem[] = [];
  for (const head of heads) {
    try {
      packs.push(parseRulePack(head.yaml, `${head.packId}@${head.version}`, warnings));
    } catch (err) {
      if (err instanceof RulePackError) problems.push(...err.problems);
      else throw err;
    }
  }
  return { packs, problems, texts: {}, warnings };
}

export interface RulesSync {
  registry: RulesRegistry;
  /** Reads the saved versions again and swaps them in (what a change announcement triggers). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The rules of one process (API or worker), kept in step with the saved versions: seeds them from
 * `dir` at start, then swaps in the newest versions whenever a change is announced on Redis (and
 * after a reconnect, when announcements may have been missed). A change to a file of `dir` seeds
 * again, which announces it. Throws {@link RulePackError} at start when the folder or a saved
 * version is invalid.
 */
export async function startRulesSync(deps: {
  versions: RulePackVersions;
  /** A connection of its own: a subscribed Redis connection can do nothing else. */
  subscriber: Redis;
  prefix: string;
  dir: string;
  log: RegistryLog;
  sentiment?: SentimentAnalyzer;
  watchDebounceMs?: number;
}): Promise<RulesSync> {
  const { versions, subscriber, log } = deps;
  await versions.seed(deps.dir);
  const first = compileHeads(await versions.heads());
  if (first.problems.length > 0) throw new RulePackError(first.problems);
  const registry = RulesRegistry.of(first.packs, 'saved rule packs', { log, ...(deps.sentiment ? { sentiment: deps.sentiment } : {}) });

  // Reloads run one at a time; announcements arriving meanwhile fold into one more reload.
  let running: Promise<void> | undefined;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          registry.swap(compileHeads(await versions.heads()));
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'cannot read the saved rule packs; keeping the rules in force');
        }
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };

  const channel = rulesChannel(deps.prefix);
  subscriber.on('error', (err: Error) => log.warn({ err: err.message }, 'rules subscriber: redis connection error'));
  subscriber.on('message', (ch: string) => {
    if (ch === channel) void refresh();
  });
  let subscribed = false;
  subscriber.on('ready', () => {
    if (subscribed) void refresh();
  });
  await subscriber.subscribe(channel);
  subscribed = true;

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(deps.dir, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        versions.seed(deps.dir).catch((err: Error) => log.warn({ dir: deps.dir, err: err.message }, 'rules folder changed but cannot be seeded; keeping the rules in force'));
      }, deps.watchDebounceMs ?? 300);
    });
    watcher.on('error', (err) => log.warn({ dir: deps.dir, err: err.message }, 'cannot watch the rules folder'));
  } catch (err) {
    log.warn({ dir: deps.dir, err: (err as Error).message }, 'cannot watch the rules folder');
  }

  return {
    registry,
    refresh,
    async close() {
      clearTimeout(timer);
      watcher?.close();
      await running;
      subscriber.disconnect();
    },
  };
}
