/**
 * The acknowledge bench's HTTP clients, in their own process so the bench process's CPU is the
 * API's alone. Started by alerts.bench.ts: says `{ ready: true }`, takes `{ base, cookie, ids,
 * clients, ratePerSecond? }` over IPC, answers `{ times, failures, cpuMs }`, then exits.
 *
 * Each client is one keep-alive connection of `node:http` (a browser's is one of its six): the
 * clients share the machine's two cores with the API, Elasticsearch and Redis, and `fetch` spent
 * about as much CPU per request as the API itself (1.1–1.4 ms against 0.2 ms here), CPU the API
 * under test did not get.
 *
 * Closed loop (no `ratePerSecond`): each client signs its next alert as soon as the last is
 * answered, i.e. the API's saturation. Paced: together the clients sign `ratePerSecond` alerts a
 * second at Poisson-distributed moments (each client 1/`clients` of the rate); a client whose
 * previous request is still out sends late, and the time counts from the moment it was due
 * (no coordinated omission: a slow API shows in the latency, not in a lower rate).
 */
import http from 'node:http';

interface Orders {
  base: string;
  cookie: string;
  ids: string[];
  clients: number;
  ratePerSecond?: number;
}

function post(agent: http.Agent, url: URL, path: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path, method: 'POST', headers: { cookie, 'content-type': 'application/json', 'content-length': 2 } },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

process.once('message', (orders: Orders) => {
  void (async () => {
    const url = new URL(orders.base);
    const times: number[] = [];
    let failures = 0;
    let next = 0;
    const perClientRate = orders.ratePerSecond ? orders.ratePerSecond / orders.clients : undefined;
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: orders.clients }, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        let due = performance.now();
        for (;;) {
          if (perClientRate) {
            due += (-Math.log(1 - Math.random()) / perClientRate) * 1000;
            await sleep(due - performance.now());
          }
          const id = orders.ids[next++];
          if (!id) break;
          const t0 = perClientRate ? due : performance.now();
          const status = await post(agent, url, `/api/alerts/${id}/acknowledge`, orders.cookie);
          times.push(performance.now() - t0);
          if (status !== 200) failures += 1;
        }
        agent.destroy();
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    process.send!({ times, failures, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
  })();
});
process.send!({ ready: true });
