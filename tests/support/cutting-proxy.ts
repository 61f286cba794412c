import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * Where a cut falls: before the request reaches the service, or after it did and before its answer
 * comes back (`answer-502`: the service's answer is replaced by a 502, as from a gateway in between);
 * `refuse-429` answers at once a 429 with Elasticsearch's error body, the request never reaching the
 * service, as Elasticsearch refuses a request when its queues are full.
 */
export type CutPoint = 'before-request' | 'before-response' | 'answer-502' | 'refuse-429';

/** One request the proxy cut: its request line and what of it had passed (head and body) when it was cut. */
export interface CutRequest {
  requestLine: string;
  at: CutPoint;
  /** The bytes of the request seen by the proxy, as text: the whole of it unless cut `before-request`. */
  text: string;
}

/** A request that came through the proxy: its request line (`POST /_bulk`) and the bytes read of it so far. */
export class SeenRequest {
  readonly parts: Buffer[] = [];
  constructor(readonly requestLine: string) {}
  get text(): string {
    return Buffer.concat(this.parts).toString('utf8');
  }
}

interface Arm {
  match: RegExp;
  at: CutPoint;
  remaining: number;
  /** The arm cuts nothing until a request matching this has come through (it is cleared then). */
  after?: RegExp | undefined;
}

interface Hold {
  match: RegExp;
  after?: RegExp | undefined;
  outlivesClient: boolean;
  onHeld(): void;
  released: Promise<void>;
}

const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r\n/;

/**
 * A loopback TCP proxy to a real HTTP service that cuts chosen requests, as a network fault would:
 * `before-response` forwards the request whole, lets the service act on it, then closes both
 * connections as its answer starts to come back, so the client never learns what happened;
 * `before-request` closes them before a byte of the request reaches the service; `answer-502`
 * forwards the request whole and answers the client a 502 for it instead. `holdNext` delays a
 * request instead, until the test releases it. Everything else passes through untouched. It reads request lines only to pick requests (the client sends one
 * request at a time per connection; HTTP pipelining is not supported) and never alters a byte.
 */
export class CuttingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly arms: Arm[] = [];
  private readonly holds: Hold[] = [];
  private muted = false;
  readonly cuts: CutRequest[] = [];
  /** Every request that came through, cut or not. */
  readonly requests: SeenRequest[] = [];

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new Error('the proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /**
   * Cuts the next `times` requests whose request line (`POST /_bulk?refresh=false`) matches; with
   * `after`, only those that come after a request matching it (e.g. the reads that follow a write).
   */
  cutNext(match: RegExp, at: CutPoint, times = 1, options: { after?: RegExp } = {}): void {
    this.arms.push({ match, at, remaining: times, after: options.after });
  }

  /**
   * Holds the next request whose request line matches (with `after`, the next one after a request
   * matching it), as a slow network or a sender stalled mid-request would: none of its bytes reach
   * the service until `release()`. `held` resolves once the proxy holds it. With `outlivesClient`, a
   * client that gives up on it (a timeout closes its connection) does not cancel it: it still reaches
   * the service on release, as through a gateway that had already accepted it.
   */
  holdNext(match: RegExp, options: { after?: RegExp; outlivesClient?: boolean } = {}): { held: Promise<void>; release(): void } {
    let onHeld!: () => void;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (onHeld = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ match, after: options.after, outlivesClient: options.outlivesClient === true, onHeld, released });
    return { held, release };
  }

  /**
   * From now on lets nothing through either way, on open connections and new ones, as a service that
   * hangs or a network that drops every packet: the client waits for answers that never come.
   */
  mute(): void {
    this.muted = true;
  }

  /** Drops every arm not yet used up. */
  disarm(): void {
    this.arms.length = 0;
  }

  /** Arms not yet used up. */
  get pendingCuts(): number {
    return this.arms.reduce((n, a) => n + a.remaining, 0);
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private takeArm(requestLine: string): Arm | undefined {
    const arm = this.arms.find((a) => a.remaining > 0 && !a.after && a.match.test(requestLine));
    if (arm) arm.remaining -= 1;
    for (const a of this.arms) if (a.after?.test(requestLine)) a.after = undefined;
    return arm;
  }

  private takeHold(requestLine: string): Hold | undefined {
    const i = this.holds.findIndex((h) => !h.after && h.match.test(requestLine));
    const hold = i >= 0 ? this.holds.splice(i, 1)[0] : undefined;
    for (const h of this.holds) if (h.after?.test(requestLine)) h.after = undefined;
    return hold;
  }

  private relay(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    const cutBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    // The request under way on this connection that is to be cut when its answer starts.
    let replied = false;
    // Set once this connection's request is refused: the rest of it is dropped.
    let refusing = false;
    let current: SeenRequest | undefined;
    let doomed: { requestLine: string; at: CutPoint; parts: Buffer[] } | undefined;
    // While a held request is on this connection, its bytes wait for its release (in order).
    let gate: Promise<void> | undefined;
    // Set while a held request that outlives its client is on this connection.
    let outliving: Promise<void> | undefined;
    client.on('data', (chunk: Buffer) => {
      if (this.muted || refusing) return;
      const line = REQUEST_LINE.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 2048)));
      if (line) {
        const requestLine = `${line[1]} ${line[2]}`;
        current = new SeenRequest(requestLine);
        this.requests.push(current);
        const arm = this.takeArm(requestLine);
        if (arm?.at === 'before-request') {
          this.cuts.push({ requestLine, at: arm.at, text: chunk.toString('utf8') });
          cutBoth();
          return;
        }
        if (arm?.at === 'refuse-429') {
          this.cuts.push({ requestLine, at: arm.at, text: chunk.toString('utf8') });
          const reason = 'rejected execution of coordinating operation (queue capacity reached)';
          const body = JSON.stringify({ error: { root_cause: [{ type: 'es_rejected_execution_exception', reason }], type: 'es_rejected_execution_exception', reason }, status: 429 });
          refusing = true;
          replied = true;
          client.end(`HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
          upstream.destroy();
          return;
        }
        doomed = arm ? { requestLine, at: arm.at, parts: [] } : undefined;
        const hold = this.takeHold(requestLine);
        if (hold) {
          hold.onHeld();
          gate = hold.released;
          if (hold.outlivesClient) outliving = hold.released;
        }
      }
      doomed?.parts.push(chunk);
      current?.parts.push(chunk);
      if (gate) void gate.then(() => upstream.write(chunk));
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.muted) return;
      if (doomed) {
        this.cuts.push({ requestLine: doomed.requestLine, at: doomed.at, text: Buffer.concat(doomed.parts).toString('utf8') });
        if (doomed.at === 'answer-502') {
          const body = JSON.stringify({ error: 'bad gateway', status: 502 });
          replied = true;
          client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
          upstream.destroy();
        } else cutBoth();
        doomed = undefined;
        return;
      }
      client.write(chunk);
    });
    // The held request that outlives its client is sent whole on release, and the connection closed once the service answers it.
    const closeUpstream = (how: () => void) => (outliving ? void outliving.then(() => upstream.once('data', () => upstream.destroy())) : how());
    client.on('end', () => closeUpstream(() => upstream.end()));
    upstream.on('end', () => client.end());
    client.on('close', () => closeUpstream(() => upstream.destroy()));
    // A 502 written in place of the answer is let out before the client's side closes.
    upstream.on('close', () => (replied ? undefined : client.destroy()));
  }
}
