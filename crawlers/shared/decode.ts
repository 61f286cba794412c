import iconv from 'iconv-lite';

/**
 * Labels of the GB family. All are decoded as GB18030, the superset: pages that say gb2312 routinely
 * contain GBK characters (and GBK ones GB18030 characters such as rare name characters).
 */
const GB_FAMILY = new Set(['gbk', 'gb2312', 'gb_2312', 'gb_2312-80', 'gb-2312', 'x-gbk', 'gb18030', 'cp936', 'ms936', 'windows-936', 'euc-cn', 'x-euc-cn', 'csgb2312', 'csiso58gb231280', 'iso-ir-58', 'chinese']);
/** Labels browsers decode as windows-1252 (the WHATWG Encoding Standard). */
const LATIN1_FAMILY = new Set(['iso-8859-1', 'iso8859-1', 'latin1', 'l1', 'us-ascii', 'ascii', 'cp1252', 'windows-1252', 'cp819', 'ibm819']);
const BIG5_FAMILY = new Set(['big5', 'big5-hkscs', 'cn-big5', 'x-x-big5', 'csbig5']);
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8', 'x-unicode20utf8']);

/** How many leading bytes are searched for a `<meta>` declaration (browsers use 1024; CMS heads are longer). */
const SNIFF_BYTES = 4096;

function charsetFromContentType(contentType: string | undefined): string | undefined {
  const value = contentType?.match(/charset\s*=\s*["']?([^"';\s,]*)/i)?.[1];
  return value ? value.toLowerCase() : undefined;
}

function charsetFromMeta(head: string): string | undefined {
  const value =
    head.match(/<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([^"'\s/>;]+)/i)?.[1] ??
    head.match(/<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']+)["']/i)?.[1];
  return value ? value.toLowerCase() : undefined;
}

/** The iconv-lite name for a charset label, or undefined when it is not one we can decode. */
function canonical(label: string): string | undefined {
  if (UTF8_LABELS.has(label)) return 'utf-8';
  if (GB_FAMILY.has(label)) return 'gb18030';
  if (LATIN1_FAMILY.has(label)) return 'windows-1252';
  if (BIG5_FAMILY.has(label)) return 'big5hkscs';
  return iconv.encodingExists(label) ? label : undefined;
}

function isValidUtf8(body: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes a fetched page to text: a byte-order mark wins, then the Content-Type charset, then a
 * `<meta charset>` / `http-equiv` / `<?xml encoding?>` declaration in the first bytes, else UTF-8.
 * The GB family (gb2312, gbk, gb18030 and their aliases) is decoded as GB18030. A page that declares
 * nothing and is not valid UTF-8 is decoded as GB18030, the usual case on Chinese government sites.
 *
 * @returns the text and the encoding actually used (`utf-8`, `utf-16le`, `gb18030`, …)
 * @throws Error when the declared charset is unknown, instead of returning mojibake
 */
export function decodeHtml(body: Buffer, contentType?: string): { html: string; encoding: string } {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return { html: body.subarray(3).toString('utf8'), encoding: 'utf-8' };
  if (body[0] === 0xff && body[1] === 0xfe) return { html: iconv.decode(body.subarray(2), 'utf-16le'), encoding: 'utf-16le' };
  if (body[0] === 0xfe && body[1] === 0xff) return { html: iconv.decode(body.subarray(2), 'utf-16be'), encoding: 'utf-16be' };

  const fromHeader = charsetFromContentType(contentType);
  const fromMeta = fromHeader === undefined ? charsetFromMeta(body.subarray(0, SNIFF_BYTES).toString('latin1')) : undefined;
  const declared = fromHeader ?? fromMeta;
  if (declared === undefined) {
    if (isValidUtf8(body)) return { html: body.toString('utf8'), encoding: 'utf-8' };
    return { html: iconv.decode(body, 'gb18030'), encoding: 'gb18030' };
  }
  // A <meta> readable as ASCII cannot be in UTF-16: browsers take such a declaration as UTF-8.
  const encoding = fromMeta !== undefined && /^(utf-?16|ucs-?2)/.test(fromMeta) ? 'utf-8' : canonical(declared);
  if (encoding === undefined) {
    const where = fromHeader !== undefined ? `the Content-Type header "${contentType}"` : 'a <meta> tag';
    throw new Error(`cannot decode page: unknown charset "${declared}" declared in ${where}`);
  }
  if (encoding === 'utf-8') return { html: body.toString('utf8'), encoding };
  return { html: iconv.decode(body, encoding), encoding };
}
