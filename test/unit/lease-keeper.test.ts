/**
 * LeaseKeeper (src/scheduler/lease-keeper.ts), the heartbeat: every leaseMs / 3 it renews the
 * leases of this process's running attempts and aborts those the store reports canceled or
 * lost; store errors are reported and the beats go on; stop() ends the timer. Fake clock only.
 */
import { describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/scheduler/lease-keeper.js';
import type { JobRunner } from '../../src/scheduler/job-runner.js';
import type { RenewLeasesRequest, RenewLeasesResult, StorageAdapter } from '../../src/storage/adapter.js';
import { FakeClock } from '../../src/testing/index.js';

function fakeRunner(id: string, attempt = 1) {
  const aborts: string[] = [];
  return { runner: { job: { id }, attempt, abort: (reason: string) => aborts.push(reason) } as unknown as JobRunner, aborts };
}

function setup(answer: (req: RenewLeasesRequest) => RenewLeasesResult | Promise<RenewLeasesResult>) {
  const clock = new FakeClock(1_000_000);
  const calls: RenewLeasesRequest[] = [];
  const errors: [unknown, string][] = [];
  const running = new Set<JobRunner>();
  const storage = { renewLeases: async (req: RenewLeasesRequest) => (calls.push(req), answer(req)) } as unknown as StorageAdapter;
  const keeper = new LeaseKeeper({ storage, clock, workerId: 'w1', leaseMs: 30_000, attempts: () => running, reportError: (e, s) => errors.push([e, s]) });
  return { clock, calls, errors, running, keeper };
}
const none = (): RenewLeasesResult => ({ renewed: [], canceled: [], lost: [] });

describe('LeaseKeeper', () => {
  it('renews every running attempt every leaseMs / 3, with the clock time and the lease length', async () => {
    const { clock, calls, running, keeper } = setup(none);
    const a = fakeRunner('a', 1);
    const b = fakeRunner('b', 3);
    running.add(a.runner).add(b.runner);
    keeper.start();
    await clock.advance(9_999);
    expect(calls).toHaveLength(0);
    await clock.advance(1);
    expect(calls).toEqual([{ workerId: 'w1', leases: [{ jobId: 'a', attempt: 1 }, { jobId: 'b', attempt: 3 }], now: 1_010_000, leaseMs: 30_000 }]);
    expect(keeper.lastHeartbeatAt).toBe(1_010_000);
    await clock.advance(10_000);
    expect(calls).toHaveLength(2);
    await keeper.stop();
  });

  it('skips the store when nothing runs', async () => {
    const { clock, calls, keeper } = setup(none);
    keeper.start();
    await clock.advance(30_000);
    expect(calls).toHaveLength(0);
    expect(keeper.lastHeartbeatAt).toBeNull();
    await keeper.stop();
  });

  it('aborts canceled attempts with "canceled" and lost ones with "lease_lost"; renewed ones run on', async () => {
    const { running, keeper } = setup(() => ({ renewed: ['a'], canceled: ['b'], lost: ['c', 'ghost'] }));
    const [a, b, c] = [fakeRunner('a'), fakeRunner('b'), fakeRunner('c')];
    for (const r of [a, b, c]) running.add(r.runner);
    await keeper.beat();
    expect([a.aborts, b.aborts, c.aborts]).toEqual([[], ['canceled'], ['lease_lost']]);
  });

  it('does not abort an attempt that finished while the heartbeat was in flight', async () => {
    let answer!: (r: RenewLeasesResult) => void;
    const { running, keeper } = setup(() => new Promise<RenewLeasesResult>((r) => (answer = r)));
    const a = fakeRunner('a');
    running.add(a.runner);
    const beat = keeper.beat();
    await new Promise<void>((r) => setImmediate(r));
    running.delete(a.runner); // settled meanwhile
    answer({ renewed: [], canceled: [], lost: ['a'] });
    await beat;
    expect(a.aborts).toEqual([]);
  });

  it('reports a failed heartbeat as a "heartbeat" error and keeps beating', async () => {
    let fail = true;
    const { clock, calls, errors, running, keeper } = setup(() => {
      if (fail) throw new Error('db down');
      return none();
    });
    running.add(fakeRunner('a').runner);
    keeper.start();
    await clock.advance(10_000);
    expect(errors.map(([e, s]) => [(e as Error).message, s])).toEqual([['db down', 'heartbeat']]);
    fail = false;
    await clock.advance(10_000);
    expect(calls).toHaveLength(2);
    expect(keeper.lastHeartbeatAt).toBe(1_020_000);
    await keeper.stop();
  });

  it('stop() clears the timer: no beat afterwards, no timer left', async () => {
    const { clock, calls, running, keeper } = setup(none);
    running.add(fakeRunner('a').runner);
    keeper.start();
    expect(clock.pendingTimers).toBe(1);
    await keeper.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100_000);
    expect(calls).toHaveLength(0);
  });
});
