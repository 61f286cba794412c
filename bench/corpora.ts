import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../core/paths.js';

/** Evaluation corpora that may not be shipped live in `../shared/data` (or `QIANSHAO_DATA_DIR`). */
export const dataDir = path.resolve(process.env.QIANSHAO_DATA_DIR ?? path.join(repoRoot, '..', 'shared', 'data'));

export interface LabelledReview {
  positive: boolean;
  text: string;
}

/** Reads a `label,review` CSV (RFC 4180 quoting; 1 = positive). */
export function readLabelledCsv(file: string): LabelledReview[] {
  const full = path.join(dataDir, file);
  if (!existsSync(full)) throw new Error(`${full} is missing: benchmarks read ../shared/data (or QIANSHAO_DATA_DIR)`);
  const text = readFileSync(full, 'utf8');
  const rows: LabelledReview[] = [];
  let i = text.indexOf('\n') + 1;
  while (i < text.length) {
    const comma = text.indexOf(',', i);
    if (comma < 0) break;
    const label = text.slice(i, comma).trim();
    let j = comma + 1;
    let review = '';
    if (text[j] === '"') {
      j++;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          review += text.slice(j);
          j = text.length;
          break;
        }
        review += text.slice(j, q);
        if (text[q + 1] === '"') {
          review += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      const nl = text.indexOf('\n', j);
      i = nl < 0 ? text.length : nl + 1;
    } else {
      const nl = text.indexOf('\n', j);
      review = text.slice(j, nl < 0 ? text.length : nl).replace(/\r$/, '');
      i = nl < 0 ? text.length : nl + 1;
    }
    if (label === '0' || label === '1') rows.push({ positive: label === '1', text: review });
  }
  return rows;
}

export const REVIEW_CORPORA = ['ChnSentiCorp_htl_all.csv', 'waimai_10k.csv'] as const;

/** `count` words of jieba's dictionary of two or more CJK characters, sampled evenly (a word may repeat when `count` is near the dictionary's size). */
export function jiebaLexicon(count: number): string[] {
  const dict = readFileSync(createRequire(import.meta.url).resolve('nodejieba/submodules/cppjieba/dict/jieba.dict.utf8'), 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((w) => w.length >= 2 && /^[\u4e00-\u9fff]+$/.test(w));
  const step = dict.length / count;
  return Array.from({ length: count }, (_, i) => dict[Math.floor(i * step)]!);
}
