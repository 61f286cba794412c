/**
 * Whole classification on one core: segment (our jieba cut + TF-IDF keywords, as the ingest stage
 * does) + one matcher scan over every rule pack + schemes + privacy + sentiment + domain, over real
 * reviews, and each part on its own so the budget is visible; beside ours, the nodejieba segmenter
 * it replaced (the parity test's oracle), raw cuts and whole stages of both.
 *
 *   npm run bench:classify        (reads ../shared/data, or QIANSHAO_DATA_DIR)
 *
 * Rules: the shipped packs (config/rules) plus 5,000 extra lexicon terms sampled from jieba's
 * dictionary, so the automaton has a realistic size. Each row: one warm-up pass, then three rounds
 * over all rows in turn (so old and new see the same load) and the median of each row's three
 * passes over every post. Everything runs on the main thread, so the process's CPU time is one
 * core's time; it is the rate reported, with wall time beside it. First the segmenter's setup:
 * the dictionary read from its stored arrays, built from jieba's files, and the heap it retains.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createPostClassifier } from '../core/classify/classify-post.js';
import { DomainClassifier } from '../core/domain/classify-domain.js';
import { configDir } from '../core/paths.js';
import { detectPrivacy } from '../core/privacy/detect-privacy.js';
import { loadRulePacks, validateRulePack } from '../core/rules/rule-pack.js';
import { compileRuleSet } from '../core/rules/rule-set.js';
import { SentimentAnalyzer } from '../core/sentiment/analyze-sentiment.js';
import nodejieba from 'nodejieba';
import { buildJiebaDictionary, loadJiebaDictionary } from '../core/segment/jieba-dictionary.js';
import { WordCutter } from '../core/segment/word-cutter.js';
import { createSegmenter } from '../pipeline/ingest/segment.js';
import { createNodejiebaSegmenter } from '../tests/support/nodejieba-segmenter.js';
import { REVIEW_CORPORA, readLabelledCsv } from './corpora.js';

const texts = REVIEW_CORPORA.flatMap((f) => readLabelledCsv(f).map((r) => r.text));
const chars = texts.reduce((n, t) => n + t.length, 0);

function jiebaWords(count: number): string[] {
  const require = createRequire(import.meta.url);
  const dict = path.join(path.dirname(require.resolve('nodejieba/package.json')), 'submodules/cppjieba/dict/jieba.dict.utf8');
  const all = readFileSync(dict, 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((w) => /^[\u4e00-\u9fff]{2,}$/.test(w));
  const step = Math.floor(all.length / count);
  return Array.from({ length: count }, (_, i) => all[i * step]!);
}

const extra = validateRulePack({ id: 'bench-extra', name: 'bench', version: 1, level: 4, terms: jiebaWords(5000) });
const shipped = loadRulePacks(path.join(configDir, 'rules'));
const ruleSet = compileRuleSet([...shipped, extra]);
const shippedOnly = createPostClassifier(compileRuleSet(shipped), { sentiment: new SentimentAnalyzer() });
const sentiment = new SentimentAnalyzer();
const classifier = createPostClassifier(ruleSet, { sentiment });
const domains = new DomainClassifier(ruleSet.domainKeywords);

/** CPU ms and wall ms of `fn`. */
function timed<T>(fn: () => T): { value: T; cpu: number; wall: number } {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { value, cpu: (used.user + used.system) / 1000, wall: Number(process.hrtime.bigint() - wall) / 1e6 };
}

