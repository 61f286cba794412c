/**
 * After an account change is stored: `steps` (announce it to every process's session check, end
 * sessions …) run in order, and the change's audit record is written even when one of them failed;
 * that failure is then the answer (the change stands, and the record says so).
 */
export async function afterAccountChange(steps: (() => Promise<unknown>)[], audit: () => Promise<unknown>): Promise<void> {
  let failure: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failure ??= err;
    }
  }
  await audit();
  if (failure !== undefined) throw failure;
}
