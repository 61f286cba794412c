/** One caller's share of a batched request: its own value or its own error. */
export type Outcome<T> = { value: T } | { error: Error };

export interface CoalescerOptions {
  /** Most calls sent in one request. */
  maxBatch: number;
  /** Requests in flight at once; calls arriving meanwhile wait and go together in the next one. */
  maxInFlight: number;
}

interface Waiting<In, Out> {
  input: In;
  resolve(value: Out): void;
  reject(err: unknown): void;
}

/**
 * Group commit for requests on a latency path: calls arriving in the same turn of the event loop,
 * or while the previous request is in flight, are sent as one request (`mget`, `_bulk`). There is
 * no timer: a lone call goes out on the next turn, so batching costs nothing when it is quiet and
 * batches grow by themselves under load. Each caller settles with its own item's outcome; a
 * request that fails as a whole fails every caller in it.
 */
export class Coalescer<In, Out> {
  private readonly waiting: Waiting<In, Out>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly send: (inputs: In[]) => Promise<Outcome<Out>[]>,
    private readonly opts: CoalescerOptions,
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    // The calls of every I/O callback of this turn join the batch before it leaves.
    setImmediate(() => {
      this.scheduled = false;
      while (this.waiting.length > 0 && this.inFlight < this.opts.maxInFlight) void this.flush(this.waiting.splice(0, this.opts.maxBatch));
    });
  }

  private async flush(batch: Waiting<In, Out>[]): Promise<void> {
    this.inFlight++;
    try {
      const outcomes = await this.send(batch.map((w) => w.input));
      batch.forEach((w, i) => {
        const outcome = outcomes[i];
        if (!outcome) w.reject(new Error(`batched request answered ${outcomes.length} of ${batch.length} items`));
        else if ('error' in outcome) w.reject(outcome.error);
        else w.resolve(outcome.value);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
