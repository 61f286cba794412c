/**
 * Alerting benchmarks against the real Redis and Elasticsearch (`npm run bench:alerts`):
 *  1. escalation lateness: 10,000 open alerts, 2,000 of them with their first escalation step due
 *     within a two-minute window; one escalate worker process (concurrency 8) fires them;
 *     lateness = when the step was recorded as fired − its due time;
 *  2. acknowledge latency over HTTP with 50 concurrent clients, each signing distinct alerts, in
 *     closed loop and then paced (`BENCH_ACK_RATES`); the API runs in `BENCH_API_PROCESSES` (1)
 *     processes of its own (bench/ack-api.ts), the clients in another (bench/ack-clients.ts);
 *  3. SSE: from raising a new alert to a connected client receiving its event.
 * Each run uses its own Redis prefix and index prefix and drops them afterwards.
 */
import { fork } from 'node:child_process';
import cluster from 'node:cluster';
import { loadavg } from 'node:os';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { newAlert } from '../core/alerts/raise-alert.js';
import { loadUsers } from '../core/auth/user.js';
import { nextDueAt } from '../core/escalation/clocks.js';
import { createLogger } from '../core/logger.js';
import { EsUserStore } from '../pipeline/elasticsearch/es-user-store.js';
import { ensureIndices, indexNames } from '../pipeline/elasticsearch/indices.js';
import { createQueues, createRedis } from '../pipeline/queues.js';
import { isolation } from '../tests/support/isolation.js';
import { createTestDesk, shortPolicy, signalFor } from '../tests/support/alerting-harness.js';
import { esCpuMs, redisCpuSeconds } from './server-cpu.js';
import { startEscalateRole } from '../pipeline/escalate/escalate-role.js';

const OPEN = Number(process.env.BENCH_OPEN_ALERTS ?? 10_000);
const DUE = Number(process.env.BENCH_DUE_ALERTS ?? 2_000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_SECONDS ?? 120);
const CLIENTS = 50;
/** API processes for the acknowledge and SSE phases (`api.processes` in the product). */
const API_PROCESSES = Number(process.env.BENCH_API_PROCESSES ?? 1);
const ACKS = Number(process.env.BENCH_ACKS ?? 500);
/** After the closed-loop phase, one phase per offered rate (acknowledgements a second, all clients together). */
const ACK_RATES = (process.env.BENCH_ACK_RATES ?? '100,200,400').split(',').filter(Boolean).map(Number);
/** `acknowledge` skips the escalation run (for a profile of the acknowledge path alone, e.g. under `node --cpu-prof`). */
const ONLY = process.env.BENCH_ONLY;

