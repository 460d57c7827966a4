/**
 * Isolation (worker threads): progress, checkpoint and signal cross the thread boundary; a
 * spinning handler is hard-stopped ~1 s after its abort while the engine keeps serving; a
 * thread that dies ends 'crashed'; threads are reused and none remain after stop().
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/index.js';
import { isolationThreadEvents, liveIsolationThreads } from '../../src/isolation/isolated-thread.js';
import { add, setupEngine } from '../helpers/fixtures.js';
import { storeKinds } from '../helpers/stores.js';

const fixture = (name: string) => new URL(`./fixtures/${name}.handler.ts`, import.meta.url);
const iso = (name: string, extra: object = {}) => ({ kind: 'worker-thread' as const, module: fixture(name), ...extra });

const steps = defineJobType({
  name: 'iso-steps',
  input: z.object({ steps: z.number(), failAt: z.number().optional() }),
  checkpoint: z.object({ done: z.number() }),
  output: z.object({ threadId: z.number(), resumedFrom: z.number(), attempt: z.number(), jobId: z.string() }),
  dedupWindowMs: 0,
  backoff: { baseMs: 10, jitter: 'none' },
  isolation: iso('steps'),
});
const spin = defineJobType({ name: 'iso-spin', input: z.object({}), dedupWindowMs: 0, timeoutMs: 5_000, maxRetries: 0, isolation: iso('spin') });
const oom = defineJobType({
  name: 'iso-oom',
  input: z.object({}),
  dedupWindowMs: 0,
  maxRetries: 1,
  backoff: { baseMs: 10, jitter: 'none' },
  isolation: iso('oom', { resourceLimits: { maxOldGenerationSizeMb: 16 } }),
});
const exits = defineJobType({ name: 'iso-exit', input: z.object({}), dedupWindowMs: 0, maxRetries: 0, isolation: iso('exit') });
const errors = defineJobType({ name: 'iso-errors', input: z.object({ kind: z.string() }), dedupWindowMs: 0, maxRetries: 0, isolation: iso('errors') });

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip)(`isolation on ${kind.name}${kind.skip}`, () => {
    const setup = async (concurrency = 2) => {
      kind.fresh();
      return setupEngine({ storage: kind.open(), jobTypes: [steps, spin, oom, exits, errors, add], concurrency });
    };

    it('progress, checkpoints and resume work in the thread; one thread serves sequential jobs; none remain after stop()', async () => {
      const { engine, events, clock } = await setup(1);
      const a = await engine.system.submit('iso-steps', { steps: 3, failAt: 2 });
      const failed = await events.next('job:status', (e) => e.jobId === a.id && e.to === 'retrying');
      expect(failed).toBeTruthy();
      expect((await engine.system.get(a.id)).checkpoint).toEqual({ done: 2 });
      await clock.advance(10);
      await events.next('job:status', (e) => e.jobId === a.id && e.to === 'completed');
      const first = await engine.system.get(a.id);
      expect(first.output).toMatchObject({ resumedFrom: 2, attempt: 2 });
      expect(first.progress).toBe(100);
      const b = await engine.system.submit('iso-steps', { steps: 1 });
      await events.next('job:status', (e) => e.jobId === b.id && e.to === 'completed');
      const second = await engine.system.get(b.id);
      // The thread that failed with a plain error is healthy: it is reused.
      expect((second.output as { threadId: number }).threadId).toBe((first.output as { threadId: number }).threadId);
      expect(liveIsolationThreads()).toBeGreaterThan(0);
      await engine.stop({ graceMs: 0 });
      expect(liveIsolationThreads()).toBe(0);
    });

    it('while (true) {} is stopped at its timeout, its thread terminated after the abort; other jobs complete meanwhile', async () => {
      const { engine, events, clock } = await setup(2);
      const spinning = await engine.system.submit('iso-spin', {});
      await events.next('job:progress', (e) => e.jobId === spinning.id);
      const others = await Promise.all([1, 2, 3].map((n) => engine.system.submit('add', { a: n, b: n })));
      for (const o of others) await events.next('job:status', (e) => e.jobId === o.id && e.to === 'completed');
      expect((await engine.system.get(spinning.id)).status).toBe('running');
      const exited = once(isolationThreadEvents, 'exit');
      const abortedAt = performance.now();
      await clock.advance(5_000);
      await events.next('job:status', (e) => e.jobId === spinning.id && e.to === 'dead_letter');
      expect((await engine.system.get(spinning.id)).error).toMatchObject({ type: 'timeout' });
      await exited;
      // Not a pass/fail timing (bench/ measures): only that the hard stop waited for its grace.
      expect(performance.now() - abortedAt).toBeGreaterThan(900);
    });

    it('cancel of a spinning job terminates its thread', async () => {
      const { engine, events } = await setup(1);
      const job = await engine.system.submit('iso-spin', {});
      await events.next('job:progress', (e) => e.jobId === job.id);
      const exited = once(isolationThreadEvents, 'exit');
      await engine.system.cancel(job.id);
      await exited;
      expect((await engine.system.get(job.id)).status).toBe('canceled');
      const next = await engine.system.submit('add', { a: 1, b: 2 });
      await events.next('job:status', (e) => e.jobId === next.id && e.to === 'completed');
    });

    it('an out-of-memory thread ends crashed and is retried per maxRetries', async () => {
      const { engine, events, clock } = await setup(1);
      const job = await engine.system.submit('iso-oom', {});
      await events.next('job:status', (e) => e.jobId === job.id && e.to === 'retrying');
      expect((await engine.system.get(job.id)).error).toMatchObject({ type: 'crashed', name: 'WorkerCrashedError' });
      await clock.advance(10);
      await events.next('job:status', (e) => e.jobId === job.id && e.to === 'dead_letter');
      const got = await engine.system.get(job.id);
      expect(got.retryCount).toBe(1);
      expect(got.error).toMatchObject({ type: 'crashed' });
      expect(got.error?.message).toMatch(/out of memory/);
    });

    it('process.exit() in the handler thread ends crashed; the host lives on', async () => {
      const { engine, events } = await setup(1);
      const job = await engine.system.submit('iso-exit', {});
      await events.next('job:status', (e) => e.jobId === job.id && e.to === 'dead_letter');
      expect((await engine.system.get(job.id)).error).toMatchObject({ type: 'crashed', message: expect.stringMatching(/code 3/) });
    });

    it('thrown errors keep name, message and classification across the boundary', async () => {
      const { engine, events } = await setup(2);
      const run = async (k: string) => {
        const job = await engine.system.submit('iso-errors', { kind: k });
        await events.next('job:status', (e) => e.jobId === job.id && e.to === 'dead_letter');
        return (await engine.system.get(job.id)).error;
      };
      expect(await run('permanent')).toMatchObject({ type: 'permanent', name: 'PermanentError', message: 'bad input forever' });
      expect(await run('transient')).toMatchObject({ type: 'transient', name: 'TransientError' });
      expect(await run('subclass')).toMatchObject({ type: 'transient', message: 'slow down' });
      expect(await run('custom')).toMatchObject({ type: 'transient', name: 'UpstreamError', message: 'custom failure' });
      expect(await run('string')).toMatchObject({ type: 'transient', message: 'a bare string' });
    });
  });
}

describe('isolation option validation', () => {
  it('rejects bad options with the field named', () => {
    const base = { name: 'x', input: z.object({}) };
    expect(() => defineJobType({ ...base, isolation: { kind: 'process', module: fixture('spin') } as never })).toThrow(/isolation.kind/);
    expect(() => defineJobType({ ...base, isolation: { kind: 'worker-thread', module: './relative.js' } })).toThrow(/isolation.module/);
    expect(() => defineJobType({ ...base, isolation: { kind: 'worker-thread', module: fixture('spin'), resourceLimits: { maxOldGenerationSizeMb: -1 } } })).toThrow(/maxOldGenerationSizeMb/);
    expect(() => defineJobType({ ...base, handler: async () => 1, isolation: iso('spin') } as never)).toThrow(/either handler or isolation/);
    expect(() => spin.implement(async () => undefined)).toThrow(/isolated/);
    expect(typeof spin.handler).toBe('function'); // counts as implemented
  });
});
