import nodejieba from 'nodejieba';

export interface Segmentation {
  /** Every word in order, joined by single spaces (whitespace-free tokens; punctuation kept). */
  tokens: string;
  /** Distinct words of two or more characters, in first-seen order. */
  words: string[];
  /** Top TF-IDF keywords, for word clouds. */
  keywords: string[];
}

let dictionaryLoaded = false;

/**
 * nodejieba keeps one dictionary per process; domain terms (every lexicon term) are added to it so
 * that "暴力执法" stays one word instead of 暴力 + 执法.
 */
export function createSegmenter(domainTerms: readonly string[]): (text: string) => Segmentation {
  if (!dictionaryLoaded) {
    nodejieba.load();
    dictionaryLoaded = true;
  }
  for (const term of domainTerms) nodejieba.insertWord(term);
  return (text) => {
    const cut = nodejieba.cut(text).filter((w) => w.trim().length > 0);
    const words = [...new Set(cut.filter((w) => w.trim().length >= 2))];
    const keywords = nodejieba.extract(text, 10).map((k) => k.word);
    return { tokens: cut.map((w) => w.trim()).join(' '), words, keywords };
  };
}
