import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolation } from '../support/isolation.js';
import { startDemoApi, type AppProcess } from '../support/app-process.js';
import { ApiClient, anonymous } from '../support/api-client.js';

type Operation = { summary: string; 'x-permission'?: string; 'x-undocumented'?: boolean; requestBody?: unknown; parameters: { name: string; in: string }[] };
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> };

const repoRoot = path.resolve(import.meta.dirname, '../..');
/** Tags of the routes this part of the house owns: documented with schemas, and fuzzed below. */
const OWN_PREFIXES = ['/api/auth/', '/api/users', '/api/tokens', '/api/audit', '/api/ledger', '/api/alerts/{id}/ledger', '/api/inspection'];
const isOwn = (p: string) => OWN_PREFIXES.some((x) => p === x.replace(/\/$/, '') || p.startsWith(x));

describe('the API contract: OpenAPI, the permission matrix, and no 500 for any input', () => {
  const iso = isolation();
  let app: AppProcess;
  let base: string;
  let doc: OpenApi;
  const clients: Record<string, ApiClient> = {};

  beforeAll(async () => {
    ({ app, base } = await startDemoApi(iso));
    for (const user of ['admin', 'duty', 'chief', 'leader', 'secretary', 'auditor']) clients[user] = await ApiClient.login(base, user);
    const res = await fetch(`${base}/api/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApi;
  });
  afterAll(async () => {
    await app?.stop();
    await iso.cleanup();
  });

  describe('GET /api/openapi.json', () => {
    it('is an OpenAPI 3.1 document', () => {
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths).length).toBeGreaterThan(20);
    });

    it('lists every route the route modules declare (read from their source)', () => {
      const declared = new Set<string>();
      const dir = path.join(repoRoot, 'api/routes');
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
        const text = readFileSync(path.join(dir, file), 'utf8');
        for (const m of text.matchAll(/router\.(get|post|patch|put|delete)\(\s*'([^']+)'/g)) declared.add(`${m[1]} /api${m[2]!.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
        for (const m of text.matchAll(/router\.(get|post|patch|put|delete)\(\s*`([^`]+)`/g)) declared.add(`${m[1]} /api${m[2]!.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
      }
      const documented = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((method) => `${method} ${p}`)));
      // Routes built in a loop (`/ledger/:id/${path}`) are checked by their expansions below.
      const missing = [...declared].filter((r) => !r.includes('${') && !documented.has(r));
      expect(missing).toEqual([]);
      for (const action of ['start', 'submit', 'close', 'reopen']) expect(documented.has(`post /api/ledger/{id}/${action}`)).toBe(true);
    });

    it('every documented route is mounted: none answers the catch-all "no such endpoint"', async () => {
      for (const [p, ops] of Object.entries(doc.paths)) {
        for (const method of Object.keys(ops)) {
          if (p === '/api/live' || p.endsWith('/stream')) continue; // event streams stay open
          const url = p.replace(/\{[^}]+\}/g, 'zg-20260101-00000000');
          const res = await fetch(`${base}${url}`, { method: method.toUpperCase(), headers: { 'content-type': 'application/json' }, body: method === 'get' ? undefined : '{}' });
          const body = await res.text();
          expect(body.includes('no such endpoint'), `${method} ${p}`).toBe(false);
        }
      }
    });

    it('describes this part of the API with its schemas and permissions', () => {
      const own = Object.entries(doc.paths).filter(([p]) => isOwn(p));
      expect(own.length).toBeGreaterThanOrEqual(20);
      for (const [p, ops] of own) for (const [method, op] of Object.entries(ops)) expect(op['x-undocumented'], `${method} ${p}`).toBeUndefined();
      expect(doc.paths['/api/ledger']!.post!.requestBody).toBeDefined();
      expect(doc.paths['/api/ledger']!.post!['x-permission']).toBe('ledger.write');
      expect(doc.paths['/api/ledger/{id}/verify']!.post!['x-permission']).toBe('ledger.verify');
      expect(doc.paths['/api/ledger']!.get!.parameters.map((x) => x.name)).toEqual(expect.arrayContaining(['status', 'overdue', 'responsible']));
      expect(JSON.stringify(doc.paths['/api/ledger']!.post!.requestBody)).toContain('self_inspection');
    });

    it('documents the alert actions with their bodies, permissions and the Idempotency-Key header', () => {
      for (const action of ['acknowledge', 'handle', 'respond', 'close', 'false-positive', 'reopen', 'level', 'assign', 'escalate', 'evidence', 'plan', 'plan/steps/{stepId}/complete']) {
        const op = doc.paths[`/api/alerts/{id}/${action}`]?.post;
        expect(op, action).toBeDefined();
        expect(op!['x-undocumented'], action).toBeUndefined();
        expect(op!.requestBody, action).toBeDefined();
        expect(op!.parameters.map((x) => `${x.in}:${x.name}`), action).toEqual(expect.arrayContaining(['path:id', 'header:Idempotency-Key']));
      }
      expect(doc.paths['/api/alerts/{id}/acknowledge']!.post!['x-permission']).toBe('alert.acknowledge');
      expect(doc.paths['/api/alerts']!.get!.parameters.map((x) => x.name)).toEqual(expect.arrayContaining(['status', 'level', 'overdue', 'q']));
      expect(doc.paths['/api/alerts/{id}']!.get!['x-undocumented']).toBeUndefined();
    });
  });

  describe('the permission matrix, role by role, over HTTP', () => {
    const newUser = (tag: string) => ({ username: `m-${tag}-${Math.random().toString(36).slice(2, 8)}`, displayName: '矩阵测试', roles: ['viewer'], password: 'matrix-pass-1' });
    const ledgerBody = { source: 'self_inspection', problem: '矩阵测试', measures: '无', responsible: 'duty', deadline: '2030-01-01T00:00:00Z' };
    type Call = [label: string, method: 'get' | 'post', path: string, body?: () => unknown];
    const calls: Record<string, Call> = {
      auditList: ['GET /api/audit', 'get', '/api/audit'],
      auditVerify: ['GET /api/audit/verify', 'get', '/api/audit/verify'],
      usersList: ['GET /api/users', 'get', '/api/users'],
      userCreate: ['POST /api/users', 'post', '/api/users', () => newUser('u')],
      tokensList: ['GET /api/tokens', 'get', '/api/tokens'],
      ledgerList: ['GET /api/ledger', 'get', '/api/ledger'],
      ledgerCreate: ['POST /api/ledger', 'post', '/api/ledger', () => ledgerBody],
      ledgerExport: ['GET /api/ledger/export.xlsx', 'get', '/api/ledger/export.xlsx'],
      alerts: ['GET /api/alerts', 'get', '/api/alerts'],
    };
    it.each<[string, keyof typeof calls, number]>([
      // role, call, expected status
      ['anonymous', 'auditList', 401],
      ['anonymous', 'ledgerList', 401],
      ['anonymous', 'usersList', 401],
      ['anonymous', 'alerts', 401],
      ['duty', 'auditList', 403], // the duty officer does not read the audit
      ['duty', 'auditVerify', 403],
      ['duty', 'usersList', 200], // but may list people to assign work
      ['duty', 'userCreate', 403],
      ['duty', 'tokensList', 403],
      ['duty', 'ledgerList', 200],
      ['duty', 'ledgerCreate', 201], // records ledger items
      ['duty', 'ledgerExport', 200],
      ['duty', 'alerts', 200],
      ['chief', 'auditList', 200],
      ['chief', 'userCreate', 403],
      ['chief', 'ledgerCreate', 201],
      ['leader', 'auditList', 200],
      ['leader', 'auditVerify', 200],
      ['leader', 'userCreate', 403],
      ['leader', 'tokensList', 403],
      ['secretary', 'auditVerify', 200], // 第一责任人 reads the audit
      ['secretary', 'ledgerCreate', 201],
      ['auditor', 'auditList', 200], // the auditor reads everything
      ['auditor', 'auditVerify', 200],
      ['auditor', 'ledgerList', 200],
      ['auditor', 'ledgerExport', 200],
      ['auditor', 'ledgerCreate', 403], // and changes nothing
      ['auditor', 'userCreate', 403],
      ['auditor', 'tokensList', 403],
      ['admin', 'userCreate', 201],
      ['admin', 'tokensList', 200],
      ['admin', 'auditList', 200],
      ['admin', 'ledgerCreate', 201],
    ])('%s → %s: %i', async (role, call, expected) => {
      const [, method, p, body] = calls[call]!;
      const client = role === 'anonymous' ? anonymous(base) : clients[role]!;
      const res = method === 'get' ? await client.get(p) : await client.post(p, body?.());
      expect(res.status, JSON.stringify(res.body)).toBe(expected);
    });

    it('the verify permission: a duty officer cannot close (销号) a ledger item, a chief can', async () => {
      const created = await clients.chief!.post<{ item: { id: string } }>('/api/ledger', ledgerBody);
      const id = created.body.item.id;
      await clients.duty!.post(`/api/ledger/${id}/start`);
      await clients.duty!.post(`/api/ledger/${id}/evidence`, { evidence: { kind: 'text', text: '已完成' } });
      await clients.duty!.post(`/api/ledger/${id}/submit`);
      expect((await clients.duty!.post(`/api/ledger/${id}/close`)).status).toBe(403);
      expect((await clients.auditor!.post(`/api/ledger/${id}/close`)).status).toBe(403);
      expect((await clients.chief!.post(`/api/ledger/${id}/close`)).status).toBe(200);
    });
  });

  describe('hostile input', () => {
    const JUNK_BODIES = [
      '{',
      'null',
      '[]',
      '"text"',
      '12345',
      '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
      JSON.stringify({ username: ['a'], password: { $gt: '' }, roles: 'admin', deadline: 'yesterday', evidence: [{ kind: 'exe' }], expectedVersion: -1, result: 'maybe', status: 42 }),
      JSON.stringify({ source: 'alert', alertId: 'x'.repeat(5000), problem: '<script>alert(1)</script>', measures: '=cmd|calc', responsible: '../../etc/passwd', deadline: '9999-99-99T00:00:00Z' }),
      JSON.stringify({ evidence: { kind: 'file', ref: '\u0000\uffff', name: '𠀀'.repeat(300) }, note: '\ud800' }),
      JSON.stringify({ name: '', permissions: ['*'], expiresAt: '2020-13-45' }),
      JSON.stringify({ displayName: null, roles: [], disabled: 'yes', email: 'not-an-email' }),
    ];
    const JUNK_IDS = ['%00', 'x'.repeat(3000), '..%2F..%2Fetc', '%E4%B8%AD%E6%96%87', 'zg-20260101-zzzzzzzz', "'; DROP TABLE--", '%ZZ'];
    const JUNK_QUERIES = ['?limit=-1', '?limit=abc&status=nope', '?from=notadate&to=2026-99-01', '?overdue=maybe&deadlineFrom=x', '?entityType=%00&limit=1e9', '?status[]=a&status[]=b', '?source=alert&source=x'];

    it('no endpoint of this part of the API answers 500 to junk bodies, ids or queries', async () => {
      const admin = clients.admin!;
      const failures: string[] = [];
      for (const [p, ops] of Object.entries(doc.paths).filter(([x]) => isOwn(x))) {
        for (const method of Object.keys(ops)) {
          if (p === '/api/auth/logout') continue; // would end the admin's session the fuzzing uses
          const urls = p.includes('{') ? JUNK_IDS.map((id) => p.replace(/\{[^}]+\}/g, id)) : [p];
          for (const url of urls) {
            for (const q of method === 'get' ? JUNK_QUERIES : ['']) {
              for (const body of method === 'get' ? [undefined] : JUNK_BODIES) {
                const res = await admin.request(method.toUpperCase(), `${url}${q}`, undefined, body);
                if (res.status >= 500) failures.push(`${method} ${url}${q} ${body ?? ''} → ${res.status} ${JSON.stringify(res.body)}`);
                if (res.status === 400 && !(res.body as { error?: { message?: string } })?.error?.message) failures.push(`${method} ${url}${q}: 400 without a message`);
              }
            }
          }
        }
      }
      expect(failures).toEqual([]);
      expect((await admin.get('/api/auth/me')).status).toBe(200);
    });

    it('names the field in a 400', async () => {
      const res = await clients.admin!.post<{ error: { code: string; message: string } }>('/api/ledger', { source: 'self_inspection', problem: 'p', measures: 'm', responsible: 'duty', deadline: 'soon' });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('deadline');
    });
  });
});
