/**
 * `qianshao crawl --source <yaml file | id | url> --once --out items.jsonl`: one crawl of one
 * position without Redis, Elasticsearch or a queue. Every item collected is one JSON line; the run's
 * report goes to stderr. Meant for trying a site (also one nobody has profiled: the automatic
 * fallback extraction applies) and for evaluation.
 */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import type { CollectedItem } from '../core/posts/collected-item.js';
import { configDir } from '../core/paths.js';
import { InvalidInputError } from '../core/errors.js';
import { isPageSource, loadSources, SourceSchema, withDefaultHosts, type Source } from '../core/sources/source.js';
import { createApiCollectors } from '../crawlers/api-collectors.js';
import { crawlPosition } from '../crawlers/crawl-position.js';
import { MemoryCrawlState } from '../crawlers/shared/crawl-state.js';
import { CRAWL_ERROR_CLASSES } from '../crawlers/shared/crawl-error.js';
import { DiskEvidenceStore } from '../crawlers/shared/evidence-store.js';

export const CRAWL_USAGE = 'usage: qianshao crawl --source <sources.yaml | source id | http(s) URL> [--id <id>] --once [--out items.jsonl] [--max-pages N] [--render static|browser|browser-lists] [--delay-ms N] [--ignore-robots] [--evidence <dir>] [--screenshot] [--kind website|message-board|rss]';

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function parseOne(raw: unknown, where: string): Source {
  const result = SourceSchema.safeParse(raw);
  if (!result.success) {
    const msg = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidInputError(`${where}: ${msg}`, 'sources_invalid');
  }
  return withDefaultHosts(result.data);
}

/**
 * The source named by `--source`: a URL (an ad-hoc website position), a YAML file (a `sources:` list,
 * narrowed by `--id`, or a single source), or the id of a source in `config/sources.yaml`.
 */
export function resolveCliSource(argv: readonly string[]): Source {
  const given = option(argv, 'source');
  if (!given) throw new InvalidInputError(`--source is required\n${CRAWL_USAGE}`, 'usage');
  const id = option(argv, 'id');
  if (/^https?:\/\//i.test(given)) {
    const kind = option(argv, 'kind') ?? 'website';
    const host = new URL(given).host;
    return parseOne({ id: (id ?? host.replace(/[^a-z0-9]+/gi, '-').toLowerCase()).replace(/^-+|-+$/g, '') || 'site', kind, name: host, owner: { section: '未指定', person: '未指定' }, entryPoints: [given] }, given);
  }
  if (existsSync(given)) {
    const doc = parseYaml(readFileSync(given, 'utf8').replace(/\$\{([A-Z0-9_]+)\}/g, (_w, name: string) => process.env[name] ?? '')) as unknown;
    if (doc && typeof doc === 'object' && 'sources' in doc) {
      const sources = loadSources(given);
      const chosen = id ? sources.find((s) => s.id === id) : sources.length === 1 ? sources[0] : undefined;
      if (!chosen) throw new InvalidInputError(`${given}: ${id ? `no source "${id}"` : `holds ${sources.length} sources; choose one with --id (${sources.map((s) => s.id).join(', ')})`}`, 'usage');
      return chosen;
    }
    return parseOne(doc, given);
  }
  const file = path.join(configDir, 'sources.yaml');
  if (!existsSync(file)) throw new InvalidInputError(`"${given}" is neither a file, a URL, nor a source id (${file} is missing)`, 'usage');
  const found = loadSources(file).find((s) => s.id === given);
  if (!found) throw new InvalidInputError(`no source "${given}" in ${file}`, 'usage');
  return found;
}

/** Applies the command line's overrides (page cap, render mode, politeness) to the source. */
function withOverrides(source: Source, argv: readonly string[]): Source {
  if (!isPageSource(source)) return source;
  const maxPages = option(argv, 'max-pages');
  const delayMs = option(argv, 'delay-ms');
  const render = option(argv, 'render');
  if (render !== undefined && render !== 'static' && render !== 'browser' && render !== 'browser-lists') throw new InvalidInputError(`--render: static, browser or browser-lists, not "${render}"`, 'usage');
  const n = (v: string, name: string) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 0) throw new InvalidInputError(`--${name}: a whole number, not "${v}"`, 'usage');
    return x;
  };
  return {
    ...source,
    ...(render ? { render } : {}),
    crawl: {
      ...source.crawl,
      ...(maxPages ? { maxPages: Math.max(1, n(maxPages, 'max-pages')) } : {}),
      ...(delayMs ? { delayMs: n(delayMs, 'delay-ms') } : {}),
      ...(argv.includes('--ignore-robots') ? { robotsTxt: 'ignore' as const } : {}),
    },
  };
}

