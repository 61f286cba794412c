/**
 * The first `max` characters of `text`, counted in code points so an emoji or a rare CJK character
 * outside the BMP is never cut in half (half a surrogate pair makes `encodeURIComponent` throw and
 * XML writers refuse the file). `mark` is appended when something was cut.
 */
export function clip(text: string, max: number, mark = ''): string {
  let end = 0;
  let count = 0;
  for (const ch of text) {
    if (count === max) return `${text.slice(0, end)}${mark}`;
    end += ch.length;
    count++;
  }
  return text;
}

/** Text on one line: every run of whitespace (line breaks too) as one space, trimmed. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
