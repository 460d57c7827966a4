/**
 * BatchQueue (src/batch-queue.ts), the group commit of submits: requests made together are
 * flushed together, at most `maxBatch` at a time, one flush in flight; each request gets its
 * own result; `idle()` waits for everything. Flushes are held on deferred promises, no timers.
 */
import { describe, expect, it } from 'vitest';
import { BatchQueue, type Settled } from '../../src/batch-queue.js';

/** A flush whose calls are recorded and each held until released. */
function heldFlush<Req>() {
  const calls: { reqs: Req[]; release: (results: Settled<string>[] | Error) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let arrived: (() => void) | null = null;
  const flush = (reqs: Req[]) =>
    new Promise<Settled<string>[]>((resolve, reject) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls.push({
        reqs,
        release: (r) => {
          inFlight--;
          if (r instanceof Error) reject(r);
          else resolve(r);
        },
      });
      arrived?.();
    });
  const nextCall = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (calls.length >= n ? resolve() : (arrived = check));
      check();
    });
  return { flush, calls, nextCall, maxInFlight: () => maxInFlight };
}
const ok = (reqs: number[]): Settled<string>[] => reqs.map((r) => ({ ok: true, value: `v${r}` }));

describe('BatchQueue', () => {
  it('groups requests made in the same macrotask into one flush, results in request order', async () => {
    const f = heldFlush<number>();
    const q = new BatchQueue<number, string>(f.flush);
    const results = Promise.all([q.add(1), q.add(2), q.add(3)]);
    expect(q.size).toBe(3);
    await f.nextCall(1);
    expect(f.calls.map((c) => c.reqs)).toEqual([[1, 2, 3]]);
    f.calls[0]!.release(ok([1, 2, 3]));
    expect(await results).toEqual(['v1', 'v2', 'v3']);
  });

  it('never hands flush more than maxBatch requests; the rest follow in later batches', async () => {
    const f = heldFlush<number>();
    const q = new BatchQueue<number, string>(f.flush, 2);
    const all = Promise.all([1, 2, 3, 4, 5].map((n) => q.add(n)));
    await f.nextCall(1);
    f.calls[0]!.release(ok(f.calls[0]!.reqs));
    await f.nextCall(2);
    f.calls[1]!.release(ok(f.calls[1]!.reqs));
    await f.nextCall(3);
    f.calls[2]!.release(ok(f.calls[2]!.reqs));
    expect(await all).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(f.calls.map((c) => c.reqs)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('keeps one flush in flight: requests made meanwhile wait and go together in the next one', async () => {
    const f = heldFlush<number>();
    const q = new BatchQueue<number, string>(f.flush);
    const first = q.add(1);
    await f.nextCall(1);
    const later = [q.add(2), q.add(3)];
    await new Promise<void>((r) => setImmediate(r));
    expect(f.calls).toHaveLength(1); // still held: no second flush while one is in flight
    f.calls[0]!.release(ok([1]));
    expect(await first).toBe('v1');
    await f.nextCall(2);
    expect(f.calls[1]!.reqs).toEqual([2, 3]);
    f.calls[1]!.release(ok([2, 3]));
    expect(await Promise.all(later)).toEqual(['v2', 'v3']);
    expect(f.maxInFlight()).toBe(1);
  });

  it('gives each request its own Settled result: one failure does not fail the others', async () => {
    const f = heldFlush<number>();
    const q = new BatchQueue<number, string>(f.flush);
    const boom = new Error('duplicate');
    const out = [q.add(1), q.add(2), q.add(3)].map((p) => p.then((v) => ({ v }), (e: unknown) => ({ e })));
    await f.nextCall(1);
    f.calls[0]!.release([{ ok: true, value: 'a' }, { ok: false, error: boom }, { ok: true, value: 'c' }]);
    expect(await Promise.all(out)).toEqual([{ v: 'a' }, { e: boom }, { v: 'c' }]);
  });

  it('rejects every request of a batch whose flush throws, and one that got no result', async () => {
    const f = heldFlush<number>();
    const q = new BatchQueue<number, string>(f.flush);
    const down = new Error('store down');
    const a = [q.add(1), q.add(2)].map((p) => p.catch((e: unknown) => e));
    await f.nextCall(1);
    f.calls[0]!.release(down);
    expect(await Promise.all(a)).toEqual([down, down]);
    const b = [q.add(3), q.add(4)].map((p) => p.then((v) => v, (e: unknown) => (e as Error).message));
    await f.nextCall(2);
    f.calls[1]!.release(ok([3])); // one result short
    expect(await Promise.all(b)).toEqual(['v3', expect.stringContaining('no result')]);
  });

  it('idle() resolves only once nothing is pending or in flight', async () => {
    const f = heldFlush<number>();
    const q = new BatchQueue<number, string>(f.flush, 1);
    await q.idle(); // empty: at once
    void q.add(1);
    void q.add(2);
    let idle = false;
    const done = q.idle().then(() => (idle = true));
    await f.nextCall(1);
    f.calls[0]!.release(ok([1]));
    await f.nextCall(2);
    expect(idle).toBe(false);
    f.calls[1]!.release(ok([2]));
    await done;
    expect(idle).toBe(true);
    expect(q.size).toBe(0);
  });
});
