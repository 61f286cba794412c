import type { Client } from '@elastic/elasticsearch';
import type { ApiToken } from '../../core/auth/api-token.js';
import type { User } from '../../core/auth/user.js';
import type { TokenStore, UserStore } from '../../core/auth/user-store.js';
import { ConflictError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { Coalescer, type Outcome } from './coalescer.js';
import { translateEsError } from './es-client.js';

/**
 * A document store keyed by id with create-only inserts and seq_no-guarded updates. Every signed-in
 * request reads its user by id, so the real-time reads of concurrent requests go as one `mget`.
 */
class EsDocuments<T extends object> {
  private readonly reads: Coalescer<string, T | undefined>;

  constructor(
    private readonly es: Client,
    private readonly index: string,
    private readonly what: string,
  ) {
    this.reads = new Coalescer((ids) => this.getMany(ids), { maxBatch: 500, maxInFlight: 2 });
  }

  get(id: string): Promise<T | undefined> {
    // An empty id would make Elasticsearch refuse the whole mget, failing its batch mates too.
    if (id.length === 0) return Promise.resolve(undefined);
    return this.reads.submit(id);
  }

  private async getMany(ids: string[]): Promise<Outcome<T | undefined>[]> {
    let docs;
    try {
      docs = (await this.es.mget<T>({ index: this.index, ids, realtime: true })).docs;
    } catch (err) {
      throw translateEsError(err, `get ${ids.length} ${this.what}s`);
    }
    return docs.map((doc, i): Outcome<T | undefined> => {
      if (!('error' in doc)) return { value: doc.found ? doc._source : undefined };
      if (doc.error.type === 'index_not_found_exception') return { value: undefined };
      return { error: new UnavailableError(`get ${this.what} ${ids[i]}: ${doc.error.type}: ${doc.error.reason ?? ''}`, 'elasticsearch_unavailable') };
    });
  }

  async list(sortField: string): Promise<T[]> {
    try {
      await this.es.indices.refresh({ index: this.index });
      const res = await this.es.search<T>({ index: this.index, size: 10_000, sort: [{ [sortField]: 'asc' }] });
      return res.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
    } catch (err) {
      throw translateEsError(err, `list ${this.what}s`);
    }
  }

  async create(id: string, doc: T): Promise<void> {
    try {
      await this.es.create({ index: this.index, id, document: doc, refresh: 'wait_for' });
    } catch (err) {
      const translated = translateEsError(err, `create ${this.what} ${id}`);
      if (translated instanceof ConflictError) throw new ConflictError(`${this.what} ${id} already exists`, `${this.what}_exists`);
      throw translated;
    }
  }

  async update(id: string, change: (current: T) => T): Promise<{ before: T; after: T }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let current;
      try {
        current = await this.es.get<T>({ index: this.index, id }, { ignore: [404] });
      } catch (err) {
        throw translateEsError(err, `get ${this.what} ${id}`);
      }
      if (!current.found || !current._source) throw new NotFoundError(`${this.what} ${id} does not exist`);
      const before = current._source;
      const after = change(before);
      try {
        await this.es.index({ index: this.index, id, document: after, if_seq_no: current._seq_no!, if_primary_term: current._primary_term!, refresh: 'wait_for' });
        return { before, after };
      } catch (err) {
        const translated = translateEsError(err, `update ${this.what} ${id}`);
        if (!(translated instanceof ConflictError)) throw translated;
      }
    }
    throw new ConflictError(`${this.what} ${id} changed five times while being updated; try again`);
  }
}

export class EsUserStore implements UserStore {
  private readonly docs: EsDocuments<User>;
  constructor(es: Client, index: string) {
    this.docs = new EsDocuments<User>(es, index, 'user');
  }
  get(username: string) {
    return this.docs.get(username);
  }
  list() {
    return this.docs.list('username');
  }
  create(user: User) {
    return this.docs.create(user.username, user);
  }
  update(username: string, change: (current: User) => User) {
    return this.docs.update(username, change);
  }
  async seed(users: readonly User[]): Promise<string[]> {
    const created: string[] = [];
    for (const user of users) {
      try {
        await this.docs.create(user.username, user);
        created.push(user.username);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return created;
  }
}

export class EsTokenStore implements TokenStore {
  private readonly docs: EsDocuments<ApiToken>;
  constructor(es: Client, index: string) {
    this.docs = new EsDocuments<ApiToken>(es, index, 'token');
  }
  get(id: string) {
    return this.docs.get(id);
  }
  list() {
    return this.docs.list('createdAt');
  }
  create(token: ApiToken) {
    return this.docs.create(token.id, token);
  }
  update(id: string, change: (current: ApiToken) => ApiToken) {
    return this.docs.update(id, change);
  }
}