/** One output line: the item in the shape evaluators read (snake_case, hashes together). */
export function itemLine(item: CollectedItem): string {
  return JSON.stringify({
    kind: item.kind,
    source: item.sourceId,
    url: item.url,
    ...(item.platformId ? { platform_id: item.platformId } : {}),
    title: item.title ?? null,
    text: item.text,
    published_at: item.publishedAt ?? null,
    author: item.author ?? null,
    parent: item.parentRef ?? null,
    ...(item.reply ? { reply: { text: item.reply.text, at: item.reply.at ?? null, by: item.reply.by ?? null } } : {}),
    attachments: (item.attachments ?? []).map((a) => ({ url: a.url, name: a.name, text: a.text ?? null, ...(a.error ? { error: a.error } : {}) })),
    change: item.change ?? 'new',
    hashes: { content: item.contentHash ?? null, ...(item.previousHash ? { previous: item.previousHash } : {}), ...(item.snapshot ? { snapshot: item.snapshot.sha256 } : {}), ...(item.screenshot ? { screenshot: item.screenshot.sha256 } : {}) },
    collected_at: item.collectedAt,
  });
}

/** Runs the command; 0 when the run succeeded, 1 when the position could not be crawled, 2 on bad usage. */
export async function crawlCommand(argv: readonly string[], io: { stdout: Writable; stderr: Writable }): Promise<number> {
  if (!argv.includes('--once')) {
    io.stderr.write(`qianshao crawl runs one crawl and exits: add --once (scheduled crawling is the crawler role's job)\n${CRAWL_USAGE}\n`);
    return 2;
  }
  let source: Source;
  try {
    source = withOverrides(resolveCliSource(argv), argv);
  } catch (err) {
    io.stderr.write(`qianshao crawl: ${(err as Error).message}\n`);
    return 2;
  }
  if (source.kind === 'push') {
    io.stderr.write(`qianshao crawl: source ${source.id} receives items at POST /api/ingest; it is not crawled\n`);
    return 2;
  }
  const outFile = option(argv, 'out');
  const out: Writable = outFile ? createWriteStream(outFile) : io.stdout;
  // A reader that stops early (`| head`) ends the output, not the process with a stack trace.
  let closed = false;
  out.on('error', (err: NodeJS.ErrnoException) => {
    closed = true;
    if (err.code !== 'EPIPE') io.stderr.write(`qianshao crawl: cannot write ${outFile ?? 'stdout'}: ${err.message}\n`);
  });
  const evidenceDir = option(argv, 'evidence');
  let lines = 0;
  const report = await crawlPosition(source, {
    collectors: createApiCollectors({ prefix: 'cli' }),
    state: new MemoryCrawlState(),
    ...(evidenceDir ? { evidence: new DiskEvidenceStore(path.resolve(evidenceDir)) } : {}),
    maxRequests: 1000,
    timeoutSeconds: 15,
    screenshot: argv.includes('--screenshot'),
    onItem: async (item) => {
      lines++;
      if (closed) return;
      if (!out.write(`${itemLine(item)}\n`)) await new Promise((r) => out.once('drain', r));
    },
  });
  if (outFile) await new Promise<void>((resolve) => out.end(() => resolve()));
  const { failures, ...summary } = report;
  io.stderr.write(`${JSON.stringify({ ...summary, failures: failures.length, firstFailures: failures.slice(0, 10), out: outFile ?? 'stdout', lines })}\n`);
  if (report.outcome === 'failed') {
    const cause = report.error?.cause ?? (report.error ? CRAWL_ERROR_CLASSES[report.error.errorClass].cause : '原因未知');
    io.stderr.write(`qianshao crawl: ${source.id} failed: ${cause} (${report.error?.message ?? 'no entry point was read'})\n`);
  }
  return report.outcome === 'ok' ? 0 : 1;
}
