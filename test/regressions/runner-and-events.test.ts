/**
 * Review defects 3, 4, 11 and 12, on every store:
 * 3  thrown values that crashed the worker (no message, a throwing getter, a throwing refine);
 * 4  an async event listener whose rejection crashed the process;
 * 11 `nextRetryAt` left set after a retried attempt completed; a cancel racing a finished
 *    handler reported as an `engine:error` 'lease_lost';
 * 12 local progress events that waited for the poll instead of arriving at once.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, TransientError, type AnyJobType, type EngineErrorEvent, type StorageAdapter } from '../../src/index.js';
import { drain, EventRecorder, FakeClock } from '../../src/testing/index.js';
import { gatedStore, storeKinds } from '../helpers/stores.js';

const TIMED_OUT = Symbol('timed out');
/**
 * The value of `p`, or TIMED_OUT when it has not settled within a generous deadline (2 s
 * of real time, while the engine's fake clock stands still and its poll never comes). A
 * passing test never waits for the deadline; it only turns a hang into a clear failure.
 */
const soon = <V>(p: Promise<V>) =>
  Promise.race([p, new Promise<typeof TIMED_OUT>((resolve) => AbortSignal.timeout(2_000).addEventListener('abort', () => resolve(TIMED_OUT)))]);

const nullProto = defineJobType({
  name: 'throws-null-proto',
  input: z.object({}),
  maxRetries: 0,
  dedupWindowMs: 0,
  async handler() {
    throw Object.create(null);
  },
});
const badGetter = defineJobType({
  name: 'throws-bad-getter',
  input: z.object({}),
  maxRetries: 0,
  dedupWindowMs: 0,
  async handler() {
    throw {
      get message(): string {
        throw new Error('getter exploded');
      },
    };
  },
});
const badRefine = defineJobType({
  name: 'output-refine-throws',
  input: z.object({}),
  output: z.object({ n: z.number() }).refine(() => {
    throw new Error('refine exploded');
  }),
  maxRetries: 0,
  dedupWindowMs: 0,
  async handler() {
    return { n: 1 };
  },
});
const ok = defineJobType({ name: 'ok', input: z.object({ n: z.number() }), dedupWindowMs: 0, async handler(input) {
  return { n: input.n };
} });
const flaky = defineJobType({
  name: 'fails-once',
  input: z.object({}),
  maxRetries: 2,
  dedupWindowMs: 0,
  backoff: { baseMs: 1_000, factor: 2, maxMs: 10_000, jitter: 'none' },
  async handler(_input, ctx) {
    if (ctx.job.attempt === 1) throw new TransientError('first attempt fails');
    return { done: true };
  },
});

function controlled() {
  let progressed!: () => void;
  let release!: () => void;
  let go!: () => void;
  const state = {
    go: new Promise<void>((r) => (go = r)),
    progressed: new Promise<void>((r) => (progressed = r)),
    released: new Promise<void>((r) => (release = r)),
  };
  const type = defineJobType({
    name: 'controlled',
    input: z.object({}),
    dedupWindowMs: 0,
    async handler(_input, ctx) {
      await state.go; // progress comes later than the claim, as in a real handler
      await ctx.progress(30, 'a third');
      progressed();
      await state.released;
      return { ok: true };
    },
  });
  return { type, state, go: () => go(), release: () => release() };
}

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`runner and events (${kind.name})${kind.skip}`, () => {
    async function start<T extends AnyJobType>(jobTypes: T[], storage: StorageAdapter = kind.open()) {
      const clock = new FakeClock();
      const engine = new JobEngine({ jobTypes, storage, clock, pollIntervalMs: 60_000 });
      const errors: EngineErrorEvent[] = [];
      engine.on('engine:error', (e) => errors.push(e));
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      return { engine, clock, errors, events: new EventRecorder(engine) };
    }

    it('whatever a handler throws or returns, the attempt fails with a recorded error and the worker serves on', async () => {
      kind.fresh();
      const { engine } = await start([nullProto, badGetter, badRefine, ok]);
      const a = await engine.system.submit('throws-null-proto', {});
      const b = await engine.system.submit('throws-bad-getter', {});
      const c = await engine.system.submit('output-refine-throws', {});
      const d = await engine.system.submit('ok', { n: 7 });
      await drain(engine);
      for (const id of [a.id, b.id, c.id]) {
        const job = await engine.system.get(id);
        expect(job.status).toBe('dead_letter');
        expect(typeof job.error?.message).toBe('string');
        expect(job.error!.message.length).toBeGreaterThan(0);
      }
      expect((await engine.system.get(c.id)).error?.message).toContain('refine exploded');
      expect((await engine.system.get(d.id)).status).toBe('completed');
    });

    it('an async listener that rejects becomes engine:error (source listener), not a crash', async () => {
      kind.fresh();
      const { engine } = await start([ok]);
      const reported = new Promise<EngineErrorEvent>((resolve) => engine.on('engine:error', (e) => e.source === 'listener' && resolve(e)));
      engine.on('job:status', async () => {
        await Promise.resolve();
        throw new Error('listener rejected');
      });
      await engine.system.submit('ok', { n: 1 });
      await drain(engine);
      const e = await soon(reported);
      expect(e).not.toBe(TIMED_OUT);
      expect(((e as EngineErrorEvent).error as Error).message).toBe('listener rejected');
    });

    it('nextRetryAt is cleared once the retried attempt completes', async () => {
      kind.fresh();
      const { engine, events } = await start([flaky]);
      const job = await engine.system.submit('fails-once', {});
      await drain(engine, { advanceClock: true });
      expect(events.transitionsOf(job.id)).toContain('running→retrying');
      const done = await engine.system.get(job.id);
      expect(done.status).toBe('completed');
      expect(done.nextRetryAt).toBeNull();
    });

    it('a cancel that wins the race against a finished handler reports no lease_lost error', async () => {
      kind.fresh();
      const ctl = controlled();
      const gate = gatedStore(kind.open(), 'settleAndClaim');
      const { engine, errors } = await start([ctl.type], gate.store);
      const job = await engine.system.submit('controlled', {});
      ctl.go();
      await ctl.state.progressed;
      gate.arm();
      ctl.release(); // the handler returns; its settle waits at the gate
      await gate.entered();
      await engine.system.cancel(job.id); // the cancel commits first
      gate.release();
      await drain(engine);
      expect((await engine.system.get(job.id)).status).toBe('canceled');
      expect(errors.filter((e) => e.source === 'lease_lost')).toEqual([]);
    });

    it('local progress reaches listeners at once, before the completion, without waiting for the poll', async () => {
      kind.fresh();
      const ctl = controlled();
      const { engine, events } = await start([ctl.type]);
      const job = await engine.system.submit('controlled', {});
      await events.next('job:status', (e) => e.jobId === job.id && e.to === 'running');
      ctl.go();
      await ctl.state.progressed;
      const progress = await soon(events.next('job:progress', (e) => e.jobId === job.id));
      expect(progress).not.toBe(TIMED_OUT);
      expect(events.transitionsOf(job.id)).not.toContain('running→completed');
      ctl.release();
      await drain(engine);
      expect(events.transitionsOf(job.id)).toContain('running→completed');
    });
  });
}
