import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditActor } from '../../core/audit/audit-log.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { isolation } from '../support/isolation.js';
import { createHarness, shortPolicy, signalFor, type Harness } from '../support/alerting-harness.js';

const people: AuditActor[] = [
  { kind: 'user', id: 'duty', displayName: '张值班', roles: ['duty'] },
  { kind: 'user', id: 'chief', displayName: '刘科长', roles: ['section_chief'] },
  { kind: 'user', id: 'leader', displayName: '陈副部长', roles: ['leader'] },
];

describe('simultaneous acknowledgements through the coalesced reads and writes (real Redis and Elasticsearch)', () => {
  const iso = isolation();
  let h: Harness;
  /** Elasticsearch requests by endpoint, counted while `counting` is on. */
  const requests = new Map<string, number>();
  let counting = false;

  beforeAll(async () => {
    h = await createHarness({ ...iso, policy: shortPolicy() });
    h.es.diagnostic.on('response', (_err, res) => {
      if (!counting || !res) return;
      const endpoint = res.meta.request.params.path.split('/').at(-1)!;
      requests.set(endpoint, (requests.get(endpoint) ?? 0) + 1);
    });
  });
  afterAll(async () => {
    await h?.close();
    await iso.cleanup();
  });

  const raiseAll = (ids: string[]) => Promise.all(ids.map((id) => h.desk.raise(signalFor(id, 3))));

  it('40 alerts each signed by three people at once: one wins per alert, the others get a 409 naming the winner, every win is in the audit chain', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    await raiseAll(ids);
    const calls = ids.flatMap((id) => people.map((actor) => ({ id, actor, requestId: `req-${id}-${actor.id}` })));
    // An unknown alert in the same burst is its caller's 404 alone.
    const unknown = ['burst-missing-1', 'burst-missing-2'];
    requests.clear();
    counting = true;
    const [results, missing] = await Promise.all([
      Promise.allSettled(calls.map((c) => h.desk.act(c.id, { type: 'acknowledge' }, c.actor, c.requestId))),
      Promise.allSettled(unknown.map((id) => h.desk.act(id, { type: 'acknowledge' }, people[0]!))),
    ]);
    counting = false;

    // The 122 acts went out as a few batched requests, not one GET and one write each.
    expect(requests.get('_mget') ?? 0).toBeLessThan(30);
    expect(requests.get('_bulk') ?? 0).toBeLessThan(60);
    expect(requests.get('_doc') ?? 0).toBe(0);
    for (const m of missing) expect(m.status === 'rejected' && m.reason instanceof NotFoundError).toBe(true);

    const winners = new Map<string, string>();
    for (const id of ids) {
      const mine = calls.map((c, i) => ({ ...c, result: results[i]! })).filter((c) => c.id === id);
      const won = mine.filter((c) => c.result.status === 'fulfilled');
      expect(won, id).toHaveLength(1);
      const winner = won[0]!;
      winners.set(id, winner.requestId);
      const stored = (await h.alerts.get(id))!;
      expect(stored).toMatchObject({ status: 'acknowledged', acknowledgedBy: winner.actor.id });
      for (const lost of mine.filter((c) => c.result.status === 'rejected')) {
        const reason = (lost.result as PromiseRejectedResult).reason as ConflictError;
        expect(reason).toBeInstanceOf(ConflictError);
        expect(reason).toMatchObject({ httpStatus: 409, code: 'illegal_transition' });
        expect(reason.message).toContain(winner.actor.id);
      }
    }

    const signed = (await h.audit.list({ entityType: 'alert', limit: 1000 })).filter((r) => r.action === 'alert.acknowledge');
    expect(signed).toHaveLength(ids.length);
    for (const r of signed) {
      expect(r.requestId).toBe(winners.get(r.entity.id));
      expect(r.before).toMatchObject({ status: 'new' });
      expect(r.after).toMatchObject({ status: 'acknowledged' });
    }
    expect((await h.audit.verify()).ok).toBe(true);
  });

  it('signers sending the version they saw: in one bulk the first compare-and-set wins, the others are told the alert changed', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `seen-${i}`);
    await raiseAll(ids);
    const seen = new Map(await Promise.all(ids.map(async (id) => [id, (await h.alerts.getVersioned(id))!.version] as const)));
    const calls = ids.flatMap((id) => people.map((actor) => ({ id, actor, requestId: `req-seen-${id}-${actor.id}` })));
    const results = await Promise.allSettled(calls.map((c) => h.desk.act(c.id, { type: 'acknowledge' }, c.actor, c.requestId, seen.get(c.id))));

    for (const id of ids) {
      const mine = calls.map((c, i) => ({ ...c, result: results[i]! })).filter((c) => c.id === id);
      expect(mine.filter((c) => c.result.status === 'fulfilled'), id).toHaveLength(1);
      for (const lost of mine.filter((c) => c.result.status === 'rejected')) {
        const reason = (lost.result as PromiseRejectedResult).reason as ConflictError;
        expect(reason).toBeInstanceOf(ConflictError);
        expect(reason.httpStatus).toBe(409);
        expect(['version_conflict', 'stale_version']).toContain(reason.code);
        expect(reason.message).toMatch(/修改/);
      }
      const records = (await h.audit.list({ entityId: id })).filter((r) => r.action === 'alert.acknowledge');
      expect(records).toHaveLength(1);
      expect(records[0]!.actor.id).toBe((await h.alerts.get(id))!.acknowledgedBy);
    }
    expect((await h.audit.verify()).ok).toBe(true);
  });
});
