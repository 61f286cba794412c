import type { Client, estypes } from '@elastic/elasticsearch';
import type { DeliveryOutcome, DeliveryOutcomeSink, NotifyJob } from '../../core/notify/notification.js';
import { ensureIndex } from '../elasticsearch/indices.js';
import { translateEsError } from '../elasticsearch/es-client.js';

export interface DeliveryRecord extends DeliveryOutcome {
  subject: NotifyJob['subject'];
}

const MAPPING: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    subject: { properties: { type: { type: 'keyword' }, id: { type: 'keyword' } } },
    jobId: { type: 'keyword' },
    channelId: { type: 'keyword' },
    channelType: { type: 'keyword' },
    status: { type: 'keyword' },
    at: { type: 'date' },
    attempts: { type: 'integer' },
    error: { type: 'text' },
    digestOf: { type: 'keyword' },
  },
};

/** Every delivery attempt's outcome, by subject (an alert, a ledger item …), for "who was told, and did it arrive?". */
export class EsDeliveryLog implements DeliveryOutcomeSink {
  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async ensure(): Promise<void> {
    await ensureIndex(this.es, this.index, MAPPING);
  }

  async record(subject: NotifyJob['subject'], outcome: DeliveryOutcome): Promise<void> {
    const doc: DeliveryRecord = { subject, ...outcome };
    try {
      // One document per job, attempt and status: a retried write of the same outcome is idempotent.
      await this.es.index({ index: this.index, id: `${outcome.jobId}-${outcome.attempts}-${outcome.status}`, document: doc, refresh: 'wait_for' });
    } catch (err) {
      throw translateEsError(err, 'record a notification outcome');
    }
  }

  async list(subject: Partial<NotifyJob['subject']>, limit = 200): Promise<DeliveryRecord[]> {
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (subject.type) filter.push({ term: { 'subject.type': subject.type } });
    if (subject.id) filter.push({ term: { 'subject.id': subject.id } });
    try {
      const res = await this.es.search<DeliveryRecord>({ index: this.index, size: limit, query: { bool: { filter } }, sort: [{ at: 'desc' }] });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, 'list notification outcomes');
    }
  }
}
