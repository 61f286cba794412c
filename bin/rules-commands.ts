/**
 * The pure sub-commands: `classify` and `rules check`. They read rule packs from a folder and
 * touch no service (no Redis, no Elasticsearch, no network).
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { classifyLineBytes, splitLines } from '../core/classify/classify-lines.js';
import { createPostClassifier } from '../core/classify/classify-post.js';
import { configDir } from '../core/paths.js';
import { checkRulePacks, formatProblem, type RuleProblem } from '../core/rules/rule-pack.js';
import { compileRuleSet } from '../core/rules/rule-set.js';
import { SentimentAnalyzer } from '../core/sentiment/analyze-sentiment.js';

export interface Stdio {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** Thrown for a command line the sub-command does not understand (exit 1 with one line, no stack). */
export class UsageError extends Error {
  readonly code = 'usage_error';
}

/**
 * The rules folder of `argv` (`--rules <dir>`, `--rules=<dir>` or, where `positional` allows, a bare
 * folder); the default folder only when none is given. Anything else on the command line is refused,
 * so a misspelt option never silently classifies with the default rules.
 */
function rulesDir(argv: readonly string[], command: readonly string[], positional: boolean): string {
  const rest = argv.slice(command.length);
  let dir: string | undefined;
  const take = (value: string | undefined, what: string) => {
    if (!value) throw new UsageError(`${what} needs a folder`);
    if (dir !== undefined) throw new UsageError('give the rules folder once');
    dir = value;
  };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--rules') take(rest[++i], '--rules');
    else if (a.startsWith('--rules=')) take(a.slice('--rules='.length), '--rules=');
    else if (positional && !a.startsWith('-')) take(a, 'the rules folder');
    else throw new UsageError(`unknown argument "${a}"; usage: qianshao ${command.join(' ')} ${positional ? '[<dir>]' : '[--rules <dir>]'}`);
  }
  return dir !== undefined ? path.resolve(dir) : path.join(configDir, 'rules');
}

/** Warnings go to stderr and change no exit code: the packs load, those entries just never match (or match twice). */
function writeWarnings(io: Stdio, dir: string, warnings: readonly RuleProblem[]): void {
  if (warnings.length === 0) return;
  io.stderr.write(`${warnings.length} warning${warnings.length === 1 ? '' : 's'} in ${dir}:\n`);
  for (const w of warnings) io.stderr.write(`  warning: ${formatProblem(w)}\n`);
}

/** `qianshao rules check [<dir>]`: 0 when every pack is valid, 1 with one line per problem otherwise. */
export function rulesCheck(argv: readonly string[], io: Stdio): number {
  const dir = rulesDir(argv, ['rules', 'check'], true);
  const { packs, problems, warnings } = checkRulePacks(dir);
  if (problems.length > 0) {
    io.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}:\n`);
    for (const p of problems) io.stderr.write(`  ${formatProblem(p)}\n`);
    writeWarnings(io, dir, warnings);
    return 1;
  }
  writeWarnings(io, dir, warnings);
  const set = compileRuleSet(packs);
  io.stdout.write(`ok: ${dir}\n`);
  for (const p of packs) io.stdout.write(`  ${p.id}@${p.version} (${p.hash}) ${p.name}: ${p.terms.length} terms, ${p.schemes.length} schemes, ${Object.keys(p.domains).length} domain lists\n`);
  io.stdout.write(`rule set ${set.version}: ${set.lexiconTermCount} terms, ${set.matcher.size} patterns with variants and scheme words, ${set.schemes.length} schemes\n`);
  return 0;
}

/** `qianshao classify [--rules <dir>] < posts.jsonl > results.jsonl`: one result line per input line. */
export async function classifyCommand(argv: readonly string[], io: Stdio): Promise<number> {
  const dir = rulesDir(argv, ['classify'], false);
  const { packs, problems, warnings } = checkRulePacks(dir);
  writeWarnings(io, dir, warnings);
  if (problems.length > 0) {
    io.stderr.write(`cannot classify: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${dir}:\n`);
    for (const p of problems) io.stderr.write(`  ${formatProblem(p)}\n`);
    return 1;
  }
  const classifier = createPostClassifier(compileRuleSet(packs), { sentiment: new SentimentAnalyzer() });
  // A reader that went away (`| head`) ends the run quietly, as it would end cat: no stack trace.
  let closed = false;
  const gone = new Promise<void>((resolve) => {
    io.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') io.stderr.write(`qianshao: cannot write the results: ${err.message}\n`);
      closed = true;
      resolve();
    });
  });
  let n = 0;
  for await (const bytes of splitLines(io.stdin)) {
    n++;
    const out = JSON.stringify(classifyLineBytes(classifier, bytes, n)) + '\n';
    if (closed) break;
    if (!io.stdout.write(out)) await Promise.race([new Promise<void>((resolve) => io.stdout.once('drain', () => resolve())), gone]);
    if (closed) break;
  }
  if (closed) {
    io.stdin.destroy();
    return 1;
  }
  // The caller exits the process: a pipe to a slow reader may still hold results, so wait until they are handed over.
  await Promise.race([new Promise<void>((resolve) => io.stdout.write('', () => resolve())), gone]);
  return closed ? 1 : 0;
}
