/**
 * The acknowledge bench's HTTP clients, in their own process so the bench process's CPU is the
 * API's alone. Started by alerts.bench.ts: says `{ ready: true }`, takes `{ base, cookie, ids,
 * clients, ratePerSecond? }` over IPC, answers `{ times, failures, cpuMs }`, then exits.
 *
 * Each client is one keep-alive HTTP/1.1 connection (a browser's is one of its six), written and
 * read on the bare socket: a load generator that shares the machine's two cores with the API,
 * Elasticsearch and Redis must spend as little of them as it can, or it measures itself. `fetch`
 * spent 1.1–1.4 ms of CPU per request, `node:http` 0.24–0.31 ms, the bare socket ~0.05 ms (in the
 * bench's output, "ms in the clients' process").
 *
 * Closed loop (no `ratePerSecond`): each client signs its next alert as soon as the last is
 * answered, i.e. the API's saturation. Paced: together the clients sign `ratePerSecond` alerts a
 * second at Poisson-distributed moments (each client 1/`clients` of the rate); a client whose
 * previous request is still out sends late, and the time counts from the moment it was due
 * (no coordinated omission: a slow API shows in the latency, not in a lower rate).
 */
import net from 'node:net';

interface Orders {
  base: string;
  cookie: string;
  ids: string[];
  clients: number;
  ratePerSecond?: number;
}

/** One keep-alive connection that sends a request and resolves with the status of its answer. */
class Connection {
  private readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (status: number) => void; reject: (err: Error) => void };

  constructor(url: URL) {
    this.socket = net.connect(Number(url.port), url.hostname);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.answer();
    });
    this.socket.on('error', (err) => this.waiting?.reject(err));
    this.socket.on('close', () => this.waiting?.reject(new Error('the API closed the connection')));
  }

  send(request: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  /** Resolves the waiting request once its whole answer is here (Content-Length or chunked). */
  private answer(): void {
    const headEnd = this.buffered.indexOf('\r\n\r\n');
    if (headEnd < 0 || !this.waiting) return;
    const head = this.buffered.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let end: number;
    if (length) {
      end = headEnd + 4 + Number(length[1]);
      if (this.buffered.length < end) return;
    } else {
      const last = this.buffered.indexOf('\r\n0\r\n\r\n', headEnd);
      if (last < 0) return;
      end = last + 7;
    }
    this.buffered = this.buffered.subarray(end);
    const { resolve } = this.waiting;
    this.waiting = undefined;
    resolve(status);
  }

  close(): void {
    this.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

process.once('message', (orders: Orders) => {
  void (async () => {
    const url = new URL(orders.base);
    const requestFor = (id: string) =>
      `POST /api/alerts/${id}/acknowledge HTTP/1.1\r\nHost: ${url.host}\r\nCookie: ${orders.cookie}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
    const times: number[] = [];
    let failures = 0;
    let next = 0;
    const perClientRate = orders.ratePerSecond ? orders.ratePerSecond / orders.clients : undefined;
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: orders.clients }, async () => {
        const connection = new Connection(url);
        let due = performance.now();
        for (;;) {
          if (perClientRate) {
            due += (-Math.log(1 - Math.random()) / perClientRate) * 1000;
            await sleep(due - performance.now());
          }
          const id = orders.ids[next++];
          if (!id) break;
          const t0 = perClientRate ? due : performance.now();
          const status = await connection.send(requestFor(id));
          times.push(performance.now() - t0);
          if (status !== 200) failures += 1;
        }
        connection.close();
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    process.send!({ times, failures, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
  })();
});
process.send!({ ready: true });
