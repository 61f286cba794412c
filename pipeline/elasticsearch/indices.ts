import type { Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import type { Alert } from '../../core/alerts/alert.js';
import { alertDocument } from '../../core/alerts/sla-timeliness.js';
import { translateEsError } from './es-client.js';
import { LEDGER_MAPPING } from './es-ledger-store.js';

type MappingTypeMapping = estypes.MappingTypeMapping;

/**
 * Mappings use only the server's core features (standard and whitespace analyzers, keyword, date,
 * nested), so the embedded node and the full docker image serve them alike: no Painless, no
 * delete-by-query, no cjk analyzer.
 *
 * - `title`/`text` use `standard`, which splits CJK into single characters: recall for any query,
 *   and `match_phrase` gives exact Chinese substring matching.
 * - `tokens` is the jieba segmentation joined by spaces, analysed by `whitespace`: exact word
 *   search ("执法" does not match a post segmented as "暴力执法").
 * - `dynamic: false` (not strict): fields other stages add later (privacy findings, schemes) are
 *   kept in `_source` without being indexed, so a new classification field never makes a post
 *   unindexable. Declare a field here before filtering on it.
 */
export const POSTS_MAPPING: MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: { type: 'keyword' },
    sourceId: { type: 'keyword' },
    kind: { type: 'keyword' },
    url: { type: 'keyword', ignore_above: 4096 },
    platformId: { type: 'keyword', ignore_above: 512 },
    parentRef: { type: 'keyword', ignore_above: 4096 },
    title: { type: 'text', analyzer: 'standard', fields: { raw: { type: 'keyword', ignore_above: 512 } } },
    text: { type: 'text', analyzer: 'standard' },
    tokens: { type: 'text', analyzer: 'whitespace' },
    author: { type: 'keyword', ignore_above: 256 },
    /** The post's own time: published time when the page gives one, else first collection. */
    at: { type: 'date' },
    publishedAt: { type: 'date' },
    collectedAt: { type: 'date' },
    indexedAt: { type: 'date' },
    contentHash: { type: 'keyword' },
    // What the collector saw (new / edited / deleted) and the evidence it kept.
    change: { type: 'keyword' },
    previousHash: { type: 'keyword' },
    attachments: { properties: { url: { type: 'keyword' }, name: { type: 'keyword', ignore_above: 256 }, text: { type: 'text', analyzer: 'standard' }, error: { type: 'keyword', index: false }, contentHash: { type: 'keyword' } } },
    snapshot: { properties: { sha256: { type: 'keyword' }, path: { type: 'keyword', index: false } } },
    screenshot: { properties: { sha256: { type: 'keyword' }, path: { type: 'keyword', index: false } } },
    reply: { properties: { text: { type: 'text', analyzer: 'standard' }, at: { type: 'date' }, by: { type: 'keyword', ignore_above: 256 } } },
    words: { type: 'keyword', ignore_above: 64 },
    keywords: { type: 'keyword', ignore_above: 64 },
    maxLevel: { type: 'byte' },
    categories: { type: 'keyword' },
    terms: { type: 'keyword', ignore_above: 256 },
    eventId: { type: 'keyword' },
    hits: {
      type: 'nested',
      properties: {
        term: { type: 'keyword', ignore_above: 256 },
        packId: { type: 'keyword' },
        category: { type: 'keyword' },
        level: { type: 'byte' },
        field: { type: 'keyword' },
        start: { type: 'integer' },
        end: { type: 'integer' },
        suggestion: { type: 'keyword', ignore_above: 256 },
        matched: { type: 'keyword' },
        packVersion: { type: 'integer' },
        domain: { type: 'keyword' },
        tags: { type: 'keyword' },
        variant: { type: 'keyword' },
      },
    },
    // Classification beyond lexicon hits: filterable keys are mapped, explanations are stored only.
    schemes: {
      type: 'nested',
      properties: {
        packId: { type: 'keyword' },
        packVersion: { type: 'integer' },
        schemeId: { type: 'keyword' },
        name: { type: 'keyword' },
        level: { type: 'byte' },
        domain: { type: 'keyword' },
        tags: { type: 'keyword' },
        outcome: { type: 'keyword' },
        fired: { type: 'boolean' },
        proximity: { type: 'integer' },
        groups: { type: 'object', enabled: false },
        exclusion: { type: 'object', enabled: false },
      },
    },
    privacy: {
      type: 'nested',
      properties: {
        kind: { type: 'keyword' },
        label: { type: 'keyword' },
        field: { type: 'keyword' },
        start: { type: 'integer' },
        end: { type: 'integer' },
        masked: { type: 'keyword' },
        level: { type: 'byte' },
      },
    },
    sentiment: {
      properties: {
        score: { type: 'float' },
        label: { type: 'keyword' },
        method: { type: 'keyword' },
        lexicon: { type: 'float' },
        naiveBayes: { type: 'float' },
        evidence: { type: 'object', enabled: false },
      },
    },
    domain: { type: 'keyword' },
    domainScores: { type: 'object', enabled: false },
    level: { type: 'byte' },
    levelReason: { type: 'object', enabled: false },
    rulesVersion: { type: 'keyword' },
    // The post's own history (core/posts/post-change.ts): a deletion mark and earlier wordings.
    // New fields only, so `ensureIndices` adds them to existing monthly indices in place.
    firstSeenAt: { type: 'date' },
    editedAt: { type: 'date' },
    restoredAt: { type: 'date' },
    deleted: { properties: { at: { type: 'date' }, crawl: { properties: { sourceId: { type: 'keyword' }, at: { type: 'date' } } }, previousHash: { type: 'keyword' } } },
    versions: { type: 'object', enabled: false },
    pastDeletions: { type: 'object', enabled: false },
  },
};

