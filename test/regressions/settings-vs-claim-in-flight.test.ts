/**
 * Regression (CI failure on Postgres, explain.test.ts): a claim built before `updateJobType`
 * applied a rate limit reached the store after the caller had submitted new jobs, and took
 * them all without the limit. Once `updateJobType` resolves, no claim of this engine that
 * still carries the old settings may be in flight. The store here holds one claim back, as a
 * busy connection pool does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, type StorageAdapter } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import type { ClaimJobsRequest, ClaimedJob, SettleAndClaimRequest } from '../../src/storage/adapter.js';
import { storeKinds } from '../helpers/stores.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

/** A store whose next claim (either path) waits until `release()`; `arrived` resolves when it is held. */
function holdingStore(inner: StorageAdapter) {
  let hold = false;
  let arrive: () => void = () => {};
  let arrived = Promise.resolve();
  let open: () => void = () => {};
  let loaded: () => void = () => {};
  let settingsLoaded = Promise.resolve();
  const gate = {
    holdNext() {
      hold = true;
      arrived = new Promise<void>((r) => (arrive = r));
      settingsLoaded = new Promise<void>((r) => (loaded = r));
    },
    get arrived() { return arrived; },
    /** The next settings read (updateJobType's) is back. */
    get settingsLoaded() { return settingsLoaded; },
    release: () => open(),
  };
  const held = async <R>(run: () => Promise<R>): Promise<R> => {
    if (hold) {
      hold = false;
      const opened = new Promise<void>((r) => (open = r));
      arrive();
      await opened;
    }
    return run();
  };
  const store = new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop === 'claimJobs') return (req: ClaimJobsRequest) => held(() => f(req) as Promise<ClaimedJob[]>);
      if (prop === 'settleAndClaim') return (req: SettleAndClaimRequest) => held(() => f(req) as Promise<unknown>);
      if (prop === 'loadJobTypeSettings') return async () => { const s = await (f() as Promise<unknown>); loaded(); return s; };
      return f;
    },
  });
  return { store, gate };
}

const quick = defineJobType({ name: 'quick', input: z.object({ n: z.number() }), dedupWindowMs: 0, async handler() { return {}; } });
const macrotasks = async (n: number) => { for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r)); };

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`settings change vs a claim in flight on ${kind.name}${kind.skip}`, () => {
    it('updateJobType resolves only after claims built with the old settings are done, so jobs submitted after it obey the new rate limit', async () => {
      kind.fresh();
      const { store, gate } = holdingStore(kind.open());
      const clock = new FakeClock();
      const engine = new JobEngine({ jobTypes: [quick], storage: store, clock, pollIntervalMs: 1000 });
      await engine.start();
      stops.push(() => engine.stop({ graceMs: 0 }));
      stops.push(async () => gate.release()); // (runs first: a failed run must not hang the stop)
      const sys = engine.system;
      await macrotasks(20); // the start-up claim is done

      gate.holdNext();
      const first = await sys.submit('quick', { n: 0 });
      await gate.arrived; // a claim without limits is now in flight
      let updated = false;
      const update = sys.updateJobType('quick', { rateLimit: { max: 1, perMs: 10_000 } }).then(() => (updated = true));
      await gate.settingsLoaded;
      await macrotasks(20);
      expect(updated).toBe(false); // still waiting for the held claim
      gate.release();
      await update;

      const r1 = await sys.submit('quick', { n: 1 });
      const r2 = await sys.submit('quick', { n: 2 });
      const statuses = async () => Promise.all([first, r1, r2].map(async (j) => (await sys.get(j.id)).status));
      for (let i = 0; i < 2000 && (await statuses()).filter((st) => st === 'completed').length < 2; i++) await macrotasks(1);
      await macrotasks(50); // a claim that ignored the limit would have taken both r1 and r2 by now
      // `first` was claimed before the limit was in force (a limit counts the starts it saw);
      // of the jobs submitted after the change, one starts in the window and one waits.
      const [f, s1, s2] = await statuses();
      expect(f).toBe('completed');
      expect([s1, s2].sort()).toEqual(['completed', 'queued']);
      expect((await sys.explain((s1 === 'queued' ? r1 : r2).id)).reason).toBe('rate_limited');
    });

    it('a settings reload that read the store before an update never reverts it', async () => {
      kind.fresh();
      const inner = kind.open();
      let loads = 0;
      let stale: () => void = () => {};
      let staleHeld!: () => void;
      const staleReached = new Promise<void>((r) => (staleHeld = r));
      const store = new Proxy(inner, {
        get(target, prop) {
          const v = Reflect.get(target, prop, target) as unknown;
          if (typeof v !== 'function') return v;
          const f = (v as (...a: unknown[]) => unknown).bind(target);
          if (prop !== 'loadJobTypeSettings') return f;
          // The first periodic reload reads the old settings, then answers only after the update.
          return async () => {
            const answer = await (f() as Promise<unknown>);
            if (++loads !== 2) return answer;
            await new Promise<void>((r) => ((stale = r), staleHeld()));
            return answer;
          };
        },
      });
      const clock = new FakeClock();
      const engine = new JobEngine({ jobTypes: [quick], storage: store, clock, pollIntervalMs: 1000 });
      await engine.start(); // load 1
      stops.push(() => engine.stop({ graceMs: 0 }));
      stops.push(async () => stale()); // (runs first: a failed run must not hang the stop)
      await clock.advance(1000); // the periodic reload: load 2, held with the old settings
      await staleReached;
      await engine.system.updateJobType('quick', { paused: true }); // load 3
      stale();
      await macrotasks(20);
      expect((await engine.system.jobTypes()).find((t) => t.name === 'quick')?.paused).toBe(true);
    });
  });
}