/** Heap plus array buffers after a full collection, in MB. */
function retainedMb(): number {
  global.gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

const before = retainedMb();
const loaded = timed(() => createSegmenter(ruleSet.words));
const segment = loaded.value;
const retained = retainedMb() - before;
const built = timed(() => buildJiebaDictionary());
const states = built.value.words.states;
const rss = process.memoryUsage().rss;
const jiebaLoad = timed(() => nodejieba.load());
const jiebaRss = (process.memoryUsage().rss - rss) / 2 ** 20;
const oldSegment = createNodejiebaSegmenter(ruleSet.words);
/** The raw cut on a dictionary of its own with the same lexicon added. */
const cutDictionary = loadJiebaDictionary();
for (const term of ruleSet.words) cutDictionary.words.insert(term, 'weight', cutDictionary.medianWeight);
const cutter = new WordCutter(cutDictionary);
console.log(
  `segmenter: stored dictionary read + ${ruleSet.words.length} lexicon terms added in ${loaded.cpu.toFixed(0)} ms CPU (${loaded.wall.toFixed(0)} ms wall), ` +
    `${retained.toFixed(1)} MB retained (heap + array buffers); built from jieba's files in ${built.cpu.toFixed(0)} ms CPU (${built.wall.toFixed(0)} ms wall), ${states.toLocaleString('en')} trie states; ` +
    `nodejieba load ${jiebaLoad.cpu.toFixed(0)} ms CPU, +${jiebaRss.toFixed(0)} MB RSS`,
);

let sink = 0;
const rows: [string, (t: string) => void][] = [
  ['nodejieba cut (words only)', (t) => (sink += nodejieba.cut(t).length)],
  ['our cut (words only)', (t) => (sink += cutter.cut(t))],
  ['segment, nodejieba (cut + 10 keywords; until stop 11)', (t) => (sink += oldSegment(t).words.length)],
  ['segment, ours (cut + 10 keywords)', (t) => (sink += segment(t).words.length)],
  ['matcher scan (all packs, fold + skip)', (t) => (sink += ruleSet.matcher.scan(t).length)],
  ['privacy detectors', (t) => (sink += detectPrivacy(t).length)],
  ['sentiment (lexicon + Naive Bayes)', (t) => (sink += sentiment.analyze(t).score)],
  ['domain keywords', (t) => (sink += domains.classify(t).evidence.length)],
  ['classify (match + schemes + privacy + sentiment + domain)', (t) => (sink += classifier.classify({ text: t }).hits.length)],
  ['classify, shipped packs only (69 terms, 4 schemes)', (t) => (sink += shippedOnly.classify({ text: t }).hits.length)],
  ['whole stage, nodejieba segment + classify', (t) => (sink += oldSegment(t).words.length + classifier.classify({ text: t }).hits.length)],
  ['whole stage: segment + classify', (t) => (sink += segment(t).words.length + classifier.classify({ text: t }).hits.length)],
];

/** CPU time of this process (user + system) in ms: on a shared, loaded machine wall time mostly measures the wait for a core. */
function pass(fn: (t: string) => void): { cpu: number; wall: number } {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const t of texts) fn(t);
  const used = process.cpuUsage(cpu);
  return { cpu: (used.user + used.system) / 1000, wall: Number(process.hrtime.bigint() - wall) / 1e6 };
}

console.log(`input: ${texts.length} posts, ${chars.toLocaleString('en')} characters; rules: ${ruleSet.lexiconTermCount} terms, ${ruleSet.matcher.size} patterns, ${ruleSet.schemes.length} schemes`);
for (const [, fn] of rows) pass(fn);
const passes = rows.map(() => [] as { cpu: number; wall: number }[]);
for (let round = 0; round < 3; round++) {
  rows.forEach(([, fn], r) => {
    global.gc?.();
    passes[r]!.push(pass(fn));
  });
}
console.log('| part | M chars/s per CPU second (median of 3) | CPU ms per pass | wall ms per pass |');
console.log('|---|---|---|---|');
rows.forEach(([name], r) => {
  const { cpu, wall } = passes[r]!.sort((a, b) => a.cpu - b.cpu)[1]!;
  console.log(`| ${name} | ${(chars / cpu / 1000).toFixed(2)} | ${cpu.toFixed(0)} | ${wall.toFixed(0)} |`);
});
if (sink === Number.MIN_VALUE) console.log(sink);