export const ALERTS_MAPPING: MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: { type: 'keyword' },
    packId: { type: 'keyword' },
    category: { type: 'keyword' },
    level: { type: 'byte' },
    status: { type: 'keyword' },
    title: { type: 'text', fields: { raw: { type: 'keyword', ignore_above: 512 } } },
    sourceId: { type: 'keyword' },
    domain: { type: 'keyword' },
    groupKey: { type: 'keyword' },
    eventId: { type: 'keyword' },
    postIds: { type: 'keyword' },
    terms: { type: 'keyword' },
    hits: { type: 'object', enabled: false },
    heat: { type: 'integer' },
    sentiment: { type: 'float' },
    assignee: { properties: { kind: { type: 'keyword' }, id: { type: 'keyword' }, name: { type: 'keyword' } } },
    acknowledgedAt: { type: 'date' },
    acknowledgedBy: { type: 'keyword' },
    respondedAt: { type: 'date' },
    pressConferenceAt: { type: 'date' },
    closedAt: { type: 'date' },
    falsePositiveReason: { type: 'text' },
    cycleStartedAt: { type: 'date' },
    reopenCount: { type: 'integer' },
    escalationStep: { type: 'byte' },
    nextDueAt: { type: 'date' },
    // Derived on every write (core/alerts/sla-timeliness.ts) for the overdue filter.
    sla: { properties: { ackDueAt: { type: 'date' }, respondDueAt: { type: 'date' }, ackLate: { type: 'boolean' }, respondLate: { type: 'boolean' } } },
    lastNotifiedAt: { type: 'date' },
    // Read whole with the alert, never searched: kept out of the index.
    levelExplanation: { type: 'object', enabled: false },
    explanation: { type: 'object', enabled: false },
    evidence: { type: 'object', enabled: false },
    timeline: { type: 'object', enabled: false },
    policy: { type: 'object', enabled: false },
    firedClocks: { type: 'object', enabled: false },
    notifications: { type: 'object', enabled: false },
    plan: { type: 'object', enabled: false },
    writes: { type: 'keyword', index: false, doc_values: false },
    createdAt: { type: 'date' },
    updatedAt: { type: 'date' },
  },
};

