import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolation } from '../support/isolation.js';
import { startDemoApi, type AppProcess } from '../support/app-process.js';
import { ApiClient } from '../support/api-client.js';
import { createHarness, shortPolicy, signalFor } from '../support/alerting-harness.js';
import { DEMO_CREDENTIALS } from '../fixtures/demo-site/server.js';

/**
 * Every route of `/api/openapi.json` under hostile input, driven by the schemas the document gives
 * (the same zod schemas the routes validate with): wrong JSON types, missing and null fields, 1 MB
 * strings, out-of-range numbers, deep nesting, bodies that are no JSON object, unknown ids (well
 * formed, path traversal, very long, unicode, NUL, undecodable) and junk queries (negative, huge,
 * repeated, bracketed, impossible or out-of-range dates). First against unknown ids, then against
 * things that exist. No answer may be a 5xx or take 20 s; a 400 names the field; an unknown id is
 * a 404 (or a 400 naming a malformed one).
 */

/** The part of JSON Schema that zod's `toJSONSchema` writes for the routes' schemas. */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  format?: string;
  minLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  pattern?: string;
  examples?: unknown[];
}
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: JsonSchema };
type Operation = { 'x-undocumented'?: boolean; parameters: Parameter[]; requestBody?: { content: { 'application/json': { schema: JsonSchema } } } };
type OpenApi = { paths: Record<string, Record<string, Operation>> };

/**
 * Routes left out, each with its reason. Everything else in `/api/openapi.json` is fuzzed.
 */
const SKIPPED: Record<string, string> = {
  'post /api/auth/logout': 'ends the session the fuzzing uses',
  'get /api/live': 'an event stream: it answers 200 and stays open',
};
/** Routes that create what an unknown id names (PUT as upsert): their ids get a prefix no other route is sent. */
const UPSERTS = new Set(['put /api/channels/{id}']);

/** The fields of a body: its properties, or those of its first variant (a tagged union). */
const fieldsOf = (s: JsonSchema | undefined): [string, JsonSchema][] => Object.entries(s?.properties ?? (s?.anyOf ?? s?.oneOf)?.[0]?.properties ?? {});

/** A value the schema accepts, as far as its type, enum, format and minimums go (patterns are not honoured). */
function sample(s: JsonSchema | undefined, optionalToo = false): unknown {
  if (!s) return 'x';
  if (s.examples?.length) return s.examples[0];
  if (s.anyOf ?? s.oneOf) return sample((s.anyOf ?? s.oneOf)![0], optionalToo);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'date-time') return '2030-01-01T00:00:00Z';
      if (s.format === 'email') return 'fuzz@example.com';
      if (s.format === 'uri') return 'http://127.0.0.1:9/';
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => sample(s.items, optionalToo));
    case 'object':
      return Object.fromEntries((optionalToo ? Object.keys(s.properties ?? {}) : (s.required ?? [])).map((k) => [k, sample(s.properties?.[k], optionalToo)]));
    default:
      return 'x';
  }
}

/** A value of a JSON type the schema does not allow; undefined when it allows any. */
function wrongType(s: JsonSchema): unknown {
  const types = new Set((s.anyOf ?? s.oneOf ?? [s]).flatMap((x) => (Array.isArray(x.type) ? x.type : x.type ? [x.type] : x.enum ? ['enum'] : x.const !== undefined ? ['const'] : ['any'])));
  if (types.has('any')) return undefined;
  if (!types.has('string') && !types.has('enum') && !types.has('const')) return 'not-a-number';
  if (!types.has('integer') && !types.has('number')) return 12345;
  if (!types.has('boolean')) return true;
  if (!types.has('object')) return ['an', 'array'];
  return undefined;
}

