import TSCharacters from 'opencc-js/dict/TSCharacters';

/**
 * The length-preserving fold: every UTF-16 code unit maps to exactly one code unit, so an offset
 * found in folded text is the offset in the original. `String.normalize('NFKC')` changes lengths
 * (①⑩ → 1, 10), so it cannot be the fold. Applied alike to terms and to scanned text:
 * - full-width ASCII → ASCII, ideographic space → space; upper case → lower case;
 * - number forms (①⑴⒈❶➀, 〇零一…九, 壹贰叁…玖, full-width digits) → ASCII digits 0–9;
 * - traditional → simplified, character by character (OpenCC's TSCharacters, first candidate);
 * - styled letters: enclosed Ⓐⓐ, and Mathematical Alphanumeric Symbols (U+1D400–1D7FF, the
 *   surrogate pair D835 xxxx) → ASCII letters and digits: the high surrogate becomes a skipped
 *   unit and the low surrogate the letter (see {@link STYLED_HIGH_SURROGATE}).
 */
export const STYLED_HIGH_SURROGATE = 0xd835;

const table = new Uint16Array(65536);
for (let i = 0; i < 65536; i++) table[i] = i;

const set = (from: number, to: number) => {
  table[from] = to;
};
const code = (s: string) => s.charCodeAt(0);

// Full-width ASCII and the ideographic space.
for (let c = 0xff01; c <= 0xff5e; c++) set(c, c - 0xfee0);
set(0x3000, 0x20);
// Traditional → simplified (single code unit on both sides only: astral forms are left as they are).
for (const pair of TSCharacters.split('|')) {
  const [trad, simp] = pair.split(' ');
  if (trad && simp && trad.length === 1 && simp.length >= 1 && simp.charCodeAt(0) < 0xd800) set(code(trad), code(simp));
}
// Upper → lower, after the width fold so full-width capitals end lower-case ASCII.
for (let c = 0; c < 65536; c++) {
  const t = table[c]!;
  if (t >= 0x41 && t <= 0x5a) table[c] = t + 32;
}
// Number forms → ASCII digits.
const digits = (start: number, first: number, count: number) => {
  for (let i = 0; i < count; i++) set(start + i, 0x30 + ((first + i) % 10));
};
digits(0x2460, 1, 9); // ①–⑨
digits(0x2474, 1, 9); // ⑴–⑼
digits(0x2488, 1, 9); // ⒈–⒐
digits(0x2776, 1, 9); // ❶–❾
digits(0x2780, 1, 9); // ➀–➈
digits(0x278a, 1, 9); // ➊–➒
set(0x24ea, 0x30); // ⓪
[...'〇零一二三四五六七八九'].forEach((c, i) => set(code(c), 0x30 + Math.max(0, i - 1)));
[...'壹贰叁肆伍陆柒捌玖'].forEach((c, i) => set(code(c), 0x31 + i));
// Enclosed letters Ⓐ–Ⓩ, ⓐ–ⓩ.
for (let i = 0; i < 26; i++) {
  set(0x24b6 + i, 0x61 + i);
  set(0x24d0 + i, 0x61 + i);
}

// Compose to a fixpoint, so a traditional form lands where its simplified form lands (貳 → 贰 → 2).
for (let round = 0; round < 3; round++) for (let c = 0; c < 65536; c++) table[c] = table[table[c]!]!;

/** Low surrogate after D835 → ASCII: the 1D400–1D7FF block cycles A–Z, a–z over styles, then digits. */
const styled = new Uint16Array(1024);
for (let cp = 0x1d400; cp <= 0x1d7ff; cp++) {
  const low = cp - 0x1d400;
  let out = 0;
  if (cp <= 0x1d6a3) {
    const k = low % 52;
    out = 0x61 + (k % 26); // capitals and small letters both fold to lower case
  } else if (cp >= 0x1d7ce) {
    out = 0x30 + ((cp - 0x1d7ce) % 10);
  }
  styled[low] = out;
}

export function foldStyledLow(low: number): number {
  return styled[low - 0xdc00] || low;
}

export const FOLD_TABLE: Readonly<Uint16Array> = table;

/** Folds a whole string, keeping its length (styled pairs become U+200B + letter). */
export function foldText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === STYLED_HIGH_SURROGATE && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        out += '\u200b' + String.fromCharCode(foldStyledLow(low));
        i++;
        continue;
      }
    }
    out += String.fromCharCode(table[c]!);
  }
  return out;
}
