/**
 * Characters no XML document may hold (C0 controls but tab and line breaks, DEL, U+FFFE, U+FFFF).
 * A page's `&#xFFFF;` or `&#1;` decodes into them, and Word, LibreOffice and resvg refuse a file with one.
 */
// eslint-disable-next-line no-control-regex -- these controls are exactly what is removed
const NOT_XML = /[\0-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFE\uFFFF]/g;

/**
 * Crawled text as every office file and SVG accepts it: the characters above removed and lone
 * surrogates replaced (U+FFFD). Applied when text is normalised and again when it is rendered,
 * since documents indexed before normalisation did this still carry them.
 */
export function xmlSafeText(text: string): string {
  return text.toWellFormed().replace(NOT_XML, '');
}
