import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ExtractedItem } from '../../core/posts/collected-item.js';
import { InvalidInputError } from '../../core/errors.js';
import { parseChineseDate } from '../shared/dates.js';
import { absolute, cleanText } from '../shared/html.js';
import { htmlToText, toBeijingIso } from '../platform/text.js';

/** Longest feed accepted; real feeds are well under 1 MB. */
export const MAX_FEED_CHARS = 5_000_000;
/** Items taken from one feed (hostile feeds could list millions). */
export const MAX_FEED_ITEMS = 1_000;

export interface Feed {
  format: 'rss' | 'atom';
  title: string;
  items: ExtractedItem[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  // Titles such as "2026" or "1e5" stay strings.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => ['item', 'entry', 'link', 'category', 'author', 'creator'].includes(name),
});

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Text of an element that may carry attributes (`{ '#text': …, '@type': … }`) or be repeated. */
function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return textOf(value[0]);
  if (isNode(value)) {
    if ('#text' in value) return textOf(value['#text']);
    // Atom `type="xhtml"` content arrives as elements: join their text.
    return Object.entries(value)
      .filter(([k]) => !k.startsWith('@'))
      .map(([, v]) => textOf(v))
      .join(' ');
  }
  return '';
}

function dateOf(raw: string): string | undefined {
  const value = raw.trim();
  if (!value) return undefined;
  // RFC 822 (RSS) and RFC 3339 (Atom) carry their own offset; Chinese CMS feeds often print local time.
  if (/^[A-Za-z]{3},|[+-]\d{2}:?\d{2}$|Z$|GMT|UTC|CST$/.test(value)) {
    const t = Date.parse(value.replace(/\bCST$/, '+0800'));
    if (!Number.isNaN(t)) return toBeijingIso(new Date(t));
  }
  return parseChineseDate(value);
}

/** A stable id for an item that has neither link nor guid: hash of what it says. */
function fallbackId(parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

function rssItem(item: Node, feedUrl: string): ExtractedItem | undefined {
  const title = cleanText(htmlToText(textOf(item.title)));
  const guid = cleanText(textOf(item.guid));
  const link = absolute(textOf(item.link), feedUrl) ?? (/^https?:/i.test(guid) ? absolute(guid, feedUrl) : undefined);
  const body = textOf(item.encoded) || textOf(item.description);
  const text = htmlToText(body);
  if (!title && !text) return undefined;
  const publishedAt = dateOf(textOf(item.pubDate) || textOf(item.date));
  const author = cleanText(textOf(item.author) || textOf(item.creator));
  const platformId = guid || undefined;
  return {
    kind: 'article',
    url: link ?? `${feedUrl.replace(/#.*$/, '')}#item-${fallbackId([platformId ?? '', title, text])}`,
    ...(platformId ? { platformId } : {}),
    title,
    text,
    ...(publishedAt ? { publishedAt } : {}),
    ...(author ? { author } : {}),
  };
}

function atomLink(entry: Node, base: string): string | undefined {
  const links = Array.isArray(entry.link) ? (entry.link as unknown[]) : [];
  const candidates = links.filter(isNode);
  const chosen = candidates.find((l) => l['@rel'] === undefined || l['@rel'] === 'alternate') ?? candidates[0];
  return absolute(typeof chosen?.['@href'] === 'string' ? chosen['@href'] : undefined, base);
}

function atomItem(entry: Node, feedUrl: string): ExtractedItem | undefined {
  const title = cleanText(htmlToText(textOf(entry.title)));
  const id = cleanText(textOf(entry.id));
  const content = isNode(entry.content) || typeof entry.content === 'string' ? entry.content : entry.summary;
  const type = isNode(content) ? String(content['@type'] ?? 'text') : 'text';
  const raw = textOf(content);
  const text = type === 'text' ? cleanText(raw) : htmlToText(raw);
  if (!title && !text) return undefined;
  const link = atomLink(entry, feedUrl) ?? (/^https?:/i.test(id) ? absolute(id, feedUrl) : undefined);
  const publishedAt = dateOf(textOf(entry.published) || textOf(entry.updated));
  const authors = Array.isArray(entry.author) ? (entry.author as unknown[]) : [];
  const author = cleanText(authors.filter(isNode).map((a) => textOf(a.name)).filter(Boolean).join('、'));
  return {
    kind: 'article',
    url: link ?? `${feedUrl.replace(/#.*$/, '')}#item-${fallbackId([id, title, text])}`,
    ...(id ? { platformId: id } : {}),
    title,
    text,
    ...(publishedAt ? { publishedAt } : {}),
    ...(author ? { author } : {}),
  };
}

/**
 * Items of an RSS 2.0 (also 0.9x/RSS 1.0 `rdf:RDF`) or Atom 1.0 feed, already decoded to text
 * (`decodeHtml` honours `<?xml encoding="GBK"?>`). Item bodies are HTML stripped to plain text;
 * links are absolute http(s) or the item gets a stable `feed#item-…` URL.
 *
 * @throws InvalidInputError (`feed_invalid`) when the text is not well-formed XML or not a feed,
 *   naming the line and what is wrong
 */
export function extractFeed(xml: string, feedUrl: string): Feed {
  if (xml.length > MAX_FEED_CHARS) throw new InvalidInputError(`feed ${feedUrl} is ${xml.length} characters long (more than ${MAX_FEED_CHARS}); refusing to parse it`, 'feed_invalid');
  // A DOCTYPE can declare entities that expand exponentially; feeds never need one.
  const text = xml.replace(/^\uFEFF/, '').replace(/<!DOCTYPE[^[>]*(\[[\s\S]*?\])?\s*>/gi, '');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new InvalidInputError(`feed ${feedUrl} is not well-formed XML: line ${valid.err.line}: ${valid.err.msg}`, 'feed_invalid');
  const doc = parser.parse(text) as Node;
  const rss = isNode(doc.rss) ? doc.rss : isNode(doc.RDF) ? doc.RDF : undefined;
  if (rss) {
    const channel = isNode(rss.channel) ? rss.channel : Array.isArray(rss.channel) && isNode(rss.channel[0]) ? (rss.channel[0] as Node) : {};
    // RSS 1.0 puts items beside the channel, RSS 2.0 inside it.
    const items = ([] as unknown[]).concat(channel.item ?? [], rss.item ?? []).filter(isNode).slice(0, MAX_FEED_ITEMS);
    return { format: 'rss', title: cleanText(textOf(channel.title)), items: items.map((i) => rssItem(i, feedUrl)).filter((i): i is ExtractedItem => i !== undefined) };
  }
  if (isNode(doc.feed)) {
    const entries = (Array.isArray(doc.feed.entry) ? (doc.feed.entry as unknown[]) : []).filter(isNode).slice(0, MAX_FEED_ITEMS);
    return { format: 'atom', title: cleanText(htmlToText(textOf(doc.feed.title))), items: entries.map((e) => atomItem(e, feedUrl)).filter((i): i is ExtractedItem => i !== undefined) };
  }
  const root = Object.keys(doc).find((k) => !k.startsWith('?')) ?? '(none)';
  throw new InvalidInputError(`${feedUrl} is not an RSS or Atom feed (its root element is <${root}>)`, 'feed_invalid');
}
