/** Job types and engine factories shared by the engine tests. */
import { onTestFinished } from 'vitest';
import { z } from 'zod';
import { defineJobType, PermanentError, TransientError, type AnyJobType, type JobEngineOptions } from '../../src/index.js';
import { createTestEngine, EventRecorder, FakeClock } from '../../src/testing/index.js';

/** Adds two numbers, reporting progress. */
export const add = defineJobType({
  name: 'add',
  input: z.object({ a: z.number(), b: z.number() }),
  output: z.object({ sum: z.number() }),
  dedupWindowMs: 0,
  async handler(input, ctx) {
    await ctx.progress(50, 'halfway');
    return { sum: input.a + input.b };
  },
});

/** Fails transiently `failTimes` times (counted per job id), then succeeds. */
export const flaky = defineJobType({
  name: 'flaky',
  input: z.object({ failTimes: z.number().int() }),
  maxRetries: 3,
  backoff: { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 'none' },
  dedupWindowMs: 0,
  async handler(input, ctx) {
    if (ctx.job.attempt <= input.failTimes) throw new TransientError(`attempt ${ctx.job.attempt} failed`);
    return { attempts: ctx.job.attempt };
  },
});

/** Always fails permanently. */
export const broken = defineJobType({
  name: 'broken',
  input: z.object({}),
  dedupWindowMs: 0,
  async handler() {
    throw new PermanentError('cannot ever work');
  },
});

/** A handler controlled from the test: it waits until released. */
export function gate() {
  const started: string[] = [];
  /** Starts not yet handed out by nextStart(), oldest first (a job may start before its submit resolves). */
  const unseen: string[] = [];
  const releases = new Map<string, (v: unknown) => void>();
  const waiters: ((id: string) => void)[] = [];
  const type = defineJobType({
    name: 'gated',
    input: z.object({ key: z.string() }),
    dedupWindowMs: 0,
    timeoutMs: 600_000,
    async handler(input, ctx) {
      started.push(ctx.job.id);
      const waiter = waiters.shift();
      if (waiter) waiter(ctx.job.id);
      else unseen.push(ctx.job.id);
      return new Promise((resolve, reject) => {
        releases.set(ctx.job.id, resolve);
        ctx.signal.addEventListener('abort', () => reject(new Error(`aborted: ${String(ctx.signal.reason)}`)));
      });
    },
  });
  return {
    type,
    started,
    /** Resolves with the id of the next job whose handler starts (or one already started). */
    nextStart(): Promise<string> {
      const first = unseen.shift();
      if (first !== undefined) return Promise.resolve(first);
      return new Promise((resolve) => waiters.push(resolve));
    },
    release(id: string, value: unknown = { ok: true }) {
      releases.get(id)?.(value);
    },
  };
}

export const ALL_TYPES = [add, flaky, broken] as const;

/** A started in-memory engine with a fake clock and an event recorder on it. */
export async function testEngine<T extends AnyJobType>(options: Partial<JobEngineOptions<T>> & { jobTypes: readonly T[] }) {
  const clock = new FakeClock();
  const { engine } = await createTestEngine({ pollIntervalMs: 1000, leaseMs: 30_000, ...options, clock });
  const events = new EventRecorder(engine);
  return { engine, clock, events };
}

/** Like {@link testEngine}, and the engine is stopped when the current test finishes. */
export async function setupEngine<T extends AnyJobType>(options: Partial<JobEngineOptions<T>> & { jobTypes: readonly T[] }) {
  const t = await testEngine(options);
  onTestFinished(() => t.engine.stop({ graceMs: 0 }));
  return t;
}
