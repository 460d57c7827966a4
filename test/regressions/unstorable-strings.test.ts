/**
 * Review defect 8: on Postgres an org or user id holding `\u0000` failed every submit grouped
 * with it in one insert (`STORAGE: invalid byte sequence`); SQLite stored it. Now a string no
 * store can keep is a ValidationError for that call alone, the same on both stores, and a
 * handler's error message or progress message with a NUL is stored cleaned, not lost.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, JobNotFoundError, ValidationError, type AnyJobType } from '../../src/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';

const note = defineJobType({ name: 'note', input: z.object({ text: z.string() }), dedupWindowMs: 0, async handler() {} });
const failsWithNul = defineJobType({ name: 'fails-with-nul', input: z.object({}), maxRetries: 0, dedupWindowMs: 0, async handler(_input, ctx) {
  await ctx.progress(10, 'half\u0000way');
  throw new Error('bad\u0000byte');
} });

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`strings no store can keep (${kind.name})${kind.skip}`, () => {
    async function start(jobTypes: AnyJobType[]) {
      const engine = new JobEngine({ jobTypes, storage: kind.open(), clock: new FakeClock(), pollIntervalMs: 60_000 });
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      return engine;
    }

    it('a NUL in an org or user id fails only that call, with a ValidationError; the 9 submits beside it succeed', async () => {
      kind.fresh();
      const engine = await start([note]);
      const calls = Array.from({ length: 10 }, (_, i) => {
        const actor = i === 3 ? { userId: 'u\u0000x', orgId: 'acme' } : i === 6 ? { userId: 'u6', orgId: 'ac\u0000me' } : { userId: `u${i}`, orgId: 'acme' };
        return Promise.resolve().then(() => engine.as(actor).submit('note', { text: `n${i}` }));
      });
      const results = await Promise.allSettled(calls);
      const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      expect(rejected).toEqual([3, 6]);
      for (const i of rejected) {
        const reason = (results[i] as PromiseRejectedResult).reason as ValidationError;
        expect(reason).toBeInstanceOf(ValidationError);
        expect(reason.message).toMatch(/NUL/);
      }
      expect((await engine.system.list({ limit: 50 })).items).toHaveLength(8);
    });

    it('a NUL or a lone surrogate in input, dedupKey or dependsOn is a ValidationError naming the path', async () => {
      kind.fresh();
      const engine = await start([note]);
      const cases: [unknown, unknown, string][] = [
        [{ text: 'a\u0000b' }, undefined, 'input.text'],
        [{ text: 'lone \ud800 surrogate' }, undefined, 'input.text'],
        [{ text: 'ok' }, { dedupKey: 'k\u0000' }, 'options.dedupKey'],
        [{ text: 'ok' }, { dependsOn: ['p\u0000'] }, 'options.dependsOn.0'],
      ];
      for (const [input, options, path] of cases) {
        const err = await engine.system.submit('note', input as { text: string }, options as never).catch((e: unknown) => e);
        expect(err, path).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).issues.map((i) => i.path.join('.'))).toEqual([path]);
      }
    });

    it('a job id with a NUL is simply not found, on get, cancel and history', async () => {
      kind.fresh();
      const engine = await start([note]);
      await expect(engine.system.get('x\u0000y')).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(engine.system.cancel('x\u0000y')).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(engine.system.history('x\u0000y')).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it("a handler's error and progress messages with a NUL are stored with it replaced, not lost", async () => {
      kind.fresh();
      const engine = await start([failsWithNul]);
      const job = await engine.system.submit('fails-with-nul', {});
      await drain(engine);
      const done = await engine.system.get(job.id);
      expect(done.status).toBe('dead_letter');
      expect(done.error?.message).toBe('bad\ufffdbyte');
      expect(done.progressMessage).toBe('half\ufffdway');
    });
  });
}
