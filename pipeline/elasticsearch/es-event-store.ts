import type { Client } from '@elastic/elasticsearch';
import type { EventRecord } from '../../core/events/event.js';
import type { SignalRecord } from '../../core/signals/early-signal.js';
import type { BulkIndexer } from './bulk-indexer.js';
import { translateEsError } from './es-client.js';

export interface EventQuery {
  /** Events seen at or after this time. */
  since?: string;
  minHeat?: number;
  limit: number;
}

/** Where events live. Port: written whole with a version (newest state wins); merging alerts per event is the alert stage's. */
export interface EventStore {
  write(event: EventRecord): Promise<void>;
  get(id: string): Promise<EventRecord | undefined>;
  list(query: EventQuery): Promise<EventRecord[]>;
}

export class EsEventStore implements EventStore {
  constructor(
    private readonly es: Client,
    private readonly index: string,
    private readonly bulk: BulkIndexer,
  ) {}

  write(event: EventRecord): Promise<void> {
    return this.bulk.write({ index: this.index, id: event.id, document: event, externalVersion: event.version });
  }

  async get(id: string): Promise<EventRecord | undefined> {
    try {
      const res = await this.es.get<EventRecord>({ index: this.index, id }, { ignore: [404] });
      return res.found ? res._source : undefined;
    } catch (err) {
      throw translateEsError(err, `get event ${id}`);
    }
  }

  async list(query: EventQuery): Promise<EventRecord[]> {
    const filter = [
      ...(query.since ? [{ range: { lastSeen: { gte: query.since } } }] : []),
      ...(query.minHeat !== undefined ? [{ range: { heat: { gte: query.minHeat } } }] : []),
    ];
    try {
      const res = await this.es.search<EventRecord>({
        index: this.index,
        size: query.limit,
        query: { bool: { filter } },
        sort: [{ heat: 'desc' }, { lastSeen: 'desc' }],
      });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list events');
    }
  }
}

export interface SignalQuery {
  since?: string;
  scope?: string;
  limit: number;
}

/** Where early signals live. Port: append-only records with deterministic ids (one per key, bucket and reason). */
export interface SignalStore {
  write(signal: SignalRecord): Promise<void>;
  list(query: SignalQuery): Promise<SignalRecord[]>;
}

export class EsSignalStore implements SignalStore {
  constructor(
    private readonly es: Client,
    private readonly index: string,
    private readonly bulk: BulkIndexer,
  ) {}

  write(signal: SignalRecord): Promise<void> {
    return this.bulk.write({ index: this.index, id: signal.id, document: signal });
  }

  async list(query: SignalQuery): Promise<SignalRecord[]> {
    const filter = [
      ...(query.since ? [{ range: { detectedAt: { gte: query.since } } }] : []),
      ...(query.scope ? [{ term: { scope: query.scope } }] : []),
    ];
    try {
      const res = await this.es.search<SignalRecord>({ index: this.index, size: query.limit, query: { bool: { filter } }, sort: [{ detectedAt: 'desc' }] });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list signals');
    }
  }
}
