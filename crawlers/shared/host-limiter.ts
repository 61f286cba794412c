/**
 * Politeness per host: at most `concurrency` requests in flight and at least `delayMs` between the
 * starts of two requests to the same host. Hosts do not wait for each other.
 */
export class HostLimiter {
  private readonly hosts = new Map<string, { active: number; nextStart: number; waiting: (() => void)[] }>();

  constructor(
    private readonly concurrency: number,
    private readonly delayMs: number,
  ) {}

  async run<T>(url: string, task: () => Promise<T>): Promise<T> {
    const host = new URL(url).host;
    let state = this.hosts.get(host);
    if (!state) {
      state = { active: 0, nextStart: 0, waiting: [] };
      this.hosts.set(host, state);
    }
    while (state.active >= this.concurrency) await new Promise<void>((resolve) => state!.waiting.push(resolve));
    state.active++;
    try {
      const now = Date.now();
      const wait = state.nextStart - now;
      state.nextStart = Math.max(now, state.nextStart) + this.delayMs;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return await task();
    } finally {
      state.active--;
      state.waiting.shift()?.();
    }
  }
}
