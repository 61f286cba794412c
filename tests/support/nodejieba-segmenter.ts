/**
 * The segmenter as it was on nodejieba (until stop 11), kept as the oracle our own segmenter
 * (core/segment) is held to: the parity test compares every output with it, and the
 * classification bench runs it beside ours.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import nodejieba from 'nodejieba';
import type { Segmentation } from '../../pipeline/ingest/segment.js';

const KEYWORDS = 10;

let dictionaryLoaded = false;
let keywordModel: { idf: Map<string, number>; averageIdf: number; stop: Set<string> } | undefined;

/**
 * jieba's own IDF table and stop words, read once per process. Keywords are scored here from the
 * one cut rather than by `nodejieba.extract`, which cuts the text a second time (it was 60 % of
 * the segment stage's time); the scoring is jieba's: tf × idf, unknown words at the mean idf,
 * single characters and stop words left out.
 */
function loadKeywordModel(): NonNullable<typeof keywordModel> {
  if (keywordModel) return keywordModel;
  const require = createRequire(import.meta.url);
  const dict = path.join(path.dirname(require.resolve('nodejieba/package.json')), 'submodules', 'cppjieba', 'dict');
  const idf = new Map<string, number>();
  let sum = 0;
  for (const line of readFileSync(path.join(dict, 'idf.utf8'), 'utf8').split('\n')) {
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1));
    if (!Number.isFinite(value)) continue;
    idf.set(line.slice(0, space), value);
    sum += value;
  }
  const stop = new Set(
    readFileSync(path.join(dict, 'stop_words.utf8'), 'utf8')
      .split('\n')
      .map((w) => w.trim())
      .filter(Boolean),
  );
  keywordModel = { idf, averageIdf: idf.size > 0 ? sum / idf.size : 1, stop };
  return keywordModel;
}

/** Length in characters (code points), as jieba counts a "single word". */
function isSingleCharacter(word: string): boolean {
  return word.length === 1 || (word.length === 2 && word.codePointAt(0)! > 0xffff);
}

/**
 * nodejieba keeps one dictionary per process; domain terms (every lexicon term) are added to it so
 * that "暴力执法" stays one word instead of 暴力 + 执法. Calling again adds more terms.
 */
export function createNodejiebaSegmenter(domainTerms: readonly string[]): (text: string) => Segmentation {
  if (!dictionaryLoaded) {
    nodejieba.load();
    dictionaryLoaded = true;
  }
  for (const term of domainTerms) nodejieba.insertWord(term);
  const { idf, averageIdf, stop } = loadKeywordModel();
  return (text) => {
    // One map: first-seen order gives the words, counts give the term frequencies.
    let tokens = '';
    const tf = new Map<string, number>();
    for (const w of nodejieba.cut(text)) {
      // Only whitespace needs trimming; jieba's words of CJK text never carry it.
      const token = hasOuterSpace(w) ? w.trim() : w;
      if (token.length === 0) continue;
      tokens = tokens.length === 0 ? token : `${tokens} ${token}`;
      tf.set(w, (tf.get(w) ?? 0) + 1);
    }
    const words: string[] = [];
    const scored: [string, number][] = [];
    for (const [w, n] of tf) {
      if (w.length >= 2 && (!hasOuterSpace(w) || w.trim().length >= 2)) words.push(w);
      if (isSingleCharacter(w) || stop.has(w)) continue;
      scored.push([w, n * (idf.get(w) ?? averageIdf)]);
    }
    const keywords = scored
      .sort((a, b) => b[1] - a[1])
      .slice(0, KEYWORDS)
      .map(([w]) => w);
    return { tokens, words, keywords };
  };
}

/** Whether `trim()` would change the word: its first or last code unit is whitespace (or a line terminator / BOM). */
function hasOuterSpace(w: string): boolean {
  return w.length > 0 && (isSpace(w.charCodeAt(0)) || isSpace(w.charCodeAt(w.length - 1)));
}

function isSpace(c: number): boolean {
  if (c > 0x20 && c < 0x80) return false;
  return c <= 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff || c === 0x85;
}
