/**
 * Review defect 10: pruning ran inside the leader's maintenance tick. A long prune outlasted
 * the leadership lease; another engine took over and pruned too, and the leader rescued
 * nothing meanwhile. Now the prune runs beside the ticks (which keep renewing leadership and
 * rescuing), renews leadership before each batch, and stops once this engine is not the leader.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/index.js';
import { Maintenance } from '../../src/maintenance/maintenance.js';
import { JobRegistry } from '../../src/registry.js';
import type { StorageAdapter } from '../../src/storage/adapter.js';
import { FakeClock } from '../../src/testing/index.js';
import { newJob, T0 } from '../../src/testing/conformance/index.js';
import { storeKinds } from '../helpers/stores.js';

const TIMED_OUT = Symbol('timed out');
const soon = <V>(p: Promise<V>) =>
  Promise.race([p, new Promise<typeof TIMED_OUT>((resolve) => AbortSignal.timeout(2_000).addEventListener('abort', () => resolve(TIMED_OUT)))]);

const LEASE_MS = 3_000;
const DAY = 86_400_000;
const t = defineJobType({ name: 'm', input: z.object({}), async handler() {} });

/** A view of `inner` whose pruneJobs calls are counted per engine and can be held at a gate. */
function pruneGate(inner: StorageAdapter) {
  let hold: Promise<void> | null = null;
  let release!: () => void;
  let entered!: () => void;
  let enteredP = Promise.resolve();
  const calls = { n: 0 };
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'pruneJobs') {
        return async (req: Parameters<StorageAdapter['pruneJobs']>[0]) => {
          calls.n++;
          if (hold) {
            const h = hold;
            hold = null;
            entered();
            await h;
          }
          return target.pruneJobs(req);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    store,
    calls,
    /** The next pruneJobs call waits until `open()`. */
    arm() {
      hold = new Promise<void>((r) => (release = r));
      enteredP = new Promise<void>((r) => (entered = r));
    },
    entered: () => enteredP,
    open: () => release(),
  };
}

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`maintenance with a long prune (${kind.name})${kind.skip}`, () => {
    it('the leader keeps rescuing and holding leadership during a long prune; the other engine never prunes', async () => {
      kind.fresh();
      const base = kind.open();
      await base.migrate();
      onTestFinished(() => base.close());
      // 600 finished jobs older than the retention: two prune batches.
      const old = Array.from({ length: 600 }, () => newJob({ type: 'm' }));
      await base.insertJobs({ jobs: old, actorId: 't', now: T0, atomic: true });
      for (const j of old) await base.cancelJob({ jobId: j.id, orgId: null, actorId: 't', now: T0 });
      const clock = new FakeClock(T0 + 2 * DAY);
      const registry = new JobRegistry([t]);
      const make = (workerId: string, storage: StorageAdapter) =>
        new Maintenance({ storage, registry, clock, workerId, leaseMs: LEASE_MS, retentionMaxAgeMs: DAY, random: () => 0.5, reportError: (e) => { throw e; } });
      const a = pruneGate(base);
      const b = pruneGate(base);
      const leader = make('A', a.store);
      const other = make('B', b.store);
      onTestFinished(async () => {
        a.open();
        await leader.stop();
        await other.stop();
      });

      a.arm();
      // The tick returns while its prune waits at the gate.
      expect(await soon(leader.tick())).not.toBe(TIMED_OUT);
      expect(await soon(a.entered())).not.toBe(TIMED_OUT);

      // Meanwhile a worker dies holding a job; the lease runs out.
      const [stuck] = await base.insertJobs({ jobs: [newJob({ type: 'm' })], actorId: 't', now: clock.now(), atomic: true });
      // A 1 ms lease: Postgres judges expiry by the database's clock, not the fake one.
      await base.claimJobs({ workerId: 'dead', types: ['m'], limit: 1, now: clock.now(), leaseMs: 1 });
      for (let i = 0; i < 3; i++) {
        await clock.advance(LEASE_MS / 2);
        await leader.tick(); // renews leadership and rescues, prune or not
        await other.tick(); // never the leader while A ticks
      }
      const rescued = await base.getJob({ id: stuck?.kind === 'inserted' ? stuck.job.id : '', orgId: null });
      expect(rescued?.status).not.toBe('running');
      expect(b.calls.n).toBe(0);

      a.open();
      await leader.pruneIdle();
      expect(a.calls.n).toBe(2);
      expect(await base.getJob({ id: old[599]!.id, orgId: null })).toBeNull();
    });

    it('a pruner that lost leadership stops before its next batch', async () => {
      kind.fresh();
      const base = kind.open();
      await base.migrate();
      onTestFinished(() => base.close());
      const old = Array.from({ length: 600 }, () => newJob({ type: 'm' }));
      await base.insertJobs({ jobs: old, actorId: 't', now: T0, atomic: true });
      for (const j of old) await base.cancelJob({ jobId: j.id, orgId: null, actorId: 't', now: T0 });
      const clock = new FakeClock(T0 + 2 * DAY);
      const registry = new JobRegistry([t]);
      const a = pruneGate(base);
      const leader = new Maintenance({ storage: a.store, registry, clock, workerId: 'A', leaseMs: LEASE_MS, retentionMaxAgeMs: DAY, random: () => 0.5, reportError: (e) => { throw e; } });
      onTestFinished(async () => {
        a.open();
        await leader.stop();
      });
      a.arm();
      await leader.tick();
      expect(await soon(a.entered())).not.toBe(TIMED_OUT);
      // A stalls (no ticks) past its lease; B takes over.
      await clock.advance(LEASE_MS + 1);
      expect(await base.acquireLeadership({ name: 'maintenance', ownerId: 'B', now: clock.now(), ttlMs: LEASE_MS })).toBe(true);
      a.open();
      await leader.pruneIdle();
      expect(a.calls.n).toBe(1); // the batch in flight finished; no further batch
    });
  });
}
