/**
 * Flow control through the engine: pause/resume as an audited runtime setting, and a
 * concurrency cap that holds with several engines on one store (in-process and real worker
 * processes), on every store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, type StorageAdapter } from '../../src/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { CAP, capped, holdFor, peakOverlap } from './fixtures/capped.js';
import { startChild, storeArgs } from './fixtures/children.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

const noop = defineJobType({ name: 'noop', input: z.object({ n: z.number() }), dedupWindowMs: 0, async handler() { return { ok: true }; } });

/** Polls `check` (yielding to the event loop between tries) until it holds. */
async function until(check: () => Promise<boolean>, what: string, tries = 20_000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`flow control through the engine on ${kind.name}${kind.skip}`, () => {
    async function engine(storage: StorageAdapter, opts: { clock?: FakeClock; worker?: boolean; types?: readonly typeof noop[] } = {}) {
      const e = new JobEngine({ jobTypes: opts.types ?? [noop], storage, clock: opts.clock, pollIntervalMs: 20, worker: opts.worker });
      await e.start();
      stops.push(() => e.stop({ graceMs: 0 }));
      return e;
    }

    it('pause holds claims on every engine (jobs stay queued, no attempt); resume releases them; both audited', async () => {
      kind.fresh();
      const clock = new FakeClock();
      const a = await engine(kind.open(), { clock });
      const b = await engine(kind.open(), { clock });
      const paused = await a.system.updateJobType('noop', { paused: true });
      expect(paused.paused).toBe(true);
      await clock.advance(20); // b reloads settings within pollIntervalMs (the reload itself is async)
      await until(async () => (await b.system.jobTypes()).find((t) => t.name === 'noop')?.paused === true, 'b to see the pause');
      // A claim already in flight when the setting changed may still take a job (the change is
      // in force within pollIntervalMs, from each engine's next claim): let those finish first.
      await drain(a);
      await drain(b);
      const job = await b.system.submit('noop', { n: 1 });
      await clock.advance(20);
      await drain(a);
      await drain(b);
      expect(await b.system.get(job.id)).toMatchObject({ status: 'queued', retryCount: 0 });
      expect((await b.system.history(job.id)).map((h) => h.to)).toEqual(['queued']);
      await a.system.updateJobType('noop', { paused: false });
      await clock.advance(20);
      await drain(b);
      await drain(a);
      await until(async () => {
        await clock.advance(20); // keep the fake poll ticking until an engine claims it
        return (await a.system.get(job.id)).status === 'completed';
      }, 'the resumed job to complete', 2_000);
      const reader = kind.open();
      const audit = await reader.listJobTypeAudit({ name: 'noop' });
      await reader.close();
      expect(audit.map((x) => [x.actorId, x.changes])).toEqual([['system', { paused: true }], ['system', { paused: false }]]);
    });

    it('a rate limit holds with the fake clock: held-back jobs stay queued and start when the window allows', async () => {
      kind.fresh();
      const clock = new FakeClock();
      const limited = defineJobType({ name: 'limited', input: z.object({ n: z.number() }), dedupWindowMs: 0, rateLimit: { max: 2, perMs: 1000 }, async handler() { return {}; } });
      const e = new JobEngine({ jobTypes: [limited], storage: kind.open(), clock, pollIntervalMs: 100 });
      await e.start();
      stops.push(() => e.stop({ graceMs: 0 }));
      expect((await e.system.jobTypes())[0]!.rateLimit).toEqual({ max: 2, perMs: 1000, scope: 'type' });
      const jobs = await e.system.submitMany(Array.from({ length: 5 }, (_, n) => ({ type: 'limited' as const, input: { n } })));
      const completed = async () => (await Promise.all(jobs.map((j) => e.system.get(j.id)))).filter((j) => j.status === 'completed').length;
      await drain(e);
      expect(await completed()).toBe(2);
      const waiting = (await Promise.all(jobs.map((j) => e.system.get(j.id)))).filter((j) => j.status !== 'completed');
      expect(waiting.every((j) => j.status === 'queued' && j.retryCount === 0)).toBe(true);
      await clock.advance(500);
      await drain(e);
      expect(await completed()).toBe(2);
      await clock.advance(500);
      await until(async () => {
        await drain(e);
        return (await completed()) === 4;
      }, 'two more starts in the next window', 500);
      await clock.advance(1000);
      await until(async () => {
        await drain(e);
        return (await completed()) === 5;
      }, 'the last start', 500);
    });

    it('a concurrency cap is never exceeded by three engines on one store', async () => {
      kind.fresh();
      const impl = capped.implement(() => holdFor(5));
      const engines = await Promise.all([0, 1, 2].map(async () => {
        const e = new JobEngine({ jobTypes: [impl], storage: kind.open(), pollIntervalMs: 10, concurrency: 4 });
        await e.start();
        stops.push(() => e.stop({ graceMs: 0 }));
        return e;
      }));
      const jobs = await engines[0]!.system.submitMany(Array.from({ length: 18 }, (_, n) => ({ type: 'capped' as const, input: { n } })));
      const done = await Promise.all(jobs.map((j) => engines[1]!.system.waitFor(j.id, { timeoutMs: 30_000 })));
      expect(done.every((j) => j.status === 'completed')).toBe(true);
      expect(peakOverlap(done.map((j) => j.output!))).toBeLessThanOrEqual(CAP);
      expect(peakOverlap(done.map((j) => j.output!))).toBeGreaterThanOrEqual(1);
    });

    it('a concurrency cap is never exceeded by three worker PROCESSES on one store', async () => {
      kind.fresh();
      const web = new JobEngine({ jobTypes: [capped], storage: kind.open(), worker: false, pollIntervalMs: 20 });
      await web.start();
      stops.push(() => web.stop({ graceMs: 0 }));
      const args = storeArgs(kind);
      const children = [0, 1, 2].map(() => startChild('./capped-worker.ts', args));
      await Promise.all(children.map((c) => c.ready));
      const jobs = await web.system.submitMany(Array.from({ length: 24 }, (_, n) => ({ type: 'capped' as const, input: { n } })));
      const done = await Promise.all(jobs.map((j) => web.system.waitFor(j.id, { timeoutMs: 60_000 })));
      await Promise.all(children.map((c) => c.stop()));
      const outputs = done.map((j) => j.output!);
      // (On SQLite one child may keep both slots: its settle claims the next job in the same transaction.)
      expect(outputs.every((o) => o.pid !== process.pid)).toBe(true);
      expect(peakOverlap(outputs)).toBeLessThanOrEqual(CAP);
    }, 60_000);
  });
}
