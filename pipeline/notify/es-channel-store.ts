import type { Client, estypes } from '@elastic/elasticsearch';
import { ChannelSchema, type Channel } from '../../core/notify/channel.js';
import { ensureIndex } from '../elasticsearch/indices.js';
import { translateEsError } from '../elasticsearch/es-client.js';

/**
 * Notification channels, editable through the API; `channels.yaml` seeds the ones not stored yet.
 * Holds env var names only, never a secret's value. Workers read through a short cache, so an edit
 * takes effect within `cacheMs` everywhere without a restart.
 */
export class EsChannelStore {
  private cache: { at: number; channels: Channel[] } | undefined;

  constructor(
    private readonly es: Client,
    private readonly index: string,
    private readonly cacheMs = 5_000,
  ) {}

  async ensure(seed: Channel[]): Promise<void> {
    // Channels are a document each, validated on read: the mapping stays out of the way of new fields.
    await ensureIndex(this.es, this.index, { dynamic: false, properties: { id: { type: 'keyword' }, type: { type: 'keyword' } } } satisfies estypes.MappingTypeMapping);
    for (const channel of seed) {
      try {
        await this.es.create({ index: this.index, id: channel.id, document: channel, refresh: 'wait_for' });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 409) continue; // edited through the API since: keep the edit
        throw translateEsError(err, `seed channel ${channel.id}`);
      }
    }
  }

  async list(): Promise<Channel[]> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < this.cacheMs) return this.cache.channels;
    try {
      const res = await this.es.search<unknown>({ index: this.index, size: 500, sort: [{ id: 'asc' }] });
      const channels = res.hits.hits.flatMap((h) => {
        const parsed = ChannelSchema.safeParse(h._source);
        return parsed.success ? [parsed.data] : [];
      });
      this.cache = { at: now, channels };
      return channels;
    } catch (err) {
      throw translateEsError(err, 'list notification channels');
    }
  }

  async get(id: string): Promise<Channel | undefined> {
    return (await this.list()).find((c) => c.id === id);
  }

  async put(channel: Channel): Promise<void> {
    try {
      await this.es.index({ index: this.index, id: channel.id, document: channel, refresh: 'wait_for' });
      this.cache = undefined;
    } catch (err) {
      throw translateEsError(err, `save channel ${channel.id}`);
    }
  }
}
