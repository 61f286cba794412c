/**
 * Matcher benchmark: our automaton (with folding and the skip set on, and with both off) against
 * fastscan, mint-filter and a plain Map trie, on real Chinese reviews, at 5,000 and 65,000 terms
 * sampled from jieba's dictionary. All in one run on one machine.
 *
 *   npm run bench:matcher        (node --expose-gc; reads ../shared/data relative to the repo)
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import FastScanner from 'fastscan';
import { Matcher } from '../core/rules/matcher.js';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(root, '../shared/data');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:matcher)');

function corpus(): string {
  const files = ['ChnSentiCorp_htl_all.csv', 'waimai_10k.csv'].map((f) => path.join(dataDir, f));
  for (const f of files) if (!existsSync(f)) throw new Error(`${f} is missing: benchmarks read ../shared/data`);
  return files
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
    .map((line) => line.replace(/^\d,/, '').replace(/^"|"$/g, ''))
    .join('\n');
}

function lexicon(size: number): string[] {
  const dict = readFileSync(require.resolve('nodejieba/submodules/cppjieba/dict/jieba.dict.utf8'), 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((w) => w.length >= 2 && /^[\u4e00-\u9fff]+$/.test(w));
  const step = dict.length / size;
  return Array.from({ length: size }, (_, i) => dict[Math.floor(i * step)]!);
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

/** One subject at one size, in its own process so its memory is measured alone. */
function runOne(subjectIndex: number, size: number): void {
  const text = corpus();
  const words = lexicon(size);
  const subject = subjects[subjectIndex]!;
  const before = memory();
  const t0 = performance.now();
  const built = subject.build(words);
  const buildMs = performance.now() - t0;
  const retainedMb = (memory() - before) / 2 ** 20;
  let hits = built.scan(text); // warm-up
  const rates: number[] = [];
  for (let run = 0; run < 5; run++) {
    const s = performance.now();
    hits = built.scan(text);
    rates.push(text.length / ((performance.now() - s) / 1000) / 1e6);
  }
  rates.sort((a, b) => a - b);
  console.log(JSON.stringify({ chars: text.length, rate: rates[2], buildMs, retainedMb, hits }));
}

if (process.argv[2] === 'one') {
  runOne(Number(process.argv[3]), Number(process.argv[4]));
} else {
  const rows: string[] = [];
  for (const size of [5_000, 65_000]) {
    for (const [index, subject] of subjects.entries()) {
      const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, 'one', String(index), String(size)], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { chars: number; rate: number; buildMs: number; retainedMb: number; hits: number };
      const row = `| ${size.toLocaleString()} | ${subject.name} | ${r.rate.toFixed(1)} | ${r.buildMs.toFixed(0)} | ${r.retainedMb.toFixed(1)} | ${r.hits.toLocaleString()} |`;
      rows.push(row);
      console.log(row);
    }
  }
  console.log(`\ncorpus: ${corpus().length.toLocaleString()} chars (ChnSentiCorp_htl_all + waimai_10k); node ${process.version}; one process per row`);
  console.log('| terms | scanner | M chars/s (median of 5) | build ms | retained heap + array buffers MB | matches |\n|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
}