/** The duty roster (one document, `current`), seeded from YAML and edited through the API. */
export const ROSTER_MAPPING: MappingTypeMapping = { dynamic: 'strict', properties: { roster: { type: 'object', enabled: false }, updatedAt: { type: 'date' }, updatedBy: { type: 'keyword' } } };

/**
 * Audit records keep `before`/`after` verbatim (never indexed): the hash covers exactly what was
 * stored. Unknown fields are kept but not indexed (`dynamic: false`) so an audit write never fails
 * over a field a caller added to its actor.
 */
export const AUDIT_MAPPING: MappingTypeMapping = {
  dynamic: false,
  properties: {
    seq: { type: 'long' },
    at: { type: 'date' },
    actor: {
      properties: { kind: { type: 'keyword' }, id: { type: 'keyword' }, displayName: { type: 'keyword' }, roles: { type: 'keyword' } },
    },
    entity: { properties: { type: { type: 'keyword' }, id: { type: 'keyword' } } },
    action: { type: 'keyword' },
    before: { type: 'object', enabled: false },
    after: { type: 'object', enabled: false },
    reason: { type: 'text' },
    requestId: { type: 'keyword' },
    onceKey: { type: 'keyword' },
    prevHash: { type: 'keyword' },
    hash: { type: 'keyword' },
  },
};

export const AUDIT_CHECKPOINTS_MAPPING: MappingTypeMapping = {
  dynamic: 'strict',
  properties: { seq: { type: 'long' }, hash: { type: 'keyword' }, at: { type: 'date' }, signature: { type: 'keyword' } },
};

export const USERS_MAPPING: MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    username: { type: 'keyword' },
    displayName: { type: 'keyword' },
    section: { type: 'keyword' },
    roles: { type: 'keyword' },
    passwordHash: { type: 'keyword', index: false },
    email: { type: 'keyword' },
    mobile: { type: 'keyword' },
    disabled: { type: 'boolean' },
  },
};

export const TOKENS_MAPPING: MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: { type: 'keyword' },
    name: { type: 'keyword' },
    roles: { type: 'keyword' },
    permissions: { type: 'keyword' },
    secretHash: { type: 'keyword', index: false },
    createdBy: { type: 'keyword' },
    createdAt: { type: 'date' },
    expiresAt: { type: 'date' },
    revokedAt: { type: 'date' },
    revokedBy: { type: 'keyword' },
  },
};

/** An event: near-duplicate posts clustered in a time window (see `core/events/`). */
export const EVENTS_MAPPING: MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: { type: 'keyword' },
    title: { type: 'text', analyzer: 'standard', fields: { raw: { type: 'keyword', ignore_above: 512 } } },
    postIds: { type: 'keyword' },
    sourceIds: { type: 'keyword' },
    postCount: { type: 'integer' },
    commentCount: { type: 'integer' },
    negativeCount: { type: 'integer' },
    firstSeen: { type: 'date' },
    lastSeen: { type: 'date' },
    heat: { type: 'float' },
    timeline: { type: 'object', enabled: false },
    updatedAt: { type: 'date' },
  },
};

/** An early signal (苗头性、倾向性问题): a key whose volume or negative share left its baseline. */
export const SIGNALS_MAPPING: MappingTypeMapping = {
  dynamic: false,
  properties: {
    id: { type: 'keyword' },
    scope: { type: 'keyword' },
    key: { type: 'keyword', ignore_above: 256 },
    reason: { type: 'keyword' },
    bucketStart: { type: 'date' },
    count: { type: 'integer' },
    negative: { type: 'integer' },
    baselineMean: { type: 'float' },
    zScore: { type: 'float' },
    ratio: { type: 'float' },
    negativeShare: { type: 'float' },
    baselineNegativeShare: { type: 'float' },
    detectedAt: { type: 'date' },
  },
};

