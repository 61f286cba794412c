import { describe, expect, it } from 'vitest';
import { createCpuTurns } from '../../../pipeline/ingest/cpu-turns.js';

/**
 * What each item does in its turn, as the ingest path does: compute, then issue a Redis command,
 * which ioredis's auto-pipelining sends on an immediate (here: `sent` records it).
 */
async function runItems(count: number, turn: () => Promise<void>) {
  const order: number[] = [];
  const sentBeforeCompute: number[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      await turn();
      order.push(i);
      sentBeforeCompute[i] = sent;
      setImmediate(() => void sent++);
    }),
  );
  return { order, sentBeforeCompute };
}

describe('createCpuTurns', () => {
  it('lets the items compute a few per turn, in arrival order, with the earlier turns’ commands sent in between', async () => {
    const { order, sentBeforeCompute } = await runItems(40, createCpuTurns(16));
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // Items of one turn find the commands of every earlier turn sent, none of their own turn's.
    expect(sentBeforeCompute.slice(0, 16)).toEqual(Array(16).fill(0));
    expect(sentBeforeCompute.slice(16, 32)).toEqual(Array(16).fill(16));
    expect(sentBeforeCompute.slice(32)).toEqual(Array(8).fill(32));
  });

  it('is what an item without turns does not get: every item in flight computes before any command goes out', async () => {
    const { sentBeforeCompute } = await runItems(40, () => Promise.resolve());
    expect(sentBeforeCompute).toEqual(Array(40).fill(0));
  });

  it('starts again after running dry', async () => {
    const turn = createCpuTurns(2);
    await runItems(3, turn);
    const { order } = await runItems(3, turn);
    expect(order).toEqual([0, 1, 2]);
  });
});
