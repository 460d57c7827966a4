/**
 * Claim-ahead (src/scheduler/prefetch-buffer.ts): once handlers are seen to be short, a worker
 * claims beyond its free slots; prefetched jobs are `running` in the store but never exceed
 * `concurrency` as handlers, and stop, cancel and a long wait hand them back correctly.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, type StorageAdapter } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import type { ClaimJobsRequest } from '../../src/storage/adapter.js';
import { storeKinds } from '../helpers/stores.js';
import { SETTLING_ALLOWANCE } from '../../src/scheduler/slots.js';

/** Records the `limit` of every claim the engine makes (claimJobs and settleAndClaim). */
function recordingStore(inner: StorageAdapter) {
  const limits: number[] = [];
  const store = new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop === 'claimJobs') return (req: ClaimJobsRequest) => (limits.push(req.limit), f(req));
      if (prop === 'settleAndClaim') return (req: { claim: ClaimJobsRequest }) => (limits.push(req.claim.limit), f(req));
      return f;
    },
  });
  return { store, limits };
}

/**
 * Settles wait while the gate is closed (claims go on). Without `settleAndClaim`, so every claim
 * is a `claimJobs`, counted against the settles committed: `maxHeld` is the most jobs the
 * worker held (claimed, settle not committed) once a claim came back.
 */
function settleGate(inner: StorageAdapter) {
  let opened: Promise<void> = Promise.resolve();
  let open = () => {};
  let claimed = 0;
  let settled = 0;
  const g = { maxHeld: 0 };
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'settleAndClaim') return undefined;
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop === 'claimJobs')
        return async (req: ClaimJobsRequest) => {
          const jobs = (await f(req)) as unknown[];
          claimed += jobs.length;
          g.maxHeld = Math.max(g.maxHeld, claimed - settled);
          return jobs;
        };
      if (prop === 'settleJobs')
        return async (req: { settles: unknown[] }) => {
          await opened;
          const out = await f(req);
          settled += req.settles.length;
          return out;
        };
      return f;
    },
  });
  return {
    store,
    get maxHeld() {
      return g.maxHeld;
    },
    close() {
      opened = new Promise<void>((resolve) => (open = resolve));
    },
    open: () => open(),
  };
}

/** Jobs with `hold: true` wait until released; the rest return at once. Counts live handlers. */
function jobType(opts: { concurrency?: number } = {}) {
  const live = new Set<string>();
  const ran: number[] = [];
  const holds = new Map<number, () => void>();
  const ranWaiters: { n: number; resolve: () => void }[] = [];
  const s = { max: 0 };
  let heldStarted!: () => void;
  const heldStart = new Promise<void>((r) => (heldStarted = r));
  const type = defineJobType({
    name: 'quick',
    input: z.object({ n: z.number(), hold: z.boolean().optional() }),
    dedupWindowMs: 0,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    async handler(input, ctx) {
      ran.push(input.n);
      for (const w of ranWaiters.filter((w) => ran.length >= w.n)) w.resolve();
      live.add(ctx.job.id);
      s.max = Math.max(s.max, live.size);
      try {
        if (input.hold) {
          heldStarted();
          await new Promise<void>((resolve, reject) => {
            holds.set(input.n, resolve);
            ctx.signal.addEventListener('abort', () => reject(new Error(String(ctx.signal.reason))), { once: true });
          });
        }
        return null;
      } finally {
        live.delete(ctx.job.id);
      }
    },
  });
  const ranAtLeast = (n: number) => new Promise<void>((resolve) => (ran.length >= n ? resolve() : ranWaiters.push({ n, resolve })));
  return { type, s, ran, heldStart, ranAtLeast, release: (n: number) => holds.get(n)?.() };
}

function statusCounter(engine: JobEngine) {
  const seen = new Map<string, Set<string>>();
  const waiters: { to: string; n: number; resolve: () => void }[] = [];
  engine.on('job:status', (e) => {
    for (const key of [e.to, `${e.from}→${e.to}`]) {
      let set = seen.get(key);
      if (!set) seen.set(key, (set = new Set()));
      set.add(e.jobId);
    }
    for (const w of waiters.filter((w) => (seen.get(w.to)?.size ?? 0) >= w.n)) w.resolve();
  });
  return (to: string, n: number) => new Promise<void>((resolve) => ((seen.get(to)?.size ?? 0) >= n ? resolve() : waiters.push({ to, n, resolve })));
}

