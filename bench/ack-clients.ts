/**
 * The acknowledge bench's HTTP clients, in their own process so the bench process's CPU is the
 * API's alone (`fetch` costs about as much CPU as the API itself). Started by alerts.bench.ts: says
 * `{ ready: true }`, takes `{ base, cookie, ids, clients }` over IPC, answers `{ times, failures,
 * cpuMs }`, then exits.
 */
interface Orders {
  base: string;
  cookie: string;
  ids: string[];
  clients: number;
}

process.once('message', (orders: Orders) => {
  void (async () => {
    const times: number[] = [];
    let failures = 0;
    let next = 0;
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: orders.clients }, async () => {
        for (;;) {
          const id = orders.ids[next++];
          if (!id) return;
          const t0 = performance.now();
          const res = await fetch(`${orders.base}/api/alerts/${id}/acknowledge`, { method: 'POST', headers: { cookie: orders.cookie, 'content-type': 'application/json' }, body: '{}' });
          await res.arrayBuffer();
          times.push(performance.now() - t0);
          if (res.status !== 200) failures += 1;
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    process.send!({ times, failures, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
  })();
});
process.send!({ ready: true });
