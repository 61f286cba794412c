import type { Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';

type MappingTypeMapping = estypes.MappingTypeMapping;
import { translateEsError } from './es-client.js';

/**
 * Mappings use only the server's core features (standard analyzer, keyword, date, nested), so the
 * embedded node and the full docker image serve them alike. The standard analyzer splits CJK into
 * single characters; phrase queries give exact Chinese matching on top of that.
 */
export const POSTS_MAPPING: MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: { type: 'keyword' },
    sourceId: { type: 'keyword' },
    kind: { type: 'keyword' },
    url: { type: 'keyword' },
    platformId: { type: 'keyword' },
    parentRef: { type: 'keyword' },
    title: { type: 'text', fields: { raw: { type: 'keyword', ignore_above: 512 } } },
    text: { type: 'text' },
    author: { type: 'keyword' },
    publishedAt: { type: 'date' },
    collectedAt: { type: 'date' },
    indexedAt: { type: 'date' },
    contentHash: { type: 'keyword' },
    reply: { properties: { text: { type: 'text' }, at: { type: 'date' }, by: { type: 'keyword' } } },
    words: { type: 'keyword' },
    keywords: { type: 'keyword' },
    maxLevel: { type: 'byte' },
    categories: { type: 'keyword' },
    terms: { type: 'keyword' },
    hits: {
      type: 'nested',
      properties: {
        term: { type: 'keyword' },
        packId: { type: 'keyword' },
        category: { type: 'keyword' },
        level: { type: 'byte' },
        field: { type: 'keyword' },
        start: { type: 'integer' },
        end: { type: 'integer' },
        suggestion: { type: 'keyword' },
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
    postIds: { type: 'keyword' },
    terms: { type: 'keyword' },
    hits: { type: 'object', enabled: false },
    createdAt: { type: 'date' },
    updatedAt: { type: 'date' },
  },
};

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

export interface IndexNames {
  posts: string;
  alerts: string;
  audit: string;
  auditCheckpoints: string;
  /** Notification channels and delivery outcomes; their adapters (pipeline/notify/) own the mappings. */
  channels: string;
  notifications: string;
  users: string;
  tokens: string;
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
  };
}

/** Creates missing indices; an existing index is left as is (mapping changes need a migration). */
export async function ensureIndices(es: Client, names: IndexNames): Promise<void> {
  const wanted: [string, MappingTypeMapping][] = [
    [names.posts, POSTS_MAPPING],
    [names.alerts, ALERTS_MAPPING],
    [names.audit, AUDIT_MAPPING],
    [names.auditCheckpoints, AUDIT_CHECKPOINTS_MAPPING],
    [names.users, USERS_MAPPING],
    [names.tokens, TOKENS_MAPPING],
  ];
  for (const [index, mappings] of wanted) await ensureIndex(es, index, mappings);
}

/** Creates one index unless it exists; safe when several processes start at once. */
export async function ensureIndex(es: Client, index: string, mappings: MappingTypeMapping): Promise<void> {
  try {
    if (await es.indices.exists({ index })) {
      // Fields added since the index was created are added to it (new fields only: always compatible).
      await es.indices.putMapping({ index, ...mappings });
      return;
    }
    await es.indices.create({ index, mappings, settings: { number_of_shards: 1, number_of_replicas: 0 } });
  } catch (err) {
    if (err instanceof Error && err.message.includes('resource_already_exists_exception')) return;
    throw translateEsError(err, `create index ${index}`);
  }
}
