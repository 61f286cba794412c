import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodejieba from 'nodejieba';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVIEW_CORPORA, dataDir, readLabelledCsv } from '../../../bench/corpora.js';
import { configDir } from '../../../core/paths.js';
import { loadRulePacks } from '../../../core/rules/rule-pack.js';
import { compileRuleSet } from '../../../core/rules/rule-set.js';
import { jiebaDictDir, loadJiebaDictionary } from '../../../core/segment/jieba-dictionary.js';
import { WordCutter } from '../../../core/segment/word-cutter.js';
import { createSegmenter } from '../../../pipeline/ingest/segment.js';
import { ARTICLES, COMMENTS, MESSAGES, PLANTED_PARAGRAPHS } from '../../fixtures/demo-site/content.js';
import { FEED_ENTRIES } from '../../fixtures/demo-site/feed-content.js';
import { weiboPosts } from '../../fixtures/demo-site/weibo-content.js';
import { createNodejiebaSegmenter } from '../../support/nodejieba-segmenter.js';

/**
 * Parity with nodejieba (the segmenter we replaced, kept as the oracle): the same words for real
 * text — the demo site's articles, notices, posts, comments and messages always, and the review corpora of
 * ../shared/data (19,753 reviews) where they are present — and for mixed text.
 */
const fixtureTexts = [
  ...ARTICLES.flatMap((a) => [a.title, ...a.paragraphs]),
  ...Object.values(PLANTED_PARAGRAPHS),
  ...COMMENTS.flatMap((c) => [c.text, ...(c.replies ?? []).map((r) => r.text)]),
  ...MESSAGES.map((m) => JSON.stringify(m)),
  ...FEED_ENTRIES.flatMap((e) => [e.title, ...e.paragraphs]),
  ...weiboPosts(0).flatMap((p) => [p.text, ...(p.comments ?? []).flatMap((c) => [c.text, ...(c.replies ?? []).map((r) => r.text)])]),
];
const corpusTexts = REVIEW_CORPORA.every((f) => existsSync(path.join(dataDir, f))) ? REVIEW_CORPORA.flatMap((f) => readLabelledCsv(f).map((r) => r.text)) : [];

/** Two segmenters over 20,000 texts on a loaded shared machine. */
const CORPUS_TIMEOUT = 120_000;

const mixedTexts = [
  '',
  'iPhone15 Pro Max 售价 9999 元！',
  'https://weibo.com/u/123?a=b&c=d 转发微博',
  'e-mail: wang@qingshan.gov.cn，电话 0571-88886666。',
  '3.14159 和 1,000,000 元，增长 12.5%',
  '我爱😀北京，天安门。🇨🇳🇨🇳 👨‍👩‍👧 𠮷野家',
  '繁體中文：臺灣與香港的鐵路很方便',
  'ｈｅｌｌｏ　ｗｏｒｌｄ Ａ股今天大涨',
  '  \t\n\r\n\u3000\u3000全角空格  ',
  '。。。，，，   ！？……——',
  '城管暴力执法，引发群众不满；县里正在调查。',
  'a\ud83db 孤立的代理项',
];

/** nodejieba receives UTF-8, where an unpaired surrogate becomes U+FFFD; we keep the text's own unit. */
function asUtf8Sees(words: string[]): string[] {
  return words.map((w) => w.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

function differing<T>(texts: string[], ours: (t: string) => T, oracle: (t: string) => T): { text: string; ours: T; oracle: T }[] {
  const out: { text: string; ours: T; oracle: T }[] = [];
  for (const text of texts) {
    const a = ours(text);
    const b = oracle(text);
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ text, ours: a, oracle: b });
  }
  return out;
}

const lexicon = [...compileRuleSet(loadRulePacks(path.join(configDir, 'rules'))).words, 'iPhone', '中国', '𠮷野家', 'Ａ股', '区块链技术', '新冠 疫情'];

