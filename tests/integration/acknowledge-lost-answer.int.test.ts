import path from 'node:path';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { RedisSessionStore } from '../../api/sessions.js';
import { authRoutes } from '../../api/routes/auth-routes.js';
import { alertRoutes } from '../../api/routes/alert-routes.js';
import { loadUsers } from '../../core/auth/user.js';
import { ConfigSchema } from '../../core/config/config-schema.js';
import { UnavailableError } from '../../core/errors.js';
import { plannedClocks } from '../../core/escalation/clocks.js';
import { createLogger } from '../../core/logger.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { EsAlertStore } from '../../pipeline/elasticsearch/es-alert-store.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { EsUserStore } from '../../pipeline/elasticsearch/es-user-store.js';
import { indexNames } from '../../pipeline/elasticsearch/indices.js';
import { clockJobId } from '../../pipeline/escalate/clock-scheduler.js';
import { RedisUnsettledWrites } from '../../pipeline/redis/redis-unsettled-writes.js';
import { RedisLoginAttempts } from '../../pipeline/redis/redis-login-attempts.js';
import { RedisLoginRate } from '../../pipeline/redis/redis-login-rate.js';
import { BULK, createHarness, esClientThrough, esCuttingProxy, MGET, shortPolicy, signalFor, type Harness } from '../support/alerting-harness.js';
import { isolation } from '../support/isolation.js';

