/**
 * Rule-pack compile at lexicon size: a pack of N terms sampled from jieba's dictionary (the
 * matcher bench's term source), with or without `variants: { pinyin: true }` on every term.
 *
 *   node --expose-gc --import tsx bench/rules-compile.bench.ts write <dir> [terms=65000] [--pinyin]
 *       writes the pack as YAML (`qianshao rules check <dir>` then runs on it; measure it whole with
 *       /usr/bin/time -v)
 *   node --expose-gc --import tsx bench/rules-compile.bench.ts check <dir>
 *       what `rules check` does in one process: read and validate the folder (checkRulePacks), then
 *       compile (compileRuleSet), each timed; the peak RSS at the end
 *   node --expose-gc --import tsx bench/rules-compile.bench.ts compile [terms=65000] [--pinyin]
 *       the compile step alone, as a worker's hot reload runs it: the pack validated from objects
 *       (no YAML), a full collection, then compileRuleSet timed; the peak RSS it reached and the heap
 *       the rule set keeps
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { checkRulePacks, validateRulePack } from '../core/rules/rule-pack.js';
import { compileRuleSet, type RuleSet } from '../core/rules/rule-set.js';
import { jiebaLexicon } from './corpora.js';


/** The YAML of one pack of `terms`, each opting into pinyin variants when asked. */
export function lexiconPackYaml(terms: readonly string[], pinyin: boolean): string {
  const lines = ['id: bench-lexicon', 'name: 基准词库', 'version: 1', 'level: 3', 'category: 敏感词', 'terms:'];
  for (const t of terms) lines.push(pinyin ? `  - { term: ${t}, variants: { pinyin: true } }` : `  - ${t}`);
  return lines.join('\n') + '\n';
}

const ms = (from: number) => performance.now() - from;
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
/** Heap in use after full collections (undefined without --expose-gc). */
function heapMb(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  gc();
  return mb(process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
}
const args = process.argv.slice(2);
const count = Number(args.slice(1).find((a) => /^\d+$/.test(a)) ?? 65_000);
const pinyin = args.includes('--pinyin');
const load = Number(loadavg()[0]!.toFixed(2));

if (args[0] === 'write' && args[1]) {
  mkdirSync(args[1], { recursive: true });
  writeFileSync(path.join(args[1], 'bench-lexicon.yaml'), lexiconPackYaml(jiebaLexicon(count), pinyin));
  console.log(`wrote ${count} terms${pinyin ? ' with pinyin variants' : ''} to ${args[1]}/bench-lexicon.yaml`);
} else if (args[0] === 'check' && args[1]) {
  let t = performance.now();
  const { packs, problems, warnings } = checkRulePacks(path.resolve(args[1]));
  const checkMs = ms(t);
  if (problems.length > 0) throw new Error(`${problems.length} problems, first: ${problems[0]!.message}`);
  t = performance.now();
  const set = compileRuleSet(packs);
  const compileMs = ms(t);
  console.log(JSON.stringify({ terms: set.lexiconTermCount, patterns: set.matcher.size, warnings: warnings.length, checkMs: Math.round(checkMs), compileMs: Math.round(compileMs), peakRssMb: peakRssMb(), load }));
} else if (args[0] === 'compile') {
  const pack = validateRulePack({ id: 'bench-lexicon', name: '基准词库', version: 1, level: 3, category: '敏感词', terms: jiebaLexicon(count).map((term) => (pinyin ? { term, variants: { pinyin: true } } : term)) });
  const before = heapMb();
  const rssBefore = peakRssMb();
  const t = performance.now();
  const cpu = process.cpuUsage();
  const held: { set?: RuleSet } = { set: compileRuleSet([pack]) };
  const used = process.cpuUsage(cpu);
  const compileMs = ms(t);
  const peak = peakRssMb();
  const after = heapMb();
  console.log(
    JSON.stringify({
      terms: held.set!.lexiconTermCount,
      patterns: held.set!.matcher.size,
      compileMs: Math.round(compileMs),
      compileCpuMs: Math.round((used.user + used.system) / 1000),
      peakRssBeforeMb: rssBefore,
      peakRssMb: peak,
      ...(before !== undefined && after !== undefined ? { ruleSetHeapMb: after - before } : {}),
      load,
    }),
  );
} else {
  console.error('usage: rules-compile.bench.ts write <dir> [terms] [--pinyin] | check <dir> | compile [terms] [--pinyin]');
  process.exit(1);
}
