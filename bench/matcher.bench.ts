/**
 * Matcher benchmark: our automaton (with folding and the skip set on, and with both off) against
 * fastscan, mint-filter and a plain Map trie, on real Chinese reviews, at 5,000 and 65,000 terms
 * sampled from jieba's dictionary, over the reviews as one text and post by post (as the pipeline
 * scans them). All in one run on one machine: every row in its own process, rounds interleaving all
 * rows, the median over rounds reported.
 *
 *   npm run bench:matcher [-- --rounds N]   (default 3; reads ../shared/data next to the checkout
 *                                           or a parent of it, or BENCH_DATA)
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import FastScanner from 'fastscan';
import { Matcher } from '../core/rules/matcher.js';
import { jiebaLexicon } from './corpora.js';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
/** `../shared/data` next to the checkout, or next to any parent (a worktree under /work/wt/NAME); BENCH_DATA overrides. */
function findDataDir(): string {
  if (process.env.BENCH_DATA) return process.env.BENCH_DATA;
  for (let dir = root; ; dir = path.dirname(dir)) {
    const candidate = path.resolve(dir, '../shared/data');
    if (existsSync(candidate) || path.dirname(dir) === dir) return candidate;
  }
}
const dataDir = findDataDir();
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:matcher)');

/** The reviews, one post each. */
function posts(): string[] {
  const files = ['ChnSentiCorp_htl_all.csv', 'waimai_10k.csv'].map((f) => path.join(dataDir, f));
  for (const f of files) if (!existsSync(f)) throw new Error(`${f} is missing: benchmarks read ../shared/data`);
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1)).map((line) => line.replace(/^\d,/, '').replace(/^"|"$/g, ''));
}

/** The reviews as one text. */
function corpus(): string {
  return posts().join('\n');
}


/** The "plain Map trie" anchor: a trie of Maps, walked from every start position. */
class MapTrie {
  private readonly root = new Map<string, unknown>();
  constructor(words: string[]) {
    for (const w of words) {
      let node = this.root;
      for (const ch of w) {
        let next = node.get(ch) as Map<string, unknown> | undefined;
        if (!next) node.set(ch, (next = new Map()));
        node = next;
      }
      node.set('', w);
    }
  }
  scan(text: string): number {
    let hits = 0;
    for (let i = 0; i < text.length; i++) {
      let node: Map<string, unknown> | undefined = this.root;
      for (let j = i; j < text.length && node; j++) {
        node = node.get(text[j]!) as Map<string, unknown> | undefined;
        if (node?.has('')) hits++;
      }
    }
    return hits;
  }
}

interface Subject {
  name: string;
  build(words: string[]): { scan(text: string): number };
}

const subjects: Subject[] = [
  { name: 'qianshao Matcher (fold + skip on)', build: (w) => { const m = new Matcher(w.map((term) => ({ term, payload: 0 }))); return { scan: (t) => m.scan(t).length }; } },
  {
    name: 'qianshao Matcher, forEachMatch (fold + skip on)',
    build: (w) => {
      const m = new Matcher(w.map((term) => ({ term, payload: 0 })));
      let n = 0;
      const count = () => void n++;
      return { scan: (t) => ((n = 0), m.forEachMatch(t, count), n) };
    },
  },
  { name: 'qianshao Matcher (fold + skip off)', build: (w) => { const m = new Matcher(w.map((term) => ({ term, payload: 0 })), { fold: false, skip: '' }); return { scan: (t) => m.scan(t).length }; } },
  { name: 'fastscan 1.0.6', build: (w) => { const s = new FastScanner(w); return { scan: (t) => s.search(t).length }; } },
  {
    name: 'mint-filter 4.0.3',
    build: (w) => {
      const { Mint } = require('mint-filter') as { Mint: new (keys: string[]) => { filter(t: string, o?: { replace?: boolean }): { words: string[] } } };
      const m = new Mint(w);
      return { scan: (t) => m.filter(t, { replace: false }).words.length };
    },
  },
  { name: 'plain Map trie', build: (w) => { const t = new MapTrie(w); return { scan: (x) => t.scan(x) }; } },
];

