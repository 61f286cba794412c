/** Items per turn: ~4 ms of segmentation, classification and MinHash, one Redis write of their scripts. */
const ITEMS_PER_TURN = 16;

/**
 * Turns for the CPU-bound stages of the items in flight (segment, classify, MinHash): at most
 * `perTurn` items per turn, one turn per pass of the event loop (a zero timer), so the Redis
 * commands of one turn's items go out, and Redis runs them, while the next turn's items compute,
 * and the replies that came back are handled between turns.
 *
 * Without turns, the items of a batch reach these stages in the same tick: all of them (128 in
 * flight) compute first, then all wait together for Redis, then together for the bulk write, so
 * the worker, Redis and Elasticsearch work one after the other instead of at once (measured: the
 * worker's event loop busy 57–64 % of the time; see "Pipeline: where the time goes (stop 13)" in
 * bench/README.md).
 */
export function createCpuTurns(perTurn = ITEMS_PER_TURN): () => Promise<void> {
  const waiting: (() => void)[] = [];
  let scheduled = false;
  const turn = () => {
    for (const go of waiting.splice(0, perTurn)) go();
    // A timer, not an immediate: the turn's commands, auto-pipelined on an immediate, go out first.
    if (waiting.length > 0) setTimeout(turn, 0);
    else scheduled = false;
  };
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!scheduled) {
        scheduled = true;
        setTimeout(turn, 0);
      }
    });
}
