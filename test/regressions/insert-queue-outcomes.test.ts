/**
 * Review defect 14: the submit queue writes one burst as one store call per actor. When a
 * later call of the burst threw, every submit of the burst was rejected, even those whose
 * rows had committed (the caller was told "failed" for a job that exists). Each caller's
 * outcome is now its own: a failed call is retried job by job, so only the job that cannot be
 * written fails.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, type StorageAdapter } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';

const note = defineJobType({ name: 'note', input: z.object({ text: z.string() }), dedupWindowMs: 0, async handler() {} });

/** A store whose insertJobs throws for any call that carries a job with input text 'poison'. */
function poisonStore(inner: StorageAdapter) {
  const calls: number[] = [];
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'insertJobs') {
        return async (req: Parameters<StorageAdapter['insertJobs']>[0]) => {
          calls.push(req.jobs.length);
          if (req.jobs.some((j) => (j.input as { text: string }).text === 'poison')) throw new Error('the store refused this batch');
          return target.insertJobs(req);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store, calls };
}

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`submit burst outcomes (${kind.name})${kind.skip}`, () => {
    it("a store call that throws for one actor's group rejects only the submit that cannot be written", async () => {
      kind.fresh();
      const { store, calls } = poisonStore(kind.open());
      const engine = new JobEngine({ jobTypes: [note], storage: store, clock: new FakeClock(), pollIntervalMs: 60_000, worker: false });
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      const alice = engine.as({ userId: 'alice', orgId: 'acme' });
      const bob = engine.as({ userId: 'bob', orgId: 'acme' });
      // One burst (same macrotask): alice's group first, then bob's group holding the poison.
      const results = await Promise.allSettled([
        alice.submit('note', { text: 'a1' }),
        alice.submit('note', { text: 'a2' }),
        bob.submit('note', { text: 'b1' }),
        bob.submit('note', { text: 'poison' }),
        bob.submit('note', { text: 'b3' }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect(((results[3] as PromiseRejectedResult).reason as Error).message).toBe('the store refused this batch');
      expect(calls[0]).toBe(2); // alice's pair went in one call
      const texts = (await engine.system.list({ limit: 50 })).items.map((j) => (j.input as { text: string }).text).sort();
      expect(texts).toEqual(['a1', 'a2', 'b1', 'b3']);
      // Every fulfilled submit names a job that exists.
      for (const r of results) if (r.status === 'fulfilled') expect((await engine.system.get(r.value.id)).id).toBe(r.value.id);
    });
  });
}