export interface IndexNames {
  /** Read alias over every monthly posts index (`<prefix>-posts-YYYY.MM`). */
  posts: string;
  alerts: string;
  audit: string;
  auditCheckpoints: string;
  /** Notification channels and delivery outcomes; their adapters (pipeline/notify/) own the mappings. */
  channels: string;
  notifications: string;
  users: string;
  tokens: string;
  events: string;
  signals: string;
  ledger: string;
  roster: string;
}

export function indexNames(prefix: string): IndexNames {
  return {
    posts: `${prefix}-posts`,
    alerts: `${prefix}-alerts`,
    audit: `${prefix}-audit`,
    auditCheckpoints: `${prefix}-audit-checkpoints`,
    channels: `${prefix}-channels`,
    notifications: `${prefix}-notifications`,
    users: `${prefix}-users`,
    tokens: `${prefix}-tokens`,
    events: `${prefix}-events`,
    signals: `${prefix}-signals`,
    ledger: `${prefix}-ledger`,
    roster: `${prefix}-roster`,
  };
}

/**
 * The monthly posts index a post of this time is written to, by UTC month. A post keeps the index
 * it was first written to (see `EsPostStore`), so an edit in a later month never duplicates it.
 */
export function monthlyPostsIndex(postsAlias: string, at: string | Date): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a time: ${String(at)}`);
  return `${postsAlias}-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

const SETTINGS = { number_of_shards: 1, number_of_replicas: 0 };

/**
 * Puts the posts index template (every `<alias>-YYYY.MM` index joins the read alias on creation,
 * so a bulk write to a new month creates it) and creates the single indices that are missing. An
 * existing index keeps its mapping (mapping changes need a migration). A concrete index holding the
 * alias's name (the layout before monthly indices) is moved into monthly indices first.
 */
export async function ensureIndices(es: Client, names: IndexNames): Promise<void> {
  const putTemplate = (withAlias: boolean) =>
    es.indices.putIndexTemplate({
      name: names.posts,
      index_patterns: [`${names.posts}-*`],
      priority: 100,
      template: { settings: SETTINGS, mappings: POSTS_MAPPING, ...(withAlias ? { aliases: { [names.posts]: {} } } : {}) },
      _meta: { owner: 'qianshao', what: 'monthly posts indices behind a read alias' },
    });
  try {
    const legacy = (await es.indices.exists({ index: names.posts })) && !(await es.indices.existsAlias({ name: names.posts }));
    // An alias cannot be named like an existing index: the legacy index is moved out first.
    await putTemplate(!legacy);
    if (legacy) {
      await migrateConcretePostsIndex(es, names.posts);
      await putTemplate(true);
      await ensureIndex(es, monthlyPostsIndex(names.posts, new Date()));
      await es.indices.putAlias({ index: `${names.posts}-*`, name: names.posts });
    }
    // Fields added since a monthly index was created are added to it (new fields only: always compatible).
    await es.indices.putMapping({ index: `${names.posts}-*`, allow_no_indices: true, ...POSTS_MAPPING });
  } catch (err) {
    throw translateEsError(err, `put index template ${names.posts}`);
  }
  // The current month's index exists from the start so the read alias always resolves.
  const wanted: [string, MappingTypeMapping | undefined][] = [
    [monthlyPostsIndex(names.posts, new Date()), undefined],
    [names.alerts, ALERTS_MAPPING],
    [names.audit, AUDIT_MAPPING],
    [names.auditCheckpoints, AUDIT_CHECKPOINTS_MAPPING],
    [names.users, USERS_MAPPING],
    [names.tokens, TOKENS_MAPPING],
    [names.events, EVENTS_MAPPING],
    [names.signals, SIGNALS_MAPPING],
    [names.ledger, LEDGER_MAPPING],
    [names.roster, ROSTER_MAPPING],
  ];
  for (const [index, mappings] of wanted) await ensureIndex(es, index, mappings);
  await backfillAlertSla(es, names.alerts);
}

