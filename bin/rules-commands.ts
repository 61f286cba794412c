/**
 * The pure sub-commands: `classify` and `rules check`. They read rule packs from a folder and
 * touch no service (no Redis, no Elasticsearch, no network).
 */
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { classifyLine } from '../core/classify/classify-lines.js';
import { createPostClassifier } from '../core/classify/classify-post.js';
import { configDir } from '../core/paths.js';
import { checkRulePacks, formatProblem } from '../core/rules/rule-pack.js';
import { compileRuleSet } from '../core/rules/rule-set.js';
import { SentimentAnalyzer } from '../core/sentiment/analyze-sentiment.js';

export interface Stdio {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

function rulesDir(argv: readonly string[], positional?: string): string {
  const i = argv.indexOf('--rules');
  if (i >= 0 && argv[i + 1]) return path.resolve(argv[i + 1]!);
  const eq = argv.find((a) => a.startsWith('--rules='));
  if (eq) return path.resolve(eq.slice('--rules='.length));
  return positional ? path.resolve(positional) : path.join(configDir, 'rules');
}

/** `qianshao rules check [<dir>]`: 0 when every pack is valid, 1 with one line per problem otherwise. */
export function rulesCheck(argv: readonly string[], io: Stdio): number {
  const dir = rulesDir(argv, argv.find((a, i) => i > 1 && !a.startsWith('--')));
  const { packs, problems } = checkRulePacks(dir);
  if (problems.length > 0) {
    io.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}:\n`);
    for (const p of problems) io.stderr.write(`  ${formatProblem(p)}\n`);
    return 1;
  }
  const set = compileRuleSet(packs);
  io.stdout.write(`ok: ${dir}\n`);
  for (const p of packs) io.stdout.write(`  ${p.id}@${p.version} (${p.hash}) ${p.name}: ${p.terms.length} terms, ${p.schemes.length} schemes, ${Object.keys(p.domains).length} domain lists\n`);
  io.stdout.write(`rule set ${set.version}: ${set.lexiconTermCount} terms, ${set.matcher.size} patterns with variants and scheme words, ${set.schemes.length} schemes\n`);
  return 0;
}

/** `qianshao classify [--rules <dir>] < posts.jsonl > results.jsonl`: one result line per input line. */
export async function classifyCommand(argv: readonly string[], io: Stdio): Promise<number> {
  const dir = rulesDir(argv);
  const { packs, problems } = checkRulePacks(dir);
  if (problems.length > 0) {
    io.stderr.write(`cannot classify: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}:\n`);
    for (const p of problems) io.stderr.write(`  ${formatProblem(p)}\n`);
    return 1;
  }
  const classifier = createPostClassifier(compileRuleSet(packs), { sentiment: new SentimentAnalyzer() });
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    const out = JSON.stringify(classifyLine(classifier, raw, n)) + '\n';
    if (!io.stdout.write(out)) await new Promise<void>((resolve) => io.stdout.once('drain', () => resolve()));
  }
  return 0;
}