function memory(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Row {
  chars: number;
  /** Wall-clock M chars/s, median of five scans of the corpus as one text. */
  rate: number;
  /** M chars per CPU second (user + system), median of five scans: less sensitive to other processes. */
  cpuRate: number;
  /** The same, scanning the corpus post by post (as the pipeline does): five passes, median. */
  postRate: number;
  postCpuRate: number;
  buildMs: number;
  buildCpuMs: number;
  /** Heap + array buffers held by the built scanner: measured with it alive, then after dropping it. */
  retainedMb: number;
  hits: number;
  load: number;
}

/** One subject at one size, in its own process so its memory is measured alone. */
function runOne(subjectIndex: number, size: number): Row {
  const load = loadavg()[0]!;
  const texts = posts();
  const text = texts.join('\n');
  const words = jiebaLexicon(size);
  const subject = subjects[subjectIndex]!;
  memory();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const held: { scanner?: { scan(text: string): number } } = { scanner: subject.build(words) };
  const c1 = process.cpuUsage(c0);
  const buildMs = performance.now() - t0;
  const buildCpuMs = (c1.user + c1.system) / 1000;
  const { rates, cpuRates, hits } = timeScans(held.scanner!, [text]);
  const perPost = timeScans(held.scanner!, texts);
  const withScanner = memory();
  delete held.scanner;
  const retainedMb = (withScanner - memory()) / 2 ** 20;
  return { chars: text.length, rate: median(rates), cpuRate: median(cpuRates), postRate: median(perPost.rates), postCpuRate: median(perPost.cpuRates), buildMs, buildCpuMs, retainedMb, hits, load };
}

/**
 * A warm-up pass over `texts`, then five timed ones; chars counted without the separators between
 * texts. (Its own frame: no local keeps the scanner alive afterwards.)
 */
function timeScans(scanner: { scan(text: string): number }, texts: string[]): { rates: number[]; cpuRates: number[]; hits: number } {
  const pass = () => {
    let found = 0;
    for (const text of texts) found += scanner.scan(text);
    return found;
  };
  const chars = texts.reduce((sum, text) => sum + text.length, 0);
  let hits = pass();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let run = 0; run < 5; run++) {
    const s = performance.now();
    const c = process.cpuUsage();
    hits = pass();
    const cpu = process.cpuUsage(c);
    rates.push(chars / ((performance.now() - s) / 1000) / 1e6);
    cpuRates.push(chars / ((cpu.user + cpu.system) / 1e6) / 1e6);
  }
  return { rates, cpuRates, hits };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (process.argv[2] === 'one') {
  console.log(JSON.stringify(runOne(Number(process.argv[3]), Number(process.argv[4]))));
} else {
  // Rounds interleave every row, so a change in the machine's load touches all scanners alike.
  const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 3) || 3;
  const sizes = [5_000, 65_000];
  const results = new Map<string, Row[]>();
  const loads: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const size of sizes) {
      for (const [index, subject] of subjects.entries()) {
        const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, 'one', String(index), String(size)], { encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop()!) as Row;
        loads.push(r.load);
        const key = `${size}\t${index}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.log(`round ${round} | ${size} | ${subject.name} | ${r.rate.toFixed(1)} M/s | ${r.cpuRate.toFixed(1)} M/cpu-s | post by post ${r.postRate.toFixed(1)} M/s | build ${r.buildMs.toFixed(0)} ms (${r.buildCpuMs.toFixed(0)} CPU) | ${r.retainedMb.toFixed(1)} MB | ${r.hits} | load ${r.load.toFixed(2)}`);
      }
    }
  }
  const rows: string[] = [];
  for (const size of sizes) {
    for (const [index, subject] of subjects.entries()) {
      const rs = results.get(`${size}\t${index}`)!;
      const hits = new Set(rs.map((r) => r.hits));
      if (hits.size !== 1) throw new Error(`${subject.name} at ${size}: match counts differ between rounds`);
      const pick = (f: (r: Row) => number, digits: number) => median(rs.map(f)).toFixed(digits);
      rows.push(`| ${size.toLocaleString()} | ${subject.name} | ${pick((r) => r.rate, 1)} | ${pick((r) => r.cpuRate, 1)} | ${pick((r) => r.postRate, 1)} | ${pick((r) => r.postCpuRate, 1)} | ${pick((r) => r.buildMs, 0)} | ${pick((r) => r.buildCpuMs, 0)} | ${pick((r) => r.retainedMb, 1)} | ${rs[0]!.hits.toLocaleString()} |`);
    }
  }
  console.log(`\ncorpus: ${corpus().length.toLocaleString()} chars (ChnSentiCorp_htl_all + waimai_10k); node ${process.version}; one process per row; ${rounds} rounds; 1-min load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`);
  console.log(`| terms | scanner | M chars/s | M chars per CPU-s | post by post M chars/s | post by post per CPU-s | build ms | build CPU ms | retained MB | matches |\n|---|---|---|---|---|---|---|---|---|---|`);
  console.log(rows.join('\n'));
}