describe('our jieba cut against nodejieba.cut', () => {
  const cutter = new WordCutter(loadJiebaDictionary());
  const cut = (text: string) => {
    const words: string[] = [];
    const n = cutter.cut(text);
    for (let k = 0, start = 0; k < n; start = cutter.ends[k++]!) words.push(text.slice(start, cutter.ends[k]));
    return asUtf8Sees(words);
  };

  it('cuts real and mixed text into the same words', () => {
    const texts = [...fixtureTexts, ...corpusTexts, ...mixedTexts];
    expect(texts.length).toBeGreaterThan(100);
    expect(differing(texts, cut, (t) => nodejieba.cut(t))).toEqual([]);
  }, CORPUS_TIMEOUT);

  it('keeps a surrogate pair whole and cuts at separators', () => {
    expect(cut('我爱😀北京，天安门。 x')).toEqual(['我', '爱', '😀', '北京', '，', '天安门', '。', ' ', 'x']);
    expect(cut('')).toEqual([]);
  });
});

describe('the ingest segmenter against the nodejieba one it replaced', () => {
  // Made when the cut's tests have run: both dictionaries are process-wide and the lexicon joins them.
  let ours: ReturnType<typeof createSegmenter>;
  let oracle: ReturnType<typeof createNodejiebaSegmenter>;
  beforeAll(() => {
    ours = createSegmenter(lexicon);
    oracle = createNodejiebaSegmenter(lexicon);
  });

  it('gives the same tokens, words and keywords with the lexicon added as user words', () => {
    const texts = [...fixtureTexts, ...corpusTexts, ...mixedTexts.filter((t) => asUtf8Sees([t])[0] === t)];
    expect(differing(texts, ours, oracle)).toEqual([]);
  }, CORPUS_TIMEOUT);

  it.each([
    ['a lexicon term not in the dictionary stays whole', '城管暴力执法引发不满', '暴力执法'],
    ['a term with latin letters stays whole', '新款iPhone发布', 'iPhone'],
    ['a term with a character outside the BMP stays whole', '去𠮷野家吃饭', '𠮷野家'],
  ])('%s', (_name, text, word) => {
    expect(ours(text).words).toContain(word);
    expect(ours(text)).toEqual(oracle(text));
  });

  it('adds terms of a later call to the same process-wide dictionary, like insertWord', () => {
    const before = createSegmenter([]);
    expect(before('青山县舆情快报').words).not.toContain('舆情快报');
    createSegmenter(['舆情快报']);
    createNodejiebaSegmenter(['舆情快报']);
    expect(before('青山县舆情快报').words).toContain('舆情快报');
    expect(before('青山县舆情快报')).toEqual(oracle('青山县舆情快报'));
  });
});

describe('the stored dictionary', () => {
  const store = mkdtempSync(path.join(tmpdir(), 'qs-segment-'));
  afterAll(() => rmSync(store, { recursive: true, force: true }));

  it('is built once, stored, and read back to the same arrays', () => {
    const built = loadJiebaDictionary(jiebaDictDir(), store);
    expect(readdirSync(store)).toHaveLength(1);
    const read = loadJiebaDictionary(jiebaDictDir(), store);
    expect(read.medianWeight).toBe(built.medianWeight);
    expect(read.averageIdf).toBe(built.averageIdf);
    expect(Buffer.compare(Buffer.from(read.words.toArrays().records.buffer), Buffer.from(built.words.toArrays().records.buffer))).toBe(0);
    expect(read.words.toArrays().weights).toEqual(built.words.toArrays().weights);
    expect(read.words.toArrays().idfs).toEqual(built.words.toArrays().idfs);
  });

  it('rebuilds a stored file damaged anywhere (one flipped byte, a torn tail) instead of misreading it', () => {
    const file = path.join(store, readdirSync(store)[0]!);
    const good = readFileSync(file);
    const reference = loadJiebaDictionary(jiebaDictDir(), store);
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    for (const damaged of [flipped, good.subarray(0, good.length - 1000)]) {
      writeFileSync(file, damaged);
      const rebuilt = loadJiebaDictionary(jiebaDictDir(), store);
      expect(Buffer.compare(Buffer.from(rebuilt.words.toArrays().records.buffer), Buffer.from(reference.words.toArrays().records.buffer))).toBe(0);
      expect(readFileSync(file).equals(good)).toBe(true);
    }
  });
});
