import type { Client } from '@elastic/elasticsearch';
import { InvalidInputError, UnavailableError } from '../../core/errors.js';
import { translateEsError } from './es-client.js';

export interface BulkWrite {
  index: string;
  id: string;
  document: unknown;
  /**
   * With an external version, a write older than the stored one is dropped by Elasticsearch and
   * counts as done (the newer state is already there).
   */
  externalVersion?: number;
}

export interface BulkIndexerOptions {
  /** Flush when this many writes wait. */
  maxDocs: number;
  /** Flush when the waiting writes reach this many bytes of JSON. */
  maxBytes: number;
  /** Flush this long after the first write of a batch arrived, however small the batch. */
  flushMs: number;
  /** Bulk requests in flight at once; further batches wait, and so do their callers. */
  maxInFlight: number;
}

export const DEFAULT_BULK_OPTIONS: BulkIndexerOptions = { maxDocs: 500, maxBytes: 5 * 1024 * 1024, flushMs: 15, maxInFlight: 2 };

interface Pending {
  write: BulkWrite;
  /** The document as sent: serialized once, for its size here and for the request body. */
  json: string;
  bytes: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Batches writes from many concurrent callers into `_bulk` requests. Each caller's promise settles
 * only when Elasticsearch has acknowledged its own document (acknowledged writes are in the
 * translog, fsynced per request by default), so a queue job awaiting it is never acknowledged for
 * a document that is not durably indexed.
 *
 * Failures keep their retry meaning per document: a rejected document (mapping error, immense
 * term) fails its caller alone with `InvalidInputError` (a poison item never fails its batch
 * mates); a whole request that fails, or an item refused with 429/5xx, fails with
 * `UnavailableError`.
 *
 * Backpressure: at most `maxInFlight` requests run; callers of a full buffer wait for them, and the
 * number of callers is bounded by the queue worker's concurrency.
 */
export class BulkIndexer {
  private buffer: Pending[] = [];
  private bufferBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly idle: (() => void)[] = [];
  private readonly opts: BulkIndexerOptions;

  constructor(
    private readonly es: Client,
    options: Partial<BulkIndexerOptions> = {},
  ) {
    this.opts = { ...DEFAULT_BULK_OPTIONS, ...options };
  }

  write(write: BulkWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      const json = JSON.stringify(write.document);
      const bytes = Buffer.byteLength(json);
      this.buffer.push({ write, json, bytes, resolve, reject });
      this.bufferBytes += bytes;
      if (this.buffer.length >= this.opts.maxDocs || this.bufferBytes >= this.opts.maxBytes) this.flushSoon(0);
      else this.flushSoon(this.opts.flushMs);
    });
  }

  /** Sends everything buffered and waits for every request in flight. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0 || this.inFlight > 0) {
      if (this.buffer.length > 0 && this.inFlight < this.opts.maxInFlight) void this.send();
      else await new Promise<void>((r) => this.idle.push(r));
    }
  }

  private flushSoon(delayMs: number): void {
    if (delayMs === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (this.inFlight < this.opts.maxInFlight) void this.send();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight < this.opts.maxInFlight) void this.send();
    }, delayMs);
  }

  private async send(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch: Pending[] = [];
    let bytes = 0;
    while (this.buffer.length > 0 && batch.length < this.opts.maxDocs && (batch.length === 0 || bytes < this.opts.maxBytes)) {
      const next = this.buffer.shift()!;
      batch.push(next);
      bytes += next.bytes;
    }
    this.bufferBytes -= bytes;
    this.inFlight++;
    try {
      await this.sendBatch(batch);
    } finally {
      this.inFlight--;
      for (const wake of this.idle.splice(0)) wake();
      if (this.buffer.length >= this.opts.maxDocs || this.bufferBytes >= this.opts.maxBytes) this.flushSoon(0);
      else if (this.buffer.length > 0) this.flushSoon(this.opts.flushMs);
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    // A string line goes into the request body as it is (the client's ndjson serializer).
    const operations = batch.flatMap(({ write, json }) => [
      {
        index: {
          _index: write.index,
          _id: write.id,
          ...(write.externalVersion !== undefined ? { version: write.externalVersion, version_type: 'external' as const } : {}),
        },
      },
      json as unknown as object,
    ]);
    let items;
    try {
      items = (await this.es.bulk({ operations, refresh: false })).items;
    } catch (err) {
      const translated = translateEsError(err, `bulk write of ${batch.length} documents`);
      const error = translated instanceof UnavailableError ? translated : new UnavailableError(translated.message, 'elasticsearch_unavailable', { cause: translated });
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const result = items[i]?.index;
      const status = result?.status ?? 500;
      if (status < 300) return p.resolve();
      // A stale external version: a newer state of this document is already stored.
      if (status === 409 && p.write.externalVersion !== undefined) return p.resolve();
      const reason = result?.error ? `${result.error.type}: ${result.error.reason ?? ''}` : `status ${status}`;
      const what = `index ${p.write.index}/${p.write.id}`;
      // Only 400 says the document itself is bad; anything else (429, 5xx, a missing index) may pass later.
      if (status === 400) p.reject(new InvalidInputError(`${what}: Elasticsearch rejected the document (${reason})`, 'document_rejected'));
      else p.reject(new UnavailableError(`${what}: Elasticsearch answered ${status} (${reason})`, 'elasticsearch_unavailable'));
    });
  }
}