/** Calls per command since the Redis server started (INFO commandstats). */
async function redisCommands(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const row = (name: string, v: number[]) => `| ${name} | ${v.length} | ${pct(v, 50).toFixed(0)} | ${pct(v, 95).toFixed(0)} | ${pct(v, 99).toFixed(0)} | ${Math.max(...v).toFixed(0)} |`;

async function main(): Promise<void> {
  const iso = isolation();
  const es = new Client({ node: iso.esUrl });
  const redis = new Redis(iso.redisUrl, { maxRetriesPerRequest: null });
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  const queues = createQueues(redis, iso.redisPrefix);
  const log = createLogger('warn');
  // Escalation steps far in the future except the first, which each test alert sets itself.
  const policy = shortPolicy();
  // As the product composes it (bin/roles/context.ts): BullMQ on its own connection, the rest auto-pipelined.
  const commands = createRedis(iso.redisUrl, { autoPipelining: true });
  const { desk, alerts, clocks } = await createTestDesk({ es, redis, commands, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix, policy });
  const results: string[] = [];
  try {
    // 1. Escalation lateness.
    const start = Date.now() + 30_000;
    const farPolicy = { ...policy, levels: Object.fromEntries(Object.entries(policy.levels).map(([k, v]) => [k, { ...v, acknowledgeSeconds: 7 * 86400, steps: [{ afterSeconds: 7 * 86400, role: 'section_chief' as const }] }])) } as typeof policy;
    console.error(`creating ${OPEN} open alerts…`);
    const all = Array.from({ length: OPEN }, (_, i) => {
      const due = i < DUE ? start + (i / DUE) * WINDOW_S * 1000 : start + 86_400_000;
      // The cycle starts so that the first step (afterSeconds = 60) falls due at `due`.
      const cycle = new Date(due - 60_000);
      const p = { ...farPolicy, levels: { ...farPolicy.levels, yellow: { ...farPolicy.levels.yellow, steps: [{ afterSeconds: 60, role: 'section_chief' as const }] } } };
      const a = newAlert(signalFor(`b${i}`, 3), { now: cycle, policy: p, calendar: { periods: [] }, timeZone: 'Asia/Shanghai' });
      return { ...a, nextDueAt: nextDueAt(a) };
    });
    for (let i = 0; i < all.length; i += 1000) {
      const body = all.slice(i, i + 1000).flatMap((a) => [{ create: { _index: names.alerts, _id: a.id } }, a]);
      const res = await es.bulk({ operations: body, refresh: false });
      if (res.errors) throw new Error('bulk create failed');
      for (const a of all.slice(i, i + 1000)) await clocks.arm(a);
    }
    await es.indices.refresh({ index: names.alerts });
    if (ONLY !== 'acknowledge') console.error(`armed; first step due in ${((start - Date.now()) / 1000).toFixed(0)} s over ${WINDOW_S} s`);
    if (ONLY !== 'acknowledge') {
      const role = startEscalateRole({ desk, alerts, queue: queues.escalate, clocks, connection: redis, prefix: iso.redisPrefix, concurrency: 8, reconcileEverySeconds: 3600, log, now: () => new Date() });
      const endBy = start + WINDOW_S * 1000 + 120_000;
      let lateness: number[] = [];
      while (Date.now() < endBy) {
        await new Promise((r) => setTimeout(r, 5_000));
        await es.indices.refresh({ index: names.alerts });
        const count = await es.count({ index: names.alerts, query: { range: { escalationStep: { gte: 1 } } } });
        if (count.count >= DUE) break;
      }
      await role.close();
      await es.indices.refresh({ index: names.alerts });
      for (let i = 0; i < DUE; i += 500) {
        const ids = all.slice(i, Math.min(DUE, i + 500)).map((a) => a.id);
        const docs = await es.mget<(typeof all)[number]>({ index: names.alerts, ids });
        for (const d of docs.docs) {
          const fired = '_source' in d ? d._source?.firedClocks.find((f) => f.clockId === 'escalate-1') : undefined;
          lateness.push(fired ? fired.lateMs : Number.POSITIVE_INFINITY);
        }
      }
      const missing = lateness.filter((l) => !Number.isFinite(l)).length;
      lateness = lateness.filter((l) => Number.isFinite(l));
      results.push(row(`escalation step lateness, ms (${OPEN} open alerts, ${DUE} steps due over ${WINDOW_S} s; ${missing} not fired)`, lateness));
    }

    // 2 + 3. The API in its own processes (node:cluster workers sharing one port, as `api.processes`
    // runs it in the product), so the CPU measured per process is the API's alone.
    const users = new EsUserStore(es, names.users);
    await users.seed(loadUsers(path.resolve(import.meta.dirname, '../config/demo/users.yaml')));
    // BENCH_API_PROFILE=<dir>: each API process writes a V8 CPU profile there (cut it with the window times printed below).
    const profile = process.env.BENCH_API_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_API_PROFILE}`] : [];
    cluster.setupPrimary({ exec: path.resolve(import.meta.dirname, 'ack-api.ts'), execArgv: [...profile, ...(process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx'] });
    const isolationEnv = JSON.stringify({ redisUrl: iso.redisUrl, esUrl: iso.esUrl, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix });
    const apis = Array.from({ length: API_PROCESSES }, () => cluster.fork({ BENCH_ISOLATION: isolationEnv }));
    const ports = await Promise.all(apis.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', (m: { port: number }) => resolve(m.port));
      w.once('exit', (code) => reject(new Error(`an API process exited with ${code}`)));
    })));
    /** CPU time (ms) of the API processes so far, user and kernel, and their Elasticsearch requests by method and path. */
    const apiStats = async () => {
      const each = await Promise.all(apis.map((w) => new Promise<{ cpu: { user: number; system: number }; esRequests: Record<string, number> }>((resolve) => {
        w.once('message', resolve);
        w.send('stats');
      })));
      const esRequests = new Map<string, number>();
      for (const e of each) for (const [what, n] of Object.entries(e.esRequests)) esRequests.set(what, (esRequests.get(what) ?? 0) + n);
      return { user: each.reduce((s, e) => s + e.cpu.user, 0) / 1000, system: each.reduce((s, e) => s + e.cpu.system, 0) / 1000, esRequests };
    };
    const port = ports[0]!;
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'duty', password: 'qianshao-demo' }) });
    if (!login.ok) throw new Error(`sign-in failed (${login.status}): the acknowledgements would be refusals`);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    // The clients run in their own process too: the API processes' CPU (Express, sessions, the desk,
    // the audit log, the Elasticsearch and Redis clients) is reported beside theirs.
    // Each phase signs alerts no earlier phase signed.
    let nextTarget = DUE;
    const acknowledgePhase = async (ratePerSecond?: number) => {
      const targets = all.slice(nextTarget, nextTarget + ACKS).map((a) => a.id);
      nextTarget += ACKS;
      if (targets.length < ACKS) throw new Error(`BENCH_OPEN_ALERTS is too small for ${ACK_RATES.length + 1} phases of ${ACKS} acknowledgements`);
      const clients = fork(path.resolve(import.meta.dirname, 'ack-clients.ts'), { execArgv: ['--import', 'tsx'] });
      const fromClients = (): Promise<Record<string, unknown>> =>
        new Promise((resolve, reject) => {
          clients.once('message', (m) => resolve(m as Record<string, unknown>));
          clients.once('exit', (code) => reject(new Error(`the clients' process exited with ${code}`)));
        });
      await fromClients(); // ready
      const answered = fromClients() as Promise<{ times: number[]; failures: number; cpuMs: number }>;
      const calls0 = await redisCommands(redis);
      const [es0, redis0] = [await esCpuMs(es), await redisCpuSeconds(redis)];
      const cpu0 = await apiStats();
      const wall0 = performance.now();
      const load0 = loadavg()[0]!;
      const how = ratePerSecond ? `paced at ${ratePerSecond}/s` : 'closed loop';
      // On the profile's clock (monotonic µs), so a profile can be cut to the acknowledgements alone.
      console.error(`acknowledge (${how}) window starts at ${process.hrtime.bigint() / 1000n} µs`);
      clients.send({ base, cookie, ids: targets, clients: CLIENTS, ...(ratePerSecond ? { ratePerSecond } : {}) });
      const { times, failures, cpuMs: clientCpuMs } = await answered;
      const cpu1 = await apiStats();
      const cpu = { user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system };
      const esRequests = [...cpu1.esRequests].map(([what, n]) => [what, n - (cpu0.esRequests.get(what) ?? 0)] as const).filter(([, n]) => n > 0);
      const wall = performance.now() - wall0;
      console.error(`acknowledge (${how}) window ends at ${process.hrtime.bigint() / 1000n} µs`);
      const [esUsed, redisUsed] = [(await esCpuMs(es)) - es0, ((await redisCpuSeconds(redis)) - redis0) * 1000];
      const calls = await redisCommands(redis);
      const perAck = [...calls].map(([name, n]) => [name, (n - (calls0.get(name) ?? 0)) / times.length] as const).filter(([, n]) => n >= 0.01);
      console.error(`  Elasticsearch requests per acknowledgement (the API processes): ${esRequests.sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w} ${(n / times.length).toFixed(2)}`).join(', ')}`);
      console.error(`  Redis commands per acknowledgement (the whole server): ${perAck.sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${c.toFixed(2)}`).join(', ')}`);
      // CPU per acknowledgement; Elasticsearch and Redis are not counted.
      const rate = times.length / (wall / 1000);
      const apiCpuPerAck = (cpu.user + cpu.system) / times.length;
      const apiSystem = cpu.system / times.length;
      console.error(`  ${rate.toFixed(0)}/s, ${apiCpuPerAck.toFixed(2)} ms CPU per acknowledgement in the ${API_PROCESSES} API process(es) (${apiSystem.toFixed(2)} of it in the kernel), ${(clientCpuMs / times.length).toFixed(2)} ms in the clients' process, Elasticsearch ${(esUsed / times.length).toFixed(2)} ms, Redis ${(redisUsed / times.length).toFixed(2)} ms (whole servers), load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`);
      results.push(row(`acknowledge over HTTP, ms (${CLIENTS} concurrent clients, ${API_PROCESSES} API process${API_PROCESSES > 1 ? 'es' : ''}, ${how}: ${rate.toFixed(0)}/s, ${failures} non-200)`, times));
    };
    await acknowledgePhase();
    for (const rate of ACK_RATES) await acknowledgePhase(rate);

    const sse: number[] = [];
    const res = await fetch(`${base}/api/live`, { headers: { cookie } });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (let i = 0; i < 30; i++) {
      const id = `sse-${i}`;
      const t0 = performance.now();
      void desk.raise(signalFor(id, 3));
      let text = '';
      while (!text.includes(`"alertId":"${id}"`)) text += decoder.decode((await reader.read()).value);
      sse.push(performance.now() - t0);
    }
    await reader.cancel();
    results.push(row('new alert → SSE client, ms (raise through create, audit, publish, stream)', sse));
    await Promise.all(apis.map((w) => new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.send('close');
    })));
  } finally {
    await queues.close();
    await es.close();
    redis.disconnect();
    commands.disconnect();
    await iso.cleanup();
  }
  console.log('| measurement | n | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|');
  for (const r of results) console.log(r);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
