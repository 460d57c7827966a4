/** Waiting: always a bounded poll of the store; the only sleeps are fault durations. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, opts: { timeoutMs?: number; everyMs?: number; onPoll?: () => Promise<void> | void } = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    await opts.onPoll?.();
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await sleep(opts.everyMs ?? 50);
  }
}
