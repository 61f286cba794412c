import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../paths.js';
import { PAIR_BYTES, WordDictionary, type WordFact, type WordFacts } from './word-dictionary.js';

/**
 * jieba's shipped vocabulary (the files of nodejieba's cppjieba) with cppjieba's weights: a word's
 * weight is log(frequency / sum of the main dictionary's frequencies); words without a frequency
 * (the user dictionary's, and words added later like `insertWord`) get the main dictionary's median
 * weight; a character in no word costs the minimum weight. IDF and stop words ride on the same
 * trie for the keyword scorer: unknown words score at the mean IDF, as jieba's extractor does.
 */
export interface JiebaDictionary {
  words: WordDictionary;
  minWeight: number;
  medianWeight: number;
  averageIdf: number;
}

export function jiebaDictDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('nodejieba/package.json')), 'submodules', 'cppjieba', 'dict');
}

/** Version of the stored form; bump when the build or the layout changes. */
const STORED_FORMAT = 5;
const FILES = ['jieba.dict.utf8', 'user.dict.utf8', 'idf.utf8', 'stop_words.utf8'] as const;

/**
 * The dictionary, read from its stored arrays under `.data/segmenter/` when the same dictionary
 * files were built before (a few tens of ms), else built (about 2 s of CPU for 600,000 lines) and
 * stored for the next process. Storing is best effort: a read-only checkout just builds each time.
 */
export function loadJiebaDictionary(dir: string = jiebaDictDir(), storeDir: string = path.join(repoRoot, '.data', 'segmenter')): JiebaDictionary {
  const hash = createHash('sha1').update(`${STORED_FORMAT}`);
  for (const f of FILES) {
    const full = path.join(dir, f);
    const stat = statSync(full);
    hash.update(`\0${full}\0${stat.size}\0${stat.mtimeMs}`);
  }
  const stored = path.join(storeDir, `jieba-${hash.digest('hex').slice(0, 16)}.bin`);
  if (existsSync(stored)) {
    try {
      return decodeDictionary(readFileSync(stored));
    } catch {
      // A torn or foreign file: build again and replace it.
    }
  }
  const built = buildJiebaDictionary(dir);
  try {
    mkdirSync(storeDir, { recursive: true });
    const temp = `${stored}.${process.pid}.tmp`;
    // On disk before it is renamed into place: a crash leaves the old file or the whole new one.
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, encodeDictionary(built));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, stored);
    // Arrays of earlier dictionary files or formats, and temporaries of crashed writers, are never read again.
    for (const f of readdirSync(storeDir)) if (/^jieba-[0-9a-f]{16}\.bin(\.\d+\.tmp)?$/.test(f) && f !== path.basename(stored)) rmSync(path.join(storeDir, f), { force: true });
  } catch {
    // Not writable: the next process builds too.
  }
  return built;
}

/**
 * Stored form: a Float64 header (format, min and median weight, mean IDF, array lengths), then the
 * arrays, then the SHA-256 of all that: a file damaged anywhere is rebuilt, never misread.
 */
function encodeDictionary({ words, minWeight, medianWeight, averageIdf }: JiebaDictionary): Buffer {
  const { classOf, records, weights, idfs, pairs } = words.toArrays();
  const header = Float64Array.of(STORED_FORMAT, minWeight, medianWeight, averageIdf, records.length / 4, weights.length, idfs.length);
  const body = Buffer.concat([header, weights, idfs, records, classOf, pairs].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

const DIGEST_BYTES = 32;

function decodeDictionary(file: Buffer): JiebaDictionary {
  if (file.byteLength < DIGEST_BYTES) throw new Error('stored dictionary is truncated');
  const bytes = file.subarray(0, file.byteLength - DIGEST_BYTES);
  if (!createHash('sha256').update(bytes).digest().equals(file.subarray(bytes.byteLength))) throw new Error('stored dictionary is damaged');
  let offset = 0;
  /** A copy, so every array is aligned and owns its memory. */
  const take = (length: number) => {
    const out = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + length);
    if (out.byteLength !== length) throw new Error('stored dictionary is truncated');
    offset += length;
    return out;
  };
  const [format, minWeight, medianWeight, averageIdf, states, weightCount, idfCount] = new Float64Array(take(56));
  if (format !== STORED_FORMAT) throw new Error('stored dictionary has another format');
  const weights = new Float64Array(take(8 * weightCount!));
  const idfs = new Float64Array(take(8 * idfCount!));
  const records = new Int32Array(take(16 * states!));
  const classOf = new Uint16Array(take(2 * 65536));
  const pairs = new Uint8Array(take(PAIR_BYTES));
  if (offset !== bytes.byteLength) throw new Error('stored dictionary has trailing bytes');
  return { words: WordDictionary.fromArrays({ classOf, records, weights, idfs, pairs }), minWeight: minWeight!, medianWeight: medianWeight!, averageIdf: averageIdf! };
}

/** Builds the dictionary from jieba's files. */
export function buildJiebaDictionary(dir: string = jiebaDictDir()): JiebaDictionary {
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  const facts: WordFacts = { words: [], facts: [], values: [] };
  const add = (word: string, fact: WordFact, value: number) => {
    facts.words.push(word);
    facts.facts.push(fact);
    facts.values.push(value);
  };

  // Main dictionary: "word frequency tag" per line; a repeated word keeps its last line.
  const main = read('jieba.dict.utf8');
  const frequencies: number[] = [];
  forEachLine(main, (from, to) => {
    const space = main.indexOf(' ', from);
    if (space < 0 || space >= to) return;
    add(main.slice(from, space), 'weight', 0);
    frequencies.push(Number.parseFloat(main.slice(space + 1, to)));
  });
  let sum = 0;
  for (const f of frequencies) sum += f;
  const weights = Float64Array.from(frequencies, (f) => Math.log(f / sum));
  weights.forEach((w, i) => (facts.values[i] = w));
  const sortedWeights = weights.sort();
  const minWeight = sortedWeights[0]!;
  const medianWeight = sortedWeights[sortedWeights.length >> 1]!;

  // User dictionary: "word", "word tag" (median weight) or "word frequency tag".
  for (const line of read('user.dict.utf8').split('\n')) {
    const parts = line.split(' ');
    if (line.length === 0 || parts.length > 3) continue;
    add(parts[0]!, 'weight', parts.length === 3 ? Math.log(Number.parseInt(parts[1]!, 10) / sum) : medianWeight);
  }

  // IDF: "word idf"; the mean is over distinct words, each line's value summed (jieba's extractor).
  const idfText = read('idf.utf8');
  let idfSum = 0;
  const idfFrom = facts.words.length;
  forEachLine(idfText, (from, to) => {
    const space = idfText.lastIndexOf(' ', to - 1);
    if (space <= from) return;
    const idf = Number(idfText.slice(space + 1, to));
    if (!Number.isFinite(idf)) return;
    add(idfText.slice(from, space), 'idf', idf);
    idfSum += idf;
  });
  const idfWords = new Set(facts.words.slice(idfFrom)).size;

  for (const line of read('stop_words.utf8').split('\n')) {
    const word = line.trim();
    if (word.length > 0) add(word, 'stop', 0);
  }
  return { words: WordDictionary.build(facts), minWeight, medianWeight, averageIdf: idfWords > 0 ? idfSum / idfWords : 1 };
}

/** Calls `fn` with the bounds of every non-empty line of `text` (without its newline). */
function forEachLine(text: string, fn: (from: number, to: number) => void): void {
  for (let from = 0; from < text.length; ) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    if (to > from) fn(from, to);
    from = to + 1;
  }
}
