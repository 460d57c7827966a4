/**
 * Review defects 1 and 2: a settle that also claims (settleAndClaim) was in flight while
 * (1) `stop()` ran: the jobs it returned were started after stop began and left `running`;
 * (2) a wake-up ran the claim loop: both claimed, exceeding `concurrency`.
 * The gate holds settleAndClaim at the store so the interleaving is exact.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import { gatedStore, storeKinds, turns } from '../helpers/stores.js';

/** A job type whose handlers wait until the test releases them; counts live handlers. */
function heldJobs() {
  const live = new Set<string>();
  const releases = new Map<string, () => void>();
  const startWaiters: { n: number; resolve: () => void }[] = [];
  const s = { max: 0, started: 0, startedAfterStop: 0, stopping: false, autoRelease: false };
  const type = defineJobType({
    name: 'held',
    input: z.object({ n: z.number() }),
    dedupWindowMs: 0,
    async handler(_input, ctx) {
      s.started++;
      if (s.stopping) s.startedAfterStop++;
      live.add(ctx.job.id);
      s.max = Math.max(s.max, live.size);
      for (const w of startWaiters.filter((w) => s.started >= w.n)) w.resolve();
      try {
        if (!s.autoRelease) {
          await new Promise<void>((resolve, reject) => {
            releases.set(ctx.job.id, resolve);
            ctx.signal.addEventListener('abort', () => reject(new Error(String(ctx.signal.reason))), { once: true });
          });
        }
        return { ok: true };
      } finally {
        live.delete(ctx.job.id);
      }
    },
  });
  return {
    type,
    s,
    live,
    /** Resolves once `n` handlers have started in total. */
    started: (n: number) => new Promise<void>((resolve) => (s.started >= n ? resolve() : startWaiters.push({ n, resolve }))),
    release: (id: string) => releases.get(id)?.(),
    releaseAll() {
      s.autoRelease = true;
      for (const id of [...live]) releases.get(id)?.();
    },
  };
}

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`settle-and-claim in flight (${kind.name})${kind.skip}`, () => {
    it('a wake-up during an in-flight settle-and-claim never runs more than `concurrency` handlers', async () => {
      kind.fresh();
      const held = heldJobs();
      const gate = gatedStore(kind.open(), 'settleAndClaim');
      const engine = new JobEngine({ jobTypes: [held.type], storage: gate.store, concurrency: 4, clock: new FakeClock(), pollIntervalMs: 60_000 });
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      const completed = new Set<string>();
      let allDone!: () => void;
      const done = new Promise<void>((r) => (allDone = r));
      engine.on('job:status', (e) => {
        if (e.to === 'completed') completed.add(e.jobId);
        if (completed.size === 7) allDone();
      });

      const first = await Promise.all([1, 2, 3].map((n) => engine.system.submit('held', { n })));
      await held.started(3); // one slot stays free
      gate.arm();
      held.release(first[0]!.id); // its settle claims for 2 slots (its own + the free one)…
      await gate.entered(); // …and waits at the store
      for (const n of [4, 5, 6, 7]) await engine.system.submit('held', { n }); // wakes the claim loop
      await Promise.race([held.started(4), turns(50)]); // the racing claim had its chance
      gate.release();
      await held.started(5);
      held.releaseAll();
      await done;
      expect(held.s.max).toBeLessThanOrEqual(4);
    });

    it('stop() during an in-flight settle-and-claim starts no handler and leaves no job running', async () => {
      kind.fresh();
      const held = heldJobs();
      const gate = gatedStore(kind.open(), 'settleAndClaim');
      const engine = new JobEngine({ jobTypes: [held.type], storage: gate.store, concurrency: 2, clock: new FakeClock(), pollIntervalMs: 60_000 });
      await engine.start();
      const jobs = [];
      for (const n of [1, 2]) jobs.push(await engine.system.submit('held', { n }));
      await held.started(2);
      for (const n of [3, 4, 5, 6]) await engine.system.submit('held', { n }); // queued: no free slot
      // The wake-ups of these submits find no free slot (a finished handler frees its slot
      // before its settle commits, so a claim still pending would take job 3 first).
      await turns(5);
      gate.arm();
      held.release(jobs[0]!.id);
      await gate.entered(); // the settle of job 1 will claim job 3 when the gate opens
      held.s.stopping = true;
      const stopped = engine.stop({ graceMs: 0 }); // aborts job 2 ('shutdown')
      gate.release();
      await stopped;
      expect(held.s.startedAfterStop).toBe(0);

      const check = kind.open();
      await check.migrate();
      try {
        const running = await check.listJobs({ orgId: null, statuses: ['running'], types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 50, cursor: null });
        expect(running.items.map((j) => j.id)).toEqual([]);
        const queued = await check.listJobs({ orgId: null, statuses: ['queued'], types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 50, cursor: null });
        expect(queued.items).toHaveLength(5); // job 2 released by the shutdown, jobs 3–6 never started
      } finally {
        await check.close();
      }
    });
  });
}
