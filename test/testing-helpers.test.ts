/** jobwing/testing as users use it, and the end-to-end typing of the public API. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, PermanentError, TransientError, type Job } from '../src/index.js';
import { createTestEngine, drain, EventRecorder, FakeClock, runJob } from '../src/testing/index.js';

const sendReport = defineJobType({
  name: 'send-report',
  input: z.object({ reportId: z.string(), email: z.string().email() }),
  output: z.object({ url: z.string() }),
  checkpoint: z.object({ page: z.number() }),
  maxRetries: 2,
  backoff: { baseMs: 1000, jitter: 'none' },
  async handler(input, ctx) {
    expectTypeOf(input).toEqualTypeOf<{ reportId: string; email: string }>();
    expectTypeOf(ctx.checkpoint).toEqualTypeOf<{ page: number } | undefined>();
    if (input.reportId === 'flaky' && ctx.job.attempt === 1) throw new TransientError('try again');
    if (input.reportId === 'bad') throw new PermanentError('no such report');
    await ctx.progress(50, 'rendering');
    await ctx.saveCheckpoint({ page: (ctx.checkpoint?.page ?? 0) + 1 });
    return { url: `https://example.com/${input.reportId}` };
  },
});
const ping = defineJobType({ name: 'ping', input: z.object({}), async handler() { return 'pong' as const; } });

describe('runJob', () => {
  it('runs a handler through the real runner: output, progress and checkpoints', async () => {
    const r = await runJob(sendReport, { reportId: 'r1', email: 'a@b.co' });
    expect(r.status).toBe('completed');
    expect(r.output).toEqual({ url: 'https://example.com/r1' });
    expectTypeOf(r.output).toEqualTypeOf<{ url: string } | null>();
    expect(r.progress).toEqual([{ progress: 50, message: 'rendering' }]);
    expect(r.checkpoints).toEqual([{ page: 1 }]);
  });

  it('reports retrying with the backoff time, dead_letter on permanent errors, and resumes checkpoints', async () => {
    const clock = new FakeClock();
    const flaky = await runJob(sendReport, { reportId: 'flaky', email: 'a@b.co' }, { clock });
    expect(flaky.status).toBe('retrying');
    expect(flaky.retryAt?.getTime()).toBe(clock.now() + 1000);
    expect(flaky.error).toMatchObject({ type: 'transient', message: 'try again' });
    const bad = await runJob(sendReport, { reportId: 'bad', email: 'a@b.co' });
    expect(bad.status).toBe('dead_letter');
    const resumed = await runJob(sendReport, { reportId: 'r2', email: 'a@b.co' }, { attempt: 2, checkpoint: { page: 4 } });
    expect(resumed.checkpoints).toEqual([{ page: 5 }]);
  });

  it('validates input like a submit', async () => {
    await expect(runJob(sendReport, { reportId: 'x', email: 'nope' })).rejects.toMatchObject({ code: 'VALIDATION' });
  });
});

describe('createTestEngine + drain + EventRecorder + FakeClock', () => {
  it('drains retries by jumping the fake clock', async () => {
    const { engine, clock } = await createTestEngine({ jobTypes: [sendReport, ping] });
    const events = new EventRecorder(engine);
    const job = await engine.system.submit('send-report', { reportId: 'flaky', email: 'a@b.co' });
    const t0 = clock.now();
    await drain(engine, { advanceClock: true });
    expect(clock.now()).toBe(t0 + 1000);
    const done = await engine.system.get(job.id);
    expect(done.status).toBe('completed');
    expect(events.transitionsOf(job.id)).toEqual([
      'null→queued', 'queued→running', 'running→retrying', 'retrying→queued', 'queued→running', 'running→completed',
    ]);
    await engine.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('types flow end to end without generics at call sites', async () => {
    const { engine } = await createTestEngine({ jobTypes: [sendReport, ping] });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const job = await alice.submit('send-report', { reportId: 'r1', email: 'a@b.co' });
    expectTypeOf(job.output).toEqualTypeOf<{ url: string } | null>();
    expectTypeOf(job.type).toEqualTypeOf<'send-report'>();
    const again = await alice.get(job.id);
    expectTypeOf(again.output).toEqualTypeOf<{ url: string } | null>();
    const anyJob = await alice.get(String(job.id));
    // Without an output schema the output is not validated, so it is typed unknown.
    if (anyJob.type === 'ping') expectTypeOf(anyJob.output).toEqualTypeOf<unknown>();
    else expectTypeOf(anyJob.output).toEqualTypeOf<{ url: string } | null>();
    // @ts-expect-error wrong input shape is a compile error
    await alice.submit('send-report', { reportId: 1 }).catch(() => undefined);
    // @ts-expect-error unknown type names are a compile error
    await alice.submit('nope', {}).catch(() => undefined);
    const plain: Job = again as Job;
    expect(plain.id).toBe(job.id);
    const untyped: JobEngine = engine; // a bare JobEngine annotation accepts any engine
    expect(untyped).toBe(engine);
    await drain(engine);
    expect((await alice.get(job.id)).output).toEqual({ url: 'https://example.com/r1' });
    await engine.stop();
  });
});
