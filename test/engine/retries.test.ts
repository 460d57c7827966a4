import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { computeBackoff, defineJobType } from '../../src/index.js';
import { drain } from '../../src/testing/index.js';
import { add, broken, flaky, setupEngine } from '../helpers/fixtures.js';

const setup = setupEngine;

describe('retries and backoff (R10)', () => {
  it('retries a transient failure on the backoff schedule, then completes', async () => {
    const { engine, clock } = await setup({ jobTypes: [flaky] });
    const t0 = clock.now();
    const job = await engine.system.submit('flaky', { failTimes: 2 });
    await drain(engine);
    let got = await engine.system.get(job.id);
    expect(got.status).toBe('retrying');
    expect(got.retryCount).toBe(1);
    expect(got.error).toMatchObject({ type: 'transient', message: 'attempt 1 failed' });
    expect(got.nextRetryAt!.getTime()).toBe(t0 + 1000); // baseMs * 2^0, no jitter
    await clock.advance(999);
    await drain(engine);
    expect((await engine.system.get(job.id)).status).toBe('retrying');
    await clock.advance(1);
    await drain(engine);
    got = await engine.system.get(job.id);
    expect(got.status).toBe('retrying');
    expect(got.retryCount).toBe(2);
    expect(got.nextRetryAt!.getTime()).toBe(t0 + 1000 + 2000); // baseMs * 2^1
    await drain(engine, { advanceClock: true });
    got = await engine.system.get(job.id);
    expect(got.status).toBe('completed');
    expect(got.output).toEqual({ attempts: 3 });
    const history = await engine.system.history(job.id);
    expect(history.map((h) => `${h.to}@${h.attempt}`)).toEqual([
      'queued@0', 'running@1', 'retrying@1', 'queued@1', 'running@2', 'retrying@2', 'queued@2', 'running@3', 'completed@3',
    ]);
  });

  it('jittered delays stay within the policy bounds', async () => {
    const jittery = defineJobType({
      name: 'jittery',
      input: z.object({}),
      maxRetries: 5,
      dedupWindowMs: 0,
      backoff: { baseMs: 1000, factor: 3, maxMs: 20_000, jitter: 'equal' },
      async handler() {
        throw new Error('again');
      },
    });
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const { engine, clock } = await setup({ jobTypes: [jittery], random });
    const job = await engine.system.submit('jittery', {});
    for (let retry = 1; retry <= 5; retry++) {
      await drain(engine);
      const got = await engine.system.get(job.id);
      expect(got.status).toBe('retrying');
      const delay = got.nextRetryAt!.getTime() - clock.now();
      const d = Math.min(20_000, 1000 * 3 ** (retry - 1));
      expect(delay).toBeGreaterThanOrEqual(Math.floor(d / 2));
      expect(delay).toBeLessThanOrEqual(d);
      await clock.advanceTo(got.nextRetryAt!);
    }
    await drain(engine);
    const final = await engine.system.get(job.id);
    expect(final.status).toBe('dead_letter');
    expect(final.retryCount).toBe(5);
    expect(computeBackoff(1, { baseMs: 1000, jitter: 'none' })).toBe(1000);
  });

  it('ends in dead_letter when retries are exhausted, and an admin retry re-queues it with a fresh budget', async () => {
    const { engine } = await setup({ jobTypes: [flaky] });
    const job = await engine.system.submit('flaky', { failTimes: 99 }, { maxRetries: 1 });
    await drain(engine, { advanceClock: true });
    let got = await engine.system.get(job.id);
    expect(got.status).toBe('dead_letter');
    expect(got.retryCount).toBe(1);
    const retried = await engine.system.retry(job.id);
    expect(retried.status).toBe('queued');
    expect(retried.retryCount).toBe(0);
    expect(retried.error).toBeNull();
    await drain(engine, { advanceClock: true });
    got = await engine.system.get(job.id);
    expect(got.status).toBe('dead_letter');
    const history = await engine.system.history(job.id);
    expect(history.filter((h) => h.from === 'dead_letter' && h.to === 'queued')).toHaveLength(1);
    // attempts keep counting across the admin retry: 2 before, 2 after
    expect(Math.max(...history.map((h) => h.attempt))).toBe(4);
  });

  it('classifyError can make an ordinary error permanent', async () => {
    const picky = defineJobType({
      name: 'picky',
      input: z.object({}),
      dedupWindowMs: 0,
      classifyError: (err) => (err instanceof RangeError ? 'permanent' : 'transient'),
      async handler() {
        throw new RangeError('out of range');
      },
    });
    const { engine } = await setup({ jobTypes: [picky] });
    const job = await engine.system.submit('picky', {});
    await drain(engine);
    const got = await engine.system.get(job.id);
    expect(got.status).toBe('dead_letter');
    expect(got.error).toMatchObject({ type: 'permanent', name: 'RangeError' });
  });

  it('output that fails the output schema is a permanent error', async () => {
    const liar = defineJobType({
      name: 'liar',
      input: z.object({}),
      output: z.object({ n: z.number() }),
      dedupWindowMs: 0,
      // @ts-expect-error the handler breaks its own output schema on purpose
      async handler() {
        return { n: 'not a number' };
      },
    });
    const { engine } = await setup({ jobTypes: [liar] });
    const job = await engine.system.submit('liar', {});
    await drain(engine);
    const got = await engine.system.get(job.id);
    expect(got.status).toBe('dead_letter');
    expect(got.error?.type).toBe('permanent');
    expect(got.error?.message).toMatch(/n/);
    expect(got.output).toBeNull();
  });

  it('a broken and an ok job do not affect each other', async () => {
    const { engine } = await setup({ jobTypes: [add, broken] });
    const bad = await engine.system.submit('broken', {});
    const ok = await engine.system.submit('add', { a: 1, b: 2 });
    await drain(engine);
    expect((await engine.system.get(bad.id)).status).toBe('dead_letter');
    expect((await engine.system.get(ok.id)).status).toBe('completed');
  });
});
