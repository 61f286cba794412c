import path from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { authRoutes } from '../../api/routes/auth-routes.js';
import { alertRoutes } from '../../api/routes/alert-routes.js';
import { loadUsers } from '../../core/auth/user.js';
import { ConfigSchema } from '../../core/config/config-schema.js';
import { createLogger } from '../../core/logger.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { EsAlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { indexNames } from '../../pipeline/elasticsearch/indices.js';
import { RedisLoginAttempts } from '../../pipeline/redis/redis-login-attempts.js';
import { createHarness, shortPolicy, signalFor, type Harness } from '../support/alerting-harness.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { isolation } from '../support/isolation.js';

const repo = path.resolve(import.meta.dirname, '../..');
const BULK = /^POST \S*\/_bulk\b/;

interface Answer {
  user: string;
  id: string;
  requestId: string;
  status: number;
  body: { alert?: { status: string; acknowledgedBy?: string }; error?: { code: string; message: string } };
}

/**
 * The alert API's store talks to the real Elasticsearch node through a loopback proxy that cuts
 * chosen `_bulk` requests (a real network fault); sessions, users and the audit chain talk to it
 * directly. The store's client is the production one (`createEsClient`, client retries on).
 */
describe('acknowledgements whose coalesced _bulk loses its answer (real Elasticsearch behind a cutting proxy)', () => {
  const iso = isolation();
  const esUrl = new URL(iso.esUrl);
  const proxy = new CuttingProxy({ host: esUrl.hostname, port: Number(esUrl.port || 9200) });
  let h: Harness;
  let direct: EsAlertStore;
  let server: Server;
  let base: string;
  const cookies: Record<string, string> = {};

  async function sign(user: string, id: string): Promise<Answer> {
    const requestId = `ack-${id}-${user}`;
    const res = await fetch(`${base}/api/alerts/${id}/acknowledge`, {
      method: 'POST',
      headers: { cookie: cookies[user] ?? '', 'content-type': 'application/json', 'x-request-id': requestId },
      body: '{}',
    });
    return { user, id, requestId, status: res.status, body: (await res.json()) as Answer['body'] };
  }

  /** The alert ids a cut `_bulk` carried (its action lines). */
  const idsIn = (text: string) => [...text.matchAll(/"_id":"([^"]+)"/g)].map((m) => m[1]!);

  async function acknowledgements(id: string) {
    return (await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.acknowledge');
  }

  beforeAll(async () => {
    await proxy.start();
    const alertsEs = createEsClient(ConfigSchema.parse({ elasticsearch: { url: proxy.url, indexPrefix: iso.indexPrefix } }).elasticsearch);
    h = await createHarness({ ...iso, alertsEs, policy: shortPolicy() });
    const names = indexNames(iso.indexPrefix);
    direct = new EsAlertStore(h.es, names.alerts);
    const users = new EsUserStore(h.es, names.users);
    await users.seed(loadUsers(path.join(repo, 'config/demo/users.yaml')));
    const sessions = new RedisSessionStore(h.redis, iso.redisPrefix, 3600);
    const lockout = ConfigSchema.parse({}).auth;
    const app = createApp({
      log: createLogger('silent'),
      sessions,
      users,
      apiRouters: [
        authRoutes({ users, sessions, attempts: new RedisLoginAttempts(h.redis, iso.redisPrefix, lockout), audit: h.audit, lockout, timeZone: 'Asia/Shanghai', secureCookie: false, ttlSeconds: 3600 }),
        alertRoutes({
          calendar: { periods: [] },
          plans: [],
          roster: h.roster,
          alerts: h.alerts,
          timeZone: 'Asia/Shanghai',
          unitName: '青山县人民政府',
          now: () => new Date(),
          posts: new EsPostStore(h.es, names.posts, new BulkIndexer(h.es, { flushMs: 10 })),
          desk: h.desk,
        }),
      ],
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    for (const user of ['duty', 'duty2', 'chief']) {
      const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: 'qianshao-demo' }) });
      cookies[user] = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    }
  });
  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await h?.close();
    await proxy.stop();
    await iso.cleanup();
  });

  it('the answer is cut after Elasticsearch stored the bulk: the signers whose writes landed get 200 and their audit records, nobody gets a 409 for their own signature', async () => {
    const ids = Array.from({ length: 15 }, (_, i) => `landed-${i}`);
    await Promise.all(ids.map((id) => h.desk.raise(signalFor(id, 3))));
    proxy.cuts.length = 0;
    proxy.cutNext(BULK, 'before-response');
    const answers = await Promise.all(ids.flatMap((id) => ['duty', 'duty2', 'chief'].map((user) => sign(user, id))));

    expect(proxy.cuts).toHaveLength(1);
    const cutIds = new Set(idsIn(proxy.cuts[0]!.text));
    expect(cutIds.size).toBeGreaterThan(0);
    // Whatever the cut hid, every signer is told the truth: one 200 per alert, the others a 409 naming that winner.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 409)).toEqual([]);
    for (const id of ids) {
      const mine = answers.filter((a) => a.id === id);
      const won = mine.filter((a) => a.status === 200);
      expect(won.map((a) => a.user), id).toHaveLength(1);
      const winner = won[0]!;
      expect(winner.body.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: winner.user });
      expect(winner.body.alert).not.toHaveProperty('writes');
      // The stored alert carries the receipts of its creation and of the one acknowledgement that landed.
      expect(await direct.get(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: winner.user, writes: [expect.any(String), expect.any(String)] });
      for (const lost of mine.filter((a) => a.status === 409)) {
        expect(lost.body.error?.code).toBe('illegal_transition');
        expect(lost.body.error?.message).toContain(`（${winner.user} 已于`);
        expect(lost.body.error?.message).not.toContain(`（${lost.user} 已于`);
      }
      const records = await acknowledgements(id);
      expect(records.map((r) => r.requestId)).toEqual([winner.requestId]);
    }
    // Searches return alerts to read: the receipts stay in the store.
    await h.es.indices.refresh({ index: indexNames(iso.indexPrefix).alerts });
    const listed = await direct.list({ limit: 500 });
    expect(listed.length).toBeGreaterThanOrEqual(ids.length);
    for (const { alert } of listed) expect(alert).not.toHaveProperty('writes');
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a bulk cut before it reaches Elasticsearch is resent once with the same compare-and-set: every signer gets 200', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `resent-${i}`);
    await Promise.all(ids.map((id) => h.desk.raise(signalFor(id, 3))));
    proxy.cuts.length = 0;
    proxy.cutNext(BULK, 'before-request');
    const answers = await Promise.all(ids.map((id) => sign('duty', id)));

    expect(proxy.cuts).toHaveLength(1);
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    for (const id of ids) {
      expect(await direct.get(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty' });
      expect((await acknowledgements(id)).map((r) => r.requestId)).toEqual([`ack-${id}-duty`]);
    }
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('when the resend is cut too, the alert is fenced and its signers get a retryable 503 saying nothing was stored, with no audit record; signing again succeeds', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `unstored-${i}`);
    await Promise.all(ids.map((id) => h.desk.raise(signalFor(id, 3))));
    proxy.cuts.length = 0;
    proxy.requests.length = 0;
    proxy.cutNext(BULK, 'before-request', 2);
    const answers = await Promise.all(ids.map((id) => sign('duty', id)));

    expect(proxy.cuts).toHaveLength(2);
    // Before saying "not stored", the store fenced each such alert: rewritten unchanged with the
    // compare-and-set of the write in doubt (the only bulk carrying it that reached Elasticsearch).
    const forwarded = proxy.requests.filter((r) => BULK.test(r.requestLine)).map((r) => idsIn(r.text));
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    for (const a of refused) {
      expect(forwarded.filter((b) => b.includes(a.id)), a.id).toHaveLength(1);
      expect(a.body.error?.code).toBe('write_not_stored');
      expect(a.body.error?.message).toContain('未能保存');
      expect((await direct.get(a.id))?.status).toBe('new');
      expect(await acknowledgements(a.id)).toEqual([]);
    }
    for (const a of answers.filter((x) => x.status === 200)) expect((await acknowledgements(a.id)).map((r) => r.requestId)).toEqual([a.requestId]);

    const again = await Promise.all(refused.map((a) => sign('duty', a.id)));
    expect(again.map((a) => a.status)).toEqual(refused.map(() => 200));
    for (const id of ids) expect(await acknowledgements(id)).toHaveLength(1);
    expect((await h.audit.verify()).ok).toBe(true);
  });
  it('a 502 for the whole bulk after Elasticsearch stored it (a gateway in between): the signers get 200 and their audit records, not a 503, and the bulk is not resent', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `gateway-${i}`);
    await Promise.all(ids.map((id) => h.desk.raise(signalFor(id, 3))));
    proxy.cuts.length = 0;
    proxy.requests.length = 0;
    proxy.cutNext(BULK, 'answer-502');
    const answers = await Promise.all(ids.map((id) => sign('chief', id)));

    expect(proxy.cuts.map((c) => c.at)).toEqual(['answer-502']);
    // Neither the client (it would for a 502) nor the store sends those writes again: each alert was in one bulk.
    const bulks = proxy.requests.filter((r) => BULK.test(r.requestLine)).map((r) => idsIn(r.text));
    for (const id of ids) expect(bulks.filter((b) => b.includes(id)), id).toHaveLength(1);
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    for (const id of ids) {
      expect(await direct.get(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'chief' });
      expect((await acknowledgements(id)).map((r) => r.requestId)).toEqual([`ack-${id}-chief`]);
    }
    expect((await h.audit.verify()).ok).toBe(true);
  });
  it('an alert whose creation is answered by a cut connection after it was stored is raised once, with its audit record and its notifications', async () => {
    proxy.cuts.length = 0;
    proxy.cutNext(/^PUT \S*\/_create\//, 'before-response');
    const raised = await h.desk.raise(signalFor('created-cut', 2));

    expect(proxy.cuts).toHaveLength(1);
    expect(raised).toEqual({ alertId: 'created-cut', outcome: 'created' });
    expect(await direct.get('created-cut')).toMatchObject({ status: 'new', writes: [expect.any(String)] });
    expect((await h.audit.list({ entityId: 'created-cut' })).map((r) => r.action)).toEqual(['alert.create']);
    expect((await h.notifyJobs()).filter((j) => j.subject.id === 'created-cut').length).toBeGreaterThan(0);
    expect((await h.audit.verify()).ok).toBe(true);
  });
});