const MEGABYTE = 'x'.repeat(1 << 20);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Bodies that are not JSON, or JSON that is no object, sent with a JSON content type. */
const NOT_A_BODY = ['{', 'not json', '{"a":', "{'a':1}", 'null', '[]', '"text"', '12345', 'true', deepArray(20_000)];
/** Objects only of keys no route reads (a route whose fields are all optional may drop them). */
const ODD_OBJECTS = [deepObject(20_000), '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}'];
/** Bodies for routes that take none (an unlock, a test send, a replay): fields routes commonly read, with junk in them. */
const GENERIC_JUNK = [
  {},
  { id: ['x'], name: { $gt: '' }, type: 42, enabled: 'yes', version: -1, roster: null, leave: 'x', delegation: [], to: 7, note: MEGABYTE },
  { period: 12, scope: [], conclusions: { a: 1 }, nextSteps: MEGABYTE, format: 'exe' },
  { title: MEGABYTE, attendees: 'all', decisions: [{}], followUps: [{ deadline: 'soon' }], heldAt: '2026-13-45T99:00:00Z' },
  { kind: 'website', url: 'javascript:alert(1)', name: '𠀀'.repeat(300), everySeconds: -5, owner: null, zombieDays: 1e308 },
  { screenshot: 'yes', nextSteps: 5, text: '\ud800', items: [{ url: 'x', text: 1 }] },
  { roster: JSON.parse(deepObject(2_000)) as unknown, version: '1:1' },
];

/** Ids nobody has: well-formed ones, path traversal, very long, unicode, NUL, bad %-escapes. */
const UNKNOWN_IDS = [
  randomBytes(16).toString('hex'),
  randomBytes(8).toString('hex'),
  'zg-20991231-0000abcd',
  'nonexistent-pack',
  '..%2F..%2Fetc%2Fpasswd',
  'x'.repeat(5000),
  '%E4%B8%AD%E6%96%87%F0%9F%98%80',
  '%00',
  "'%20OR%201=1--",
];
/** More for numeric path parameters (a brief's or a version's number). */
const UNKNOWN_NUMBERS = ['999', '2147483648', '-1', '0', '1.5', '1e309', '99999999999999999999', '9007199254740993', '0x10'];
/** Numbers a numeric body field may be sent: past a 32-bit integer, negative, fractional, huge. */
const JUNK_NUMBERS = [2147483648, 9007199254740991, -1, 1.5, 1e300];
/** A path that cannot be decoded is no id at all: 400 `bad_request`, whatever the route. */
const UNDECODABLE_ID = '%ZZ';

/** Junk values for one query parameter. */
const JUNK_QUERY_VALUES = [
  '-1',
  '0',
  '1e309',
  '99999999999999999999999',
  '2147483648',
  'abc',
  '',
  '%00',
  'x'.repeat(3000),
  // dates and periods: impossible, at the edge of what a Date holds, or past it
  '2026-13-45T99:99:99Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '275760-09-13T00:00:00.001Z',
  '9999-12-31T23:59:59.999+14:00',
  '0000',
  '9999-W53',
  '0000-Q1',
  '9999-12-31',
];

interface Answer {
  status: number;
  message: string;
  text: string;
}
interface Case {
  method: string;
  url: string;
  body?: string;
  /** What the answer must be besides "not a 5xx, not a hang". */
  expect?: (a: Answer) => string | undefined;
  label: string;
}

