/**
 * A submit to an engine with a free slot is inserted and claimed in one transaction
 * (`insertAndClaim`, src/submit-queue.ts + the dispatch loop's submit claim): one commit
 * before the handler starts, not two. The claim is an ordinary claim, so claim order, stop
 * and store errors behave as for any other claim.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, sqliteStorage, type StorageAdapter } from '../../src/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function freshStore(): StorageAdapter {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-insert-claimed-'));
  dirs.push(dir);
  return sqliteStorage({ path: join(dir, 'jobs.sqlite'), synchronous: 'NORMAL' });
}

/** Counts store calls; `insertAndClaim` may be held at a gate or made to fail once. */
function countingStore(inner: StorageAdapter) {
  const calls = new Map<string, number>();
  let gate: Promise<void> | null = null;
  let failNext = false;
  const store = new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => Promise<unknown>).bind(target);
      return async (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        if (prop === 'insertAndClaim') {
          if (failNext) {
            failNext = false;
            throw new Error('disk full (injected)');
          }
          const out = await f(...args);
          if (gate) await gate;
          return out;
        }
        return f(...args);
      };
    },
  });
  return {
    store,
    count: (m: string) => calls.get(m) ?? 0,
    hold() {
      let open!: () => void;
      gate = new Promise<void>((r) => (open = r));
      return () => {
        gate = null;
        open();
      };
    },
    failOnce: () => (failNext = true),
  };
}

function recorder() {
  const started: string[] = [];
  const waiters = new Map<string, () => void>();
  const type = defineJobType({
    name: 'quick',
    input: z.object({ n: z.number() }),
    dedupWindowMs: 0,
    async handler(input) {
      started.push(String(input.n));
      waiters.get(String(input.n))?.();
      return null;
    },
  });
  const startedN = (n: number) => new Promise<void>((r) => (started.includes(String(n)) ? r() : waiters.set(String(n), r)));
  return { type, started, startedN };
}

async function idleEngine(opts: { clock?: FakeClock } = {}) {
  const c = countingStore(freshStore());
  const rec = recorder();
  const engine = new JobEngine({ jobTypes: [rec.type], storage: c.store, concurrency: 2, pollIntervalMs: 60_000, ...(opts.clock ? { clock: opts.clock } : {}) });
  await engine.start();
  onTestFinished(() => engine.stop({ graceMs: 0 }));
  await drain(engine);
  return { engine, c, rec };
}

describe('insert already claimed (SQLite)', () => {
  it('a submit to an idle worker runs with one store transaction: no separate claim', async () => {
    const { engine, c, rec } = await idleEngine();
    const claimsBefore = c.count('claimJobs') + c.count('settleAndClaim');
    const job = await engine.system.submit('quick', { n: 1 });
    await rec.startedN(1);
    expect(c.count('insertAndClaim')).toBe(1);
    expect(c.count('insertJobs')).toBe(0);
    expect(c.count('claimJobs') + c.count('settleAndClaim')).toBe(claimsBefore);
    await drain(engine);
    const history = await engine.system.history(job.id);
    expect(history.map((h) => `${h.from ?? 'null'}>${h.to}`)).toEqual(['null>queued', 'queued>running', 'running>completed']);
  });

  it('a job submitted for later still starts when due (the loop re-arms its timer)', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const { engine, rec } = await idleEngine({ clock });
    const due = clock.now() + 5_000;
    await engine.system.submit('quick', { n: 7 }, { runAt: new Date(due) });
    // No drain here: drain() wakes the loop itself and would hide a timer left at the poll
    // interval (60 s). Time moves in 1 s steps until the job starts, at most 10 of them.
    for (let step = 0; step < 10 && rec.started.length === 0; step++) await clock.advance(1_000);
    expect(rec.started).toEqual(['7']);
    expect(clock.now()).toBeLessThanOrEqual(due + 1_000);
  });

  it('stop() while a submit claim is in flight hands the claimed job back to queued, unstarted', async () => {
    const { engine, c, rec } = await idleEngine();
    const open = c.hold();
    const submitted = engine.system.submit('quick', { n: 3 });
    while (c.count('insertAndClaim') === 0) await new Promise<void>((r) => setImmediate(r));
    const stopped = engine.stop({ graceMs: 0 });
    open();
    const job = await submitted;
    await stopped;
    expect(rec.started).toEqual([]);
    const store = freshReopen(c.store);
    const after = await store.getJob({ id: job.id, orgId: null });
    expect(after?.status).toBe('queued');
    const history = await store.listHistory({ jobId: job.id });
    expect(history.map((h) => `${h.from ?? 'null'}>${h.to}`)).toEqual(['null>queued', 'queued>running', 'running>queued']);
    await store.close();
  });

  it('a failed insertAndClaim fails that submit only; its room comes back and the next submit runs', async () => {
    const { engine, c, rec } = await idleEngine();
    c.failOnce();
    await expect(engine.system.submit('quick', { n: 4 })).rejects.toThrow(/disk full/);
    await engine.system.submit('quick', { n: 5 });
    await rec.startedN(5);
    await drain(engine);
    expect(rec.started).toEqual(['5']);
  });
});

/** A second adapter on the same file (the first is closed by stop). */
function freshReopen(_closed: StorageAdapter): StorageAdapter {
  return sqliteStorage({ path: join(dirs.at(-1)!, 'jobs.sqlite') });
}
