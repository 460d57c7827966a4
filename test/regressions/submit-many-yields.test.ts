/**
 * Review defect 6: `submitMany` of 50,000 entries held the event loop for 2–3 s (heartbeats,
 * timers and the web server beside it froze). Now a call takes at most SUBMIT_MANY_MAX_ENTRIES
 * (rejected up front, before any work, with a ValidationError saying how to split it), and the
 * preparation of a large batch yields to the event loop between slices. The stall itself is
 * measured in bench/submit-many-stall.ts; here we check the structure: other macrotasks run
 * during the call, and an oversized batch costs nothing.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, SUBMIT_MANY_MAX_ENTRIES, ValidationError } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';

const note = defineJobType({ name: 'note', input: z.object({ n: z.number() }), dedupWindowMs: 0, async handler() {} });
const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'note' as const, input: { n: i } }));

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`submitMany and the event loop (${kind.name})${kind.skip}`, () => {
    async function start() {
      const engine = new JobEngine({ jobTypes: [note], storage: kind.open(), clock: new FakeClock(), pollIntervalMs: 60_000, worker: false });
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      return engine;
    }

    it('a batch above the maximum is a ValidationError up front, naming the limit and how to split; nothing is written', async () => {
      kind.fresh();
      const engine = await start();
      const err = await engine.system.submitMany(entries(SUBMIT_MANY_MAX_ENTRIES + 1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toContain(`at most ${SUBMIT_MANY_MAX_ENTRIES.toLocaleString('en-US')}`);
      expect((err as Error).message).toMatch(/split/);
      expect((await engine.system.list({})).items).toEqual([]);
    });

    it('other macrotasks run while a full-size batch is prepared, and the batch stays atomic', async () => {
      kind.fresh();
      const engine = await start();
      let ticks = 0;
      let running = true;
      const tick = () => {
        ticks++;
        if (running) setImmediate(tick);
      };
      setImmediate(tick);
      const jobs = await engine.system.submitMany(entries(SUBMIT_MANY_MAX_ENTRIES));
      running = false;
      expect(jobs).toHaveLength(SUBMIT_MANY_MAX_ENTRIES);
      // At least one turn of the event loop per slice of the preparation.
      expect(ticks).toBeGreaterThanOrEqual(SUBMIT_MANY_MAX_ENTRIES / 1000);
      const bad = entries(SUBMIT_MANY_MAX_ENTRIES);
      (bad[SUBMIT_MANY_MAX_ENTRIES - 1]!.input as { n: unknown }).n = 'not a number';
      await expect(engine.system.submitMany(bad)).rejects.toBeInstanceOf(ValidationError);
      const metrics = await engine.system.metrics();
      expect(Object.values(metrics.countsByStatus).reduce((a, b) => a + b, 0)).toBe(SUBMIT_MANY_MAX_ENTRIES);
    });
  });
}