describe('the whole API under hostile input: no 5xx, 400s name the field, unknown ids are 404', () => {
  const iso = isolation();
  let app: AppProcess;
  let base: string;
  let doc: OpenApi;
  let admin: ApiClient;

  beforeAll(async () => {
    ({ app, base } = await startDemoApi(iso, {
      DEMO_PUSH_TOKEN: DEMO_CREDENTIALS.DEMO_PUSH_TOKEN,
      // A test send may only ever reach loopback: the demo's robot channels point at the discard port.
      DEMO_DINGTALK_URL: 'http://127.0.0.1:9/robot/send',
      DEMO_DINGTALK_SECRET: 'SEC-fuzz',
      DEMO_WECOM_URL: 'http://127.0.0.1:9/cgi-bin/webhook/send',
    }));
    admin = await ApiClient.login(base, 'admin');
    doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as OpenApi;
  });
  afterAll(async () => {
    await app?.stop();
    await iso.cleanup();
  });

  /**
   * Every case of one route: junk bodies field by field, unknown ids, junk queries. With `known`
   * (ids of things that exist, by path parameter) the junk goes to them instead, and the route has
   * no 404 to hide behind.
   */
  function casesOf(path: string, method: string, op: Operation, known?: Record<string, string>): Case[] {
    const params = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
    const queryParams = params.filter((p) => p.in === 'query');
    const bodySchema = op.requestBody?.content['application/json'].schema;
    const fields = fieldsOf(bodySchema);
    const upsert = UPSERTS.has(`${method} ${path}`);
    // Each path parameter in turn gets the junk; the others an unknown value of their documented shape.
    const shaped = (p: Parameter) => {
      const type = Array.isArray(p.schema.type) ? p.schema.type[0] : p.schema.type;
      if (type === 'integer' || type === 'number') return String(sample(p.schema));
      return UNKNOWN_IDS.find((id) => !p.schema.pattern || new RegExp(p.schema.pattern).test(id)) ?? UNKNOWN_IDS[0]!;
    };
    const withIds = (junk?: { name: string; id: string }) =>
      path.replace(/\{([^}]+)\}/g, (_, name: string) => {
        const id = junk?.name === name ? junk.id : (known?.[name] ?? shaped(params.find((p) => p.in === 'path' && p.name === name)!));
        return upsert ? `fuzz-upsert-${id}` : id;
      });
    const knownFields = [...fields.map(([k]) => k), ...pathParams, ...queryParams.map((p) => p.name)];
    const cases: Case[] = [];
    // A refinement over the whole body (e.g. "nothing to change") names it `(body)`.
    const named = (names: string[]) => (a: Answer) =>
      a.status === 400 && ![...names, '(body)'].some((n) => a.message.includes(n)) ? `400 names none of ${names.join(', ')}: ${a.message.slice(0, 200)}` : undefined;
    const status = (allowed: number[], names: string[]) => (a: Answer) =>
      !allowed.includes(a.status) ? `expected ${allowed.join(' or ')}, got ${a.status} ${a.text.slice(0, 200)}` : named(names)(a);
    const anyMessage = (a: Answer) => (a.status === 400 && !a.message ? '400 without a message' : undefined);
    // An id route answers a bad body with 400 or, when it looks the id up first, 404.
    const bodyAnswers = pathParams.length > 0 && !known ? [400, 404] : [400];
    // Body and query cases use unknown ids of the documented shape, so the route gets as far as it can.
    const url = withIds();
    const requiredQueryBut = (name?: string) => new URLSearchParams(queryParams.filter((p) => p.required && p.name !== name).map((p) => [p.name, String(sample(p.schema))])).toString();
    const requiredQuery = requiredQueryBut();

    // Unknown ids: 404, or a 400 naming the malformed path parameter.
    if (pathParams.length > 0 && !known) {
      const body = method === 'get' || method === 'delete' ? undefined : JSON.stringify(bodySchema ? sample(bodySchema, true) : {});
      const query = requiredQuery ? `?${requiredQuery}` : '';
      const answers = upsert ? [200, 201, 400] : [404, 400];
      for (const name of pathParams) {
        const type = params.find((p) => p.in === 'path' && p.name === name)!.schema.type;
        const ids = type === 'integer' || type === 'number' ? [...UNKNOWN_NUMBERS, ...UNKNOWN_IDS] : UNKNOWN_IDS;
        for (const id of ids) cases.push({ method, url: `${withIds({ name, id })}${query}`, body, expect: status(answers, [...pathParams, ...fields.map(([k]) => k)]), label: `unknown ${name} ${id.slice(0, 40)}` });
        cases.push({ method, url: `${withIds({ name, id: UNDECODABLE_ID })}${query}`, body, expect: (a) => (a.status === 400 && a.text.includes('bad_request') ? undefined : `expected 400 bad_request, got ${a.status} ${a.text.slice(0, 200)}`), label: `an undecodable ${name}` });
      }
    }
    if (method !== 'get' && method !== 'delete') {
      // A route that takes no body may ignore one; a route that takes one refuses what is not its shape.
      for (const raw of NOT_A_BODY) cases.push({ method, url, body: raw, expect: bodySchema ? status(bodyAnswers, [...knownFields, 'JSON']) : anyMessage, label: `raw body ${raw.slice(0, 30)}` });
      for (const raw of ODD_OBJECTS) cases.push({ method, url, body: raw, expect: named(knownFields), label: `raw body ${raw.slice(0, 30)}` });
      cases.push({ method, url, body: JSON.stringify({ junk: 'x'.repeat(3 << 20) }), expect: status([413], []), label: 'a 3 MB body' });
      if (bodySchema && fields.length > 0) {
        const base = sample(bodySchema) as Record<string, unknown>;
        const required = bodySchema.required ?? [];
        if (required.length > 0) cases.push({ method, url, body: '{}', expect: status(bodyAnswers, required), label: 'missing required fields' });
        // A body field named like a path parameter is taken from the path (PUT /channels/:id).
        for (const [field, schema] of fields.filter(([k]) => !pathParams.includes(k))) {
          const wrong = wrongType(schema);
          if (wrong !== undefined) cases.push({ method, url, body: JSON.stringify({ ...base, [field]: wrong }), expect: status(bodyAnswers, [field]), label: `${field} of the wrong type` });
          cases.push({ method, url, body: JSON.stringify({ ...base, [field]: MEGABYTE }), expect: named(knownFields), label: `${field}: 1 MB string` });
          if (schema.type === 'integer' || schema.type === 'number') {
            for (const n of JUNK_NUMBERS) cases.push({ method, url, body: JSON.stringify({ ...base, [field]: n }), expect: named(knownFields), label: `${field}: ${n}` });
          }
          cases.push({ method, url, body: `{"${field}":${deepObject(5_000)}}`, expect: named(knownFields), label: `${field}: deeply nested` });
          cases.push({ method, url, body: JSON.stringify({ ...base, [field]: null }), expect: named(knownFields), label: `${field}: null` });
        }
        cases.push({ method, url, body: JSON.stringify({ ...base, zzUnknownField: MEGABYTE }), expect: named([...knownFields, 'zzUnknownField']), label: 'an unknown 1 MB field' });
      } else {
        for (const body of GENERIC_JUNK) cases.push({ method, url, body: JSON.stringify(body), expect: anyMessage, label: `generic junk ${JSON.stringify(body).slice(0, 40)}` });
      }
    }
    // Junk queries, one parameter at a time (the required others as documented).
    for (const { name } of queryParams) {
      const values = [...JUNK_QUERY_VALUES.map((v) => `${name}=${encodeURIComponent(v)}`), `${name}=1&${name}=2`, `${name}[]=x`, `${name}[a]=b`];
      for (const v of values) {
        cases.push({ method, url: `${url}?${[requiredQueryBut(name), v].filter(Boolean).join('&')}`, body: method === 'get' || method === 'delete' ? undefined : JSON.stringify(bodySchema ? sample(bodySchema) : {}), expect: named(knownFields), label: `query ${v.slice(0, 40)}` });
      }
    }
    return cases;
  }

  async function send(c: Case, client: { headers: Record<string, string> }): Promise<Answer | 'hang'> {
    try {
      const res = await fetch(`${base}${c.url}`, {
        method: c.method.toUpperCase(),
        headers: { ...client.headers, ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: c.body,
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      let message = '';
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? '';
      } catch {
        // not JSON: an export, an SVG
      }
      return { status: res.status, message, text };
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return 'hang';
      throw err;
    }
  }

  it('every route is documented with its schemas (so the fuzzing below knows its fields)', () => {
    const undocumented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => op['x-undocumented']).map(([m]) => `${m} ${p}`));
    expect(undocumented).toEqual([]);
  });

  /**
   * Things that exist, by route, for the second round of junk: an alert (raised through a real desk
   * on the same stores, as the pipeline would), a ledger item, an API token, a meeting, a rule pack,
   * a position, a user other than the admin fuzzing, and the in-app channel (its test send stays in
   * Redis; every URL the fuzzing could give a channel is loopback).
   */
  async function knownIds(): Promise<(path: string) => Record<string, string> | undefined> {
    const h = await createHarness({ ...iso, policy: shortPolicy() });
    const { alertId } = await h.desk.raise(signalFor('fuzz', 3)).finally(() => h.close());
    const ledger = await admin.post<{ item: { id: string } }>('/api/ledger', { source: 'self_inspection', problem: '模糊测试', measures: '无', responsible: 'duty', deadline: '2030-01-01T00:00:00Z' });
    const token = await admin.post<{ token: { id: string } }>('/api/tokens', { name: 'fuzz', roles: ['viewer'] });
    const meeting = await admin.post<{ meeting: { id: string } }>('/api/meetings', { heldAt: '2026-11-01T02:00:00Z', attendees: ['admin'], topics: ['模糊测试'], conclusions: '无' });
    const packs = await admin.get<{ packs: { id: string }[] }>('/api/rules');
    const sources = await admin.get<{ sources: { source: { id: string; kind: string } }[] }>('/api/sources');
    for (const res of [ledger, token, meeting, packs, sources]) expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    const website = sources.body.sources.find((s) => s.source.kind === 'website')!.source.id;
    const byPrefix: [string, Record<string, string>][] = [
      ['/api/alerts/{id}', { id: alertId, stepId: 'step-1', n: '1' }],
      ['/api/ledger/{id}', { id: ledger.body.item.id }],
      ['/api/tokens/{id}', { id: token.body.token.id }],
      ['/api/meetings/{id}', { id: meeting.body.meeting.id }],
      ['/api/rules/{packId}', { packId: packs.body.packs[0]!.id, version: '1' }],
      ['/api/sources/{id}', { id: website }],
      ['/api/inspection/{sourceId}', { sourceId: website }],
      ['/api/users/{username}', { username: 'duty' }],
      ['/api/channels/{id}', { id: 'inapp' }],
    ];
    return (path) => byPrefix.find(([prefix]) => path.startsWith(prefix))?.[1];
  }

  it('every route of /api/openapi.json, each with junk bodies, unknown ids and junk queries', { timeout: 240_000 }, async () => {
    const session = { headers: admin.authHeaders() };
    const pusher = { headers: { authorization: `Bearer ${DEMO_CREDENTIALS.DEMO_PUSH_TOKEN}` } };
    const known = await knownIds();
    const all: { route: string; c: Case; client: typeof session }[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const route = `${method} ${path}`;
        if (SKIPPED[route]) continue;
        const client = path === '/api/ingest' ? pusher : session;
        for (const c of casesOf(path, method, op)) all.push({ route, c, client });
        const ids = known(path);
        if (ids) for (const c of casesOf(path, method, op, ids)) all.push({ route, c: { ...c, label: `existing: ${c.label}` }, client });
      }
    }
    const failures: string[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < all.length) {
        const { route, c, client } = all[next++]!;
        const a = await send(c, client);
        if (a === 'hang') failures.push(`${route} [${c.label}]: no answer within 20 s`);
        else if (a.status >= 500) failures.push(`${route} [${c.label}]: ${a.status} ${a.text.slice(0, 200)}`);
        else {
          const why = c.expect?.(a);
          if (why) failures.push(`${route} [${c.label}]: ${why}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    console.log(`${all.length} requests over ${Object.keys(doc.paths).length} paths in ${Date.now() - started} ms`);
    expect(failures).toEqual([]);
    expect((await admin.get('/api/auth/me')).status).toBe(200);
  });
});
