import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceSchema, type Source } from '../../core/sources/source.js';
import { RedisSourceRegistry, type StoredSource } from '../../crawlers/shared/source-registry.js';
import { isolation } from '../support/isolation.js';

const owner = { section: '县政府办公室', person: '李明' };
const rss = (name: string): Source => SourceSchema.parse({ id: 'county-rss', kind: 'rss', name, owner, everySeconds: 3600, entryPoints: ['http://127.0.0.1:9/rss.xml'], allowedHosts: ['127.0.0.1:9'] });

/** A registry whose reads hand control to `meanwhile` once, right after the read: what another client does between a read and the write behind it. */
class InterleavedRegistry extends RedisSourceRegistry {
  meanwhile: (() => Promise<void>) | undefined;
  override async get(id: string): Promise<StoredSource | undefined> {
    const read = await super.get(id);
    const step = this.meanwhile;
    this.meanwhile = undefined;
    await step?.();
    return read;
  }
}

/** The source registry on real Redis: the YAML seed and API edits made at the same time. */
describe('the source registry seed', () => {
  const iso = isolation();
  const seeder = new Redis(iso.redisUrl);
  const editor = new Redis(iso.redisUrl);

  afterAll(async () => {
    await seeder.quit();
    await editor.quit();
    await iso.cleanup();
  });

  it('a changed YAML never overwrites an edit saved through the API between the seed reading the source and writing it', async () => {
    await new RedisSourceRegistry(seeder, iso.redisPrefix).seed([rss('县政府订阅')]);
    const api = new RedisSourceRegistry(editor, iso.redisPrefix);
    const seeding = new InterleavedRegistry(seeder, iso.redisPrefix);
    seeding.meanwhile = async () => void (await api.update('county-rss', { ...rss('县政府订阅（管理员改）'), everySeconds: 600 }, 'admin'));

    // The next start brings a changed file.
    expect(await seeding.seed([rss('县政府订阅（新版配置）')])).toEqual({ added: [], updated: [] });

    const stored = await api.get('county-rss');
    expect(stored).toMatchObject({ origin: 'api', updatedBy: 'admin', version: 2, source: { name: '县政府订阅（管理员改）', everySeconds: 600 } });
  });

  it('a source still as the file had it follows the changed file', async () => {
    const seeding = new RedisSourceRegistry(seeder, iso.redisPrefix);
    const other = SourceSchema.parse({ ...rss('信息公开订阅'), id: 'xxgk-rss' });
    // What each seed wrote is told, for the audit trail.
    expect(await seeding.seed([other])).toEqual({ added: [other], updated: [] });
    expect(await seeding.seed([{ ...other, name: '信息公开订阅（新）' }])).toEqual({ added: [], updated: [{ before: other, after: { ...other, name: '信息公开订阅（新）' } }] });
    expect(await seeding.seed([{ ...other, name: '信息公开订阅（新）' }])).toEqual({ added: [], updated: [] });
    expect(await seeding.get('xxgk-rss')).toMatchObject({ origin: 'yaml', version: 2, source: { name: '信息公开订阅（新）' } });
  });
});