const repo = path.resolve(import.meta.dirname, '../..');
const CREATE = /^PUT \S*\/_create\//;

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
  const proxy = esCuttingProxy(iso);
  let h: Harness;
  let direct: EsAlertStore;
  let server: Server;
  let base: string;
  const cookies: Record<string, string> = {};

  async function sign(user: string, id: string, opts: { key?: string; version?: string; requestId?: string } = {}): Promise<Answer> {
    const requestId = opts.requestId ?? `ack-${id}-${user}`;
    const res = await fetch(`${base}/api/alerts/${id}/acknowledge`, {
      method: 'POST',
      headers: { cookie: cookies[user] ?? '', 'content-type': 'application/json', 'x-request-id': requestId, ...(opts.key ? { 'idempotency-key': opts.key } : {}) },
      body: JSON.stringify(opts.version ? { version: opts.version } : {}),
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
    const alertsEs = esClientThrough(proxy, iso);
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
        authRoutes({ users, sessions, attempts: new RedisLoginAttempts(h.redis, iso.redisPrefix, lockout), loginRate: new RedisLoginRate(h.redis, iso.redisPrefix, 1000), audit: h.audit, lockout, timeZone: 'Asia/Shanghai', secureCookie: false, ttlSeconds: 3600 }),
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
  // A cut a test armed but did not use must not fall on the next test's requests.
  afterEach(() => proxy.disarm());
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

  const auditActions = async (id: string) => (await h.audit.list({ entityId: id })).map((r) => r.action);

  it('a creation stored but unanswered whose read-back fails too: the raise looks once more, finds the alert by its receipt and writes its one alert.create record and notifications', async () => {
    proxy.cuts.length = 0;
    proxy.cutNext(CREATE, 'before-response');
    proxy.cutNext(MGET, 'before-request', 3, { after: CREATE });
    const raised = await h.desk.raise(signalFor('create-unread', 2));

    expect(proxy.cuts.map((c) => c.at)).toEqual(['before-response', 'before-request', 'before-request', 'before-request']);
    expect(raised).toEqual({ alertId: 'create-unread', outcome: 'created' });
    expect(await direct.get('create-unread')).toMatchObject({ status: 'new', writes: [expect.any(String)] });
    expect(await auditActions('create-unread')).toEqual(['alert.create']);
    expect((await h.notifyJobs()).filter((j) => j.subject.id === 'create-unread').length).toBeGreaterThan(0);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a creation stored but unanswered that the raise cannot confirm (write_outcome_unknown): the job retry finds the alert it stored and writes the missing alert.create record once; later retries and other raises write none', async () => {
    const signal = signalFor('create-unknown', 2);
    proxy.cuts.length = 0;
    proxy.cutNext(CREATE, 'before-response');
    // The read-back after the create fails (write_outcome_unknown), and so does the raise's one more
    // look: Elasticsearch unreachable, which the alert worker waits out and then retries the job.
    proxy.cutNext(MGET, 'before-request', 6, { after: CREATE });
    await expect(h.desk.raise(signal, 'alert-job-7')).rejects.toBeInstanceOf(UnavailableError);
    proxy.disarm();
    expect(await direct.get('create-unknown')).toMatchObject({ status: 'new' });
    expect(await auditActions('create-unknown')).toEqual([]);

    expect(await h.desk.raise(signal, 'alert-job-7')).toEqual({ alertId: 'create-unknown', outcome: 'created' });
    expect(await h.desk.raise(signal, 'alert-job-7')).toEqual({ alertId: 'create-unknown', outcome: 'unchanged' });
    expect(await h.desk.raise(signal, 'alert-job-8')).toEqual({ alertId: 'create-unknown', outcome: 'unchanged' });
    const [created] = await h.audit.list({ entityId: 'create-unknown' });
    expect(await auditActions('create-unknown')).toEqual(['alert.create']);
    expect(created?.actor.id).toBe('alert-evaluator');
    expect((await h.notifyJobs()).filter((j) => j.subject.id === 'create-unknown').length).toBeGreaterThan(0);

    // A retry of a raise whose create was answered (and audited) finds its receipt too and writes nothing.
    expect(await h.desk.raise(signalFor('create-answered', 2), 'alert-job-9')).toEqual({ alertId: 'create-answered', outcome: 'created' });
    expect(await h.desk.raise(signalFor('create-answered', 2), 'alert-job-9')).toEqual({ alertId: 'create-answered', outcome: 'unchanged' });
    expect(await auditActions('create-answered')).toEqual(['alert.create']);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a signer told write_outcome_unknown whose signature had landed resends it with the same Idempotency-Key: 200 and one audit record; another user, or the same user with a new key, still gets the 409 naming the signer', async () => {
    const id = 'ack-unknown';
    await h.desk.raise(signalFor(id, 3));
    const seen = (await direct.getVersioned(id))!.version;
    const key = 'ack-unknown-key-1';
    proxy.cuts.length = 0;
    proxy.cutNext(BULK, 'before-response');
    // The store's read-back and the desk's one more look both fail (three cuts fail one read).
    proxy.cutNext(MGET, 'before-request', 6, { after: BULK });
    const first = await sign('duty', id, { key, version: seen });

    expect(proxy.cuts.map((c) => c.at)).toEqual(['before-response', ...Array(6).fill('before-request')]);
    expect(first.status).toBe(503);
    expect(first.body.error?.code).toBe('write_outcome_unknown');
    expect(await direct.get(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty' });
    expect(await acknowledgements(id)).toEqual([]);

    // The page resends what it sent, the version it had loaded included.
    const again = await sign('duty', id, { key, version: seen, requestId: `ack-${id}-duty-again` });
    expect(again.status).toBe(200);
    expect(again.body.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty' });
    expect(again.body.alert).not.toHaveProperty('writes');
    expect(await sign('duty', id, { key, requestId: `ack-${id}-duty-third` })).toMatchObject({ status: 200 });
    const records = await acknowledgements(id);
    expect(records.map((r) => [r.requestId, r.idempotencyKey, r.actor.id])).toEqual([[`ack-${id}-duty-again`, key, 'duty']]);

    const other = await sign('duty2', id, { key });
    expect(other.status).toBe(409);
    expect(other.body.error?.message).toContain('（duty 已于');
    const fresh = await sign('duty', id, { key: 'ack-unknown-key-2' });
    expect(fresh.status).toBe(409);
    expect(await acknowledgements(id)).toHaveLength(1);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a signature whose write the store could not confirm, found on the desk\'s one more look: 200 at once, with its audit record, no resend needed', async () => {
    const id = 'ack-look-again';
    await h.desk.raise(signalFor(id, 3));
    proxy.cuts.length = 0;
    proxy.cutNext(BULK, 'before-response');
    proxy.cutNext(MGET, 'before-request', 3, { after: BULK });
    const first = await sign('duty', id);
    expect(proxy.cuts).toHaveLength(4);
    expect(first.status).toBe(200);
    expect(first.body.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'duty' });
    expect((await acknowledgements(id)).map((r) => r.requestId)).toEqual([`ack-${id}-duty`]);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a signature answered 200 whose answer never reached the page, resent with its Idempotency-Key: 200 again and still one audit record; the first send cost one read and one write, as without a key', async () => {
    const id = 'ack-answered';
    await h.desk.raise(signalFor(id, 3));
    const key = 'ack-answered-key-1';
    proxy.requests.length = 0;
    const first = await sign('chief', id, { key });
    expect(first.status).toBe(200);
    expect(proxy.requests.map((r) => r.requestLine.replace(/\?.*$/, '').replace(/^(\S+) \S*\//, '$1 /'))).toEqual(['POST /_mget', 'POST /_bulk']);

    const again = await sign('chief', id, { key, requestId: `ack-${id}-chief-again` });
    expect(again.status).toBe(200);
    expect(again.body.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'chief' });
    expect((await acknowledgements(id)).map((r) => r.requestId)).toEqual([`ack-${id}-chief`]);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a manual escalation whose answer was lost, resent with its key: its notifications are queued and the change published; the same key with another body is a new request', async () => {
    const id = 'esc-unknown';
    await h.desk.raise(signalFor(id, 3));
    const post = (who: string, path: string, body: unknown, key: string) =>
      fetch(`${base}/api/alerts/${id}/${path}`, { method: 'POST', headers: { cookie: cookies[who] ?? '', 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });
    const key = 'esc-unknown-key-1';
    proxy.cutNext(BULK, 'before-response');
    proxy.cutNext(MGET, 'before-request', 6, { after: BULK });
    const first = await post('chief', 'escalate', { reason: '涉及多个部门，需上报' }, key);
    expect(first.status).toBe(503);
    const stored = (await direct.get(id))!;
    expect(stored.escalationStep).toBe(1);
    const sent = stored.notifications.filter((n) => n.at === stored.updatedAt && n.decision === 'send').flatMap((n) => n.jobIds);
    expect(sent.length).toBeGreaterThan(0);
    // The first attempt never got past its write: none of its deliveries was queued.
    expect((await h.notifyJobs()).map((j) => j.id)).not.toEqual(expect.arrayContaining(sent));
    const published = h.changes.length;

    const again = await post('chief', 'escalate', { reason: '涉及多个部门，需上报' }, key);
    expect(again.status).toBe(200);
    expect((await h.notifyJobs()).map((j) => j.id)).toEqual(expect.arrayContaining(sent));
    expect(h.changes.slice(published)).toEqual([expect.objectContaining({ alertId: id, change: 'escalate' })]);
    expect((await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.escalate')).toHaveLength(1);

    // The same key with an edited body is not the same request: it is decided as a new one.
    const edited = await post('chief', 'escalate', { reason: '再次上报' }, key);
    expect(edited.status).toBe(200);
    expect((await direct.get(id))!.escalationStep).toBe(2);
    expect((await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.escalate')).toHaveLength(2);
  });

  /** A signature whose write lands but whose answer and read-backs are all lost: the signer is told write_outcome_unknown. */
  async function signUnconfirmed(user: string, id: string, key?: string) {
    proxy.cutNext(BULK, 'before-response');
    proxy.cutNext(MGET, 'before-request', 6, { after: BULK });
    const first = await sign(user, id, key ? { key } : {});
    expect(first.status).toBe(503);
    expect(first.body.error?.code).toBe('write_outcome_unknown');
    return first;
  }

  const unsettledOf = async (id: string) => (await new RedisUnsettledWrites(h.redis, iso.redisPrefix).list(1000)).filter((w) => w.alertId === id);

  /** Every planned clock of the alert as stored has its delayed job on the escalate queue. */
  async function clocksArmed(id: string): Promise<boolean> {
    const alert = (await direct.get(id))!;
    const clocks = plannedClocks(alert);
    expect(clocks.length).toBeGreaterThan(0);
    const jobs = await Promise.all(clocks.map((c) => h.queues.escalate.getJob(clockJobId(id, c))));
    return jobs.every((j) => j !== undefined);
  }

  it('two resends of a signature whose answer was lost, arriving at the same moment with the same Idempotency-Key: both 200, one audit record between them; the settler then finds it recorded', async () => {
    const id = 'ack-resent-twice';
    await h.desk.raise(signalFor(id, 3));
    const key = 'ack-resent-twice-key';
    await signUnconfirmed('duty', id, key);
    expect(await acknowledgements(id)).toEqual([]);

    const resends = await Promise.all([sign('duty', id, { key, requestId: `${id}-a` }), sign('duty', id, { key, requestId: `${id}-b` })]);
    expect(resends.map((a) => a.status)).toEqual([200, 200]);
    const records = await acknowledgements(id);
    expect(records).toHaveLength(1);
    expect([`${id}-a`, `${id}-b`]).toContain(records[0]!.requestId);

    expect((await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id)).toEqual([expect.objectContaining({ outcome: 'already-recorded' })]);
    expect(await unsettledOf(id)).toEqual([]);
    expect(await acknowledgements(id)).toHaveLength(1);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it("a resend that arrives while the first attempt's write has landed but its audit record is not yet written: both 200, one audit record", async () => {
    const id = 'ack-resend-races';
    await h.desk.raise(signalFor(id, 3));
    const key = 'ack-resend-races-key';
    // The audit chain's writer lock is held elsewhere, so the first attempt waits with its record unwritten.
    const lock = `${iso.redisPrefix}:audit:lock`;
    // (The raise's own append may still be releasing it.)
    await expect.poll(() => h.redis.set(lock, 'held-by-the-test', 'PX', 20_000, 'NX'), { timeout: 5000 }).toBe('OK');
    try {
      const first = sign('duty', id, { key });
      await expect.poll(async () => (await direct.get(id))?.status, { timeout: 5000 }).toBe('acknowledged');
      const resend = sign('duty', id, { key, requestId: `ack-${id}-duty-again` });
      // Both wait for the chain now (the resend has looked at the alert and found its write).
      await new Promise((r) => setTimeout(r, 500));
      await h.redis.del(lock);
      expect((await Promise.all([first, resend])).map((a) => a.status)).toEqual([200, 200]);
    } finally {
      await h.redis.del(lock);
    }
    expect((await acknowledgements(id)).map((r) => r.requestId)).toEqual([`ack-${id}-duty`]);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a reopening whose write landed, told write_outcome_unknown and never resent: the settler writes its one audit record, arms the new cycle\'s clocks and queues its notifications; a later resend or settler run writes none', async () => {
    const id = 'reopen-settled';
    await h.desk.raise(signalFor(id, 3));
    const act = (path: string, body: unknown, opts: { key?: string; requestId?: string } = {}) =>
      fetch(`${base}/api/alerts/${id}/${path}`, {
        method: 'POST',
        headers: { cookie: cookies.chief ?? '', 'content-type': 'application/json', 'x-request-id': opts.requestId ?? `${id}-${path}`, ...(opts.key ? { 'idempotency-key': opts.key } : {}) },
        body: JSON.stringify(body),
      });
    expect((await act('false-positive', { reason: '测试误报' })).status).toBe(200);
    const key = 'reopen-settled-key';
    proxy.cutNext(BULK, 'before-response');
    proxy.cutNext(MGET, 'before-request', 6, { after: BULK });
    const first = await act('reopen', { reason: '事件再次发酵' }, { key });
    expect(first.status).toBe(503);
    expect(((await first.json()) as Answer['body']).error?.code).toBe('write_outcome_unknown');
    const stored = (await direct.get(id))!;
    expect(stored.status).toBe('new');
    expect(stored.reopenCount).toBe(1);
    const reopened = (await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.reopen');
    expect(reopened).toEqual([]);
    expect(await unsettledOf(id)).toEqual([expect.objectContaining({ requestId: `${id}-reopen`, idempotencyKey: key, actor: expect.objectContaining({ id: 'chief' }), action: { type: 'reopen', reason: '事件再次发酵' } })]);
    // The new cycle's clocks and the reopening's deliveries never left: the first attempt stopped at its write.
    expect(await clocksArmed(id)).toBe(false);
    const sent = stored.notifications.filter((n) => n.at === stored.updatedAt && n.decision === 'send').flatMap((n) => n.jobIds);
    expect(sent.length).toBeGreaterThan(0);
    expect((await h.notifyJobs()).map((j) => j.id)).not.toEqual(expect.arrayContaining(sent));

    expect((await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id)).toEqual([expect.objectContaining({ outcome: 'recorded' })]);
    const records = (await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.reopen');
    expect(records.map((r) => [r.requestId, r.idempotencyKey, r.actor.id, r.reason])).toEqual([[`${id}-reopen`, key, 'chief', '事件再次发酵']]);
    expect(records[0]!.before).toMatchObject({ status: 'false_positive' });
    expect(records[0]!.after).toMatchObject({ status: 'new', reopenCount: 1, recordedBySettler: true });
    expect(await clocksArmed(id)).toBe(true);
    expect((await h.notifyJobs()).map((j) => j.id)).toEqual(expect.arrayContaining(sent));
    expect(await unsettledOf(id)).toEqual([]);

    expect((await act('reopen', { reason: '事件再次发酵' }, { key, requestId: `${id}-reopen-again` })).status).toBe(200);
    expect((await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id)).toEqual([]);
    expect((await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.reopen')).toHaveLength(1);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('a lost signature whose version another write took is not-landed while that write\'s receipt is kept; once later writes pushed every telling receipt out, the settler records the attempt as alert.write_outcome_unknown, once', async () => {
    for (const [id, merges, outcome] of [
      ['ack-taken-kept', 1, 'not-landed'],
      ['ack-taken-pushed-out', 9, 'undecidable'],
    ] as const) {
      await h.desk.raise(signalFor(id, 3));
      proxy.cutNext(BULK, 'before-request');
      proxy.cutNext(MGET, 'before-request', 6, { after: BULK });
      const first = await sign('duty', id);
      expect(first.body.error?.code).toBe('write_outcome_unknown');
      // The evaluator merges new posts into the alert before the settler runs: the first merge takes the version the signature was made against.
      for (let k = 0; k < merges; k++) expect((await h.desk.raise(signalFor(id, 3, `${id}-p${k + 2}`))).outcome).toBe('merged');
      expect((await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id)).toEqual([expect.objectContaining({ outcome })]);
      expect(await unsettledOf(id)).toEqual([]);
      expect(await acknowledgements(id)).toEqual([]);
      const unknown = (await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.write_outcome_unknown');
      if (outcome === 'not-landed') expect(unknown).toEqual([]);
      else {
        expect(unknown.map((r) => [r.actor.id, r.requestId, (r.after as { attempted: string }).attempted])).toEqual([['duty', `ack-${id}-duty`, 'alert.acknowledge']]);
        expect((await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id)).toEqual([]);
      }
    }
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('an entry the settler cannot read is set aside, and the others are still settled', async () => {
    const aside = `${iso.redisPrefix}:alerts:unsettled-writes:aside`;
    await h.redis.hset(`${iso.redisPrefix}:alerts:unsettled-writes`, 'k.garbled@1:1', '{not json');
    await h.desk.settleUnsettledWrites();
    expect(await h.redis.hget(aside, 'k.garbled@1:1')).toBe('{not json');
    expect(await h.redis.hexists(`${iso.redisPrefix}:alerts:unsettled-writes`, 'k.garbled@1:1')).toBe(0);
  });

  it('a signature told write_outcome_unknown whose write never reached Elasticsearch: the settler fences the alert so it cannot land later, drops the entry and writes no record; signing again succeeds', async () => {
    const id = 'ack-never-landed';
    await h.desk.raise(signalFor(id, 3));
    const seen = (await direct.getVersioned(id))!.version;
    proxy.cutNext(BULK, 'before-request');
    proxy.cutNext(MGET, 'before-request', 6, { after: BULK });
    const first = await sign('duty', id);
    expect(first.status).toBe(503);
    expect(first.body.error?.code).toBe('write_outcome_unknown');
    expect(await unsettledOf(id)).toHaveLength(1);

    expect((await h.desk.settleUnsettledWrites()).filter((s) => s.alertId === id)).toEqual([expect.objectContaining({ outcome: 'not-landed' })]);
    expect(await unsettledOf(id)).toEqual([]);
    const fenced = (await direct.getVersioned(id))!;
    expect(fenced.alert.status).toBe('new');
    expect(fenced.version).not.toBe(seen);
    expect(await acknowledgements(id)).toEqual([]);
    // The fence is the settler's own change, in the trail once.
    const fences = (await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.write_fenced');
    expect(fences.map((r) => [r.actor.id, (r.after as { by: string; attempted: string }).by, (r.after as { attempted: string }).attempted])).toEqual([['settler', 'duty', 'alert.acknowledge']]);

    expect(await sign('duty', id, { requestId: `ack-${id}-duty-again` })).toMatchObject({ status: 200 });
    expect((await acknowledgements(id)).map((r) => r.requestId)).toEqual([`ack-${id}-duty-again`]);
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('an Idempotency-Key that is not a key is refused (400) before anything is written', async () => {
    const id = 'ack-badkey';
    await h.desk.raise(signalFor(id, 3));
    const answer = await sign('duty', id, { key: 'short' });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('invalid_idempotency_key');
    expect((await direct.get(id))?.status).toBe('new');
  });
});