/**
 * Alerts stored before their deadlines were kept beside them (`sla`, see `alertDocument`) get
 * them, so the 只看超时 filter sees every alert. A compare-and-set partial update per alert (no
 * scripts: the embedded node has none); an alert changed meanwhile already has them.
 */
async function backfillAlertSla(es: Client, index: string): Promise<void> {
  try {
    let after: estypes.SortResults | undefined;
    for (;;) {
      const page = await es.search<Alert>({
        index,
        size: 500,
        seq_no_primary_term: true,
        query: { bool: { must_not: [{ exists: { field: 'sla.ackDueAt' } }] } },
        sort: [{ id: 'asc' }],
        ...(after ? { search_after: after } : {}),
      });
      const hits = page.hits.hits;
      if (hits.length === 0) return;
      after = hits.at(-1)!.sort;
      const operations = hits.flatMap((h) => {
        let sla: unknown;
        try {
          sla = alertDocument(h._source!).sla;
        } catch {
          return []; // not an alert this code can read (no policy snapshot): left as it is
        }
        return [{ update: { _index: index, _id: h._id!, if_seq_no: h._seq_no!, if_primary_term: h._primary_term! } }, { doc: { sla } }];
      });
      if (operations.length === 0) continue;
      const res = await es.bulk({ operations });
      // Conflicts are alerts written meanwhile, which were given their deadlines then.
      const failed = res.items.filter((i) => i.update?.error && i.update.status !== 409);
      if (failed.length > 0) throw new Error(`${failed.length} alerts could not be given their deadlines: ${failed[0]!.update!.error!.reason ?? failed[0]!.update!.error!.type}`);
    }
  } catch (err) {
    throw translateEsError(err, `backfill the deadlines of alerts in ${index}`);
  }
}

/** Creates one index unless it exists (without mappings: from its template); safe when several processes start at once. */
export async function ensureIndex(es: Client, index: string, mappings?: MappingTypeMapping): Promise<void> {
  try {
    if (await es.indices.exists({ index })) {
      // Fields added since the index was created are added to it (new fields only: always compatible).
      if (mappings) await es.indices.putMapping({ index, ...mappings });
      return;
    }
    await es.indices.create(mappings ? { index, mappings, settings: SETTINGS } : { index });
  } catch (err) {
    if (err instanceof Error && err.message.includes('resource_already_exists_exception')) return;
    throw translateEsError(err, `create index ${index}`);
  }
}

/** Copies the documents of a pre-monthly `<prefix>-posts` index into monthly indices, then drops it. */
async function migrateConcretePostsIndex(es: Client, alias: string): Promise<void> {
  try {
    let page = await es.search<Record<string, unknown>>({ index: alias, scroll: '1m', size: 500, sort: ['_doc'] });
    while (page.hits.hits.length > 0) {
      const operations = page.hits.hits.flatMap((h) => {
        const doc = h._source ?? {};
        const at = String(doc.publishedAt ?? doc.collectedAt ?? new Date().toISOString());
        return [{ index: { _index: monthlyPostsIndex(alias, at), _id: h._id! } }, { at, ...doc }];
      });
      const res = await es.bulk({ operations, refresh: false });
      if (res.errors) throw new Error(`moving ${alias} into monthly indices: some documents were rejected`);
      page = await es.scroll<Record<string, unknown>>({ scroll_id: page._scroll_id!, scroll: '1m' });
    }
    if (page._scroll_id) await es.clearScroll({ scroll_id: page._scroll_id }).catch(() => undefined);
    await es.indices.delete({ index: alias });
  } catch (err) {
    throw translateEsError(err, `move ${alias} into monthly indices`);
  }
}