async function countByStatus(store: StorageAdapter, status: 'running' | 'queued' | 'canceled') {
  const page = await store.listJobs({ orgId: null, statuses: [status], types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 200, cursor: null });
  return page.items.length;
}

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`claim-ahead (${kind.name})${kind.skip}`, () => {
    async function warmEngine(opts: { concurrency: number; typeConcurrency?: number; clock?: FakeClock; leaseMs?: number; gatedSettles?: boolean }) {
      kind.fresh();
      const gate = settleGate(kind.open());
      const rec = recordingStore(opts.gatedSettles ? gate.store : kind.open());
      const jt = jobType({ concurrency: opts.typeConcurrency });
      const engine = new JobEngine({
        jobTypes: [jt.type],
        storage: rec.store,
        concurrency: opts.concurrency,
        pollIntervalMs: 60_000,
        ...(opts.clock ? { clock: opts.clock } : {}),
        ...(opts.leaseMs ? { leaseMs: opts.leaseMs } : {}),
      });
      const until = statusCounter(engine);
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      // Warm-up: ten short handlers teach the buffer that this worker's jobs are short.
      await engine.system.submitMany(Array.from({ length: 10 }, (_, n) => ({ type: 'quick' as const, input: { n } })));
      await until('completed', 10);
      return { engine, jt, rec, until, gate };
    }

    it('after short handlers, claims reach beyond the free slots, and handlers never exceed concurrency', async () => {
      const { engine, jt, rec, until } = await warmEngine({ concurrency: 2 });
      const before = rec.limits.length;
      await engine.system.submitMany(Array.from({ length: 200 }, (_, n) => ({ type: 'quick' as const, input: { n: 100 + n } })));
      await until('completed', 210);
      expect(Math.max(...rec.limits.slice(before))).toBeGreaterThan(2);
      expect(Math.max(...rec.limits)).toBeLessThanOrEqual(2 + 32);
      expect(jt.s.max).toBeLessThanOrEqual(2);
      expect(jt.ran).toHaveLength(210);
    });

    it('claims never run ahead of settles: a worker holds at most concurrency + look-ahead + the settle allowance (two batches)', async () => {
      // Settles are held at a gate while handlers (no-ops) keep finishing. Before the fix the
      // worker kept claiming for its freed slots, so every queued job ended up claimed,
      // run and waiting for its settle in memory (thousands in a fast drain: GC pauses, RSS).
      const concurrency = 2;
      const cap = concurrency + 32 + SETTLING_ALLOWANCE; // 32: the look-ahead of two slots
      const { engine, jt, rec, until, gate } = await warmEngine({ concurrency, gatedSettles: true });
      const before = rec.limits.length;
      gate.close();
      const total = cap + 40;
      await engine.system.submitMany(Array.from({ length: total }, (_, n) => ({ type: 'quick' as const, input: { n: 100 + n } })));
      await jt.ranAtLeast(10 + cap);
      gate.open();
      await until('completed', 10 + total);
      expect(rec.limits.length).toBeGreaterThan(before);
      expect(gate.maxHeld).toBe(cap);
      expect(jt.ran).toHaveLength(10 + total);
    });

    it('a type under a concurrency cap is never prefetched: no claim asks for more than the free slots', async () => {
      const { engine, rec, until } = await warmEngine({ concurrency: 2, typeConcurrency: 10 });
      await engine.system.submitMany(Array.from({ length: 50 }, (_, n) => ({ type: 'quick' as const, input: { n: 100 + n } })));
      await until('completed', 60);
      expect(Math.max(...rec.limits)).toBeLessThanOrEqual(2);
    });

    it('stop() hands prefetched jobs back to queued; none is left running and none started after stop', async () => {
      const { engine, jt, until } = await warmEngine({ concurrency: 1 });
      await engine.system.submit('quick', { n: 100, hold: true });
      await jt.heldStart;
      await engine.system.submitMany([1, 2, 3, 4, 5].map((k) => ({ type: 'quick' as const, input: { n: 100 + k } })));
      await until('running', 16); // the held job and the five prefetched behind it
      expect(jt.ran.filter((n) => n > 100)).toEqual([]);
      await engine.stop({ graceMs: 0 });
      expect(jt.ran.filter((n) => n > 100)).toEqual([]);
      const check = kind.open();
      await check.migrate();
      try {
        expect(await countByStatus(check, 'running')).toBe(0);
        expect(await countByStatus(check, 'queued')).toBe(6);
      } finally {
        await check.close();
      }
    });

    it('a prefetched job that is canceled never starts; the others run once a slot frees', async () => {
      const { engine, jt, until } = await warmEngine({ concurrency: 1 });
      await engine.system.submit('quick', { n: 100, hold: true });
      await jt.heldStart;
      const jobs = await engine.system.submitMany([1, 2, 3].map((k) => ({ type: 'quick' as const, input: { n: 100 + k } })));
      await until('running', 14);
      const id = jobs[1]!.id;
      await engine.system.cancel(id);
      jt.release(100);
      await until('completed', 13);
      expect(jt.ran.filter((n) => n > 100).sort()).toEqual([101, 103]);
      expect((await engine.system.get(id))?.status).toBe('canceled');
    });

    it('a prefetched job that waits a third of the lease for a slot is handed back to queued', async () => {
      const clock = new FakeClock();
      const { engine, jt, until } = await warmEngine({ concurrency: 1, clock, leaseMs: 3_000 });
      await engine.system.submit('quick', { n: 100, hold: true });
      await jt.heldStart;
      const [entry] = await engine.system.submitMany([{ type: 'quick' as const, input: { n: 101 } }]);
      await until('running', 12);
      const id = entry!.id;
      await clock.advance(1_000); // one heartbeat: the job waited leaseMs / 3
      await until('running→queued', 1);
      const history = await engine.system.history(id);
      expect(history.map((h) => [h.from, h.to])).toContainEqual(['running', 'queued']);
      expect(history.find((h) => h.from === 'running' && h.to === 'queued')?.message).toMatch(/prefetched/);
      expect(jt.ran).not.toContain(101);
    });
  });
}
