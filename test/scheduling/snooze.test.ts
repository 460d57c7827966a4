/**
 * Snooze (issue 11): a handler throws `SnoozeError(delayMs)` → `running → scheduled` at
 * now + delayMs, no retry used, checkpoint kept, one history entry. On both stores, fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, SnoozeError, type StorageAdapter } from '../../src/index.js';
import { isAllowedTransition } from '../../src/states.js';
import { drain, FakeClock, runJob } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';

/** Snoozes `times` times for 5 s (saving a checkpoint first), then completes with what it saw. */
const polite = defineJobType({
  name: 'polite',
  input: z.object({ times: z.number().int() }),
  checkpoint: z.object({ page: z.number() }),
  maxRetries: 0, // a snooze must not need a retry
  dedupWindowMs: 0,
  async handler(input, ctx) {
    const page = (ctx.checkpoint?.page ?? 0) + 1;
    await ctx.saveCheckpoint({ page });
    if (ctx.job.attempt <= input.times) throw new SnoozeError(5_000, 'Retry-After: 5');
    return { page, attempt: ctx.job.attempt, retryCount: ctx.job.retryCount };
  },
});

describe('SnoozeError', () => {
  it('rejects a bad delay with a clear RangeError', () => {
    expect(() => new SnoozeError(-1)).toThrow(/delayMs must be a finite number/);
    expect(() => new SnoozeError(Number.NaN)).toThrow(RangeError);
    expect(new SnoozeError(1500.4, 'why')).toMatchObject({ delayMs: 1500, reason: 'why', name: 'SnoozeError' });
  });

  it('runJob reports status snoozed with the time it would be due', async () => {
    const clock = new FakeClock();
    const r = await runJob(polite, { times: 1 }, { clock });
    expect(r).toMatchObject({ status: 'snoozed', error: null, retryAt: new Date(clock.now() + 5_000), checkpoints: [{ page: 1 }] });
  });

  it('running → scheduled is in the state diagram', () => {
    expect(isAllowedTransition('running', 'scheduled')).toBe(true);
    expect(isAllowedTransition('completed', 'scheduled')).toBe(false);
  });
});

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`snooze on ${kind.name}${kind.skip}`, () => {
    let engine: JobEngine | null = null;
    afterEach(async () => {
      await engine?.stop({ graceMs: 0 });
      engine = null;
    });

    async function start(): Promise<{ engine: JobEngine; clock: FakeClock; storage: StorageAdapter }> {
      kind.fresh();
      const clock = new FakeClock();
      const storage = kind.open();
      engine = new JobEngine({ jobTypes: [polite], storage, clock, pollIntervalMs: 50 });
      await engine.start();
      return { engine, clock, storage };
    }

    it('goes back to scheduled at now + delayMs without using a retry, resuming from the checkpoint', async () => {
      const { engine: e, clock } = await start();
      const t0 = clock.now();
      const job = await e.system.submit('polite', { times: 2 });
      await drain(e);
      let got = await e.system.get(job.id);
      expect(got).toMatchObject({ status: 'scheduled', retryCount: 0, checkpoint: { page: 1 }, runAt: new Date(t0 + 5_000), error: null });
      await clock.advance(4_999);
      await drain(e);
      expect((await e.system.get(job.id)).status).toBe('scheduled');
      await drain(e, { advanceClock: true });
      got = await e.system.get(job.id);
      expect(got).toMatchObject({ status: 'completed', retryCount: 0, output: { page: 3, attempt: 3, retryCount: 0 } });
      const history = await e.system.history(job.id);
      expect(history.map((h) => `${h.from ?? 'null'}>${h.to}@${h.attempt}`)).toEqual([
        'null>queued@0', 'queued>running@1', 'running>scheduled@1', 'scheduled>queued@1',
        'queued>running@2', 'running>scheduled@2', 'scheduled>queued@2', 'queued>running@3', 'running>completed@3',
      ]);
      expect(history[2]).toMatchObject({ message: 'Snoozed for 5000 ms: Retry-After: 5', error: null });
      for (const h of history) expect(isAllowedTransition(h.from, h.to)).toBe(true);
    });
  });
}
