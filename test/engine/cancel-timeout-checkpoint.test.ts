import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, InvalidStateError, JobNotFoundError, PermissionDeniedError } from '../../src/index.js';
import { drain, EventRecorder } from '../../src/testing/index.js';
import { engineInternals } from '../../src/engine.js';
import { add, gate, setupEngine } from '../helpers/fixtures.js';

const setup = setupEngine;

describe('cancel (R12)', () => {
  it('a canceled queued job never runs; canceledAt and canceledBy are set', async () => {
    const { engine } = await setup({ jobTypes: [add], worker: true, concurrency: 1 });
    const bob = engine.as({ userId: 'bob', orgId: 'acme' });
    const job = await bob.submit('add', { a: 1, b: 1 }, { delayMs: 1000 });
    const canceled = await bob.cancel(job.id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.canceledBy).toBe('bob');
    expect(canceled.canceledAt).toBeInstanceOf(Date);
    await drain(engine, { advanceClock: true });
    const got = await bob.get(job.id);
    expect(got.status).toBe('canceled');
    expect(got.startedAt).toBeNull();
    expect((await bob.history(job.id)).map((h) => h.to)).toEqual(['scheduled', 'canceled']);
  });

  it('a running job sees signal.reason "canceled" and ends canceled', async () => {
    const g = gate();
    const { engine, events } = await setup({ jobTypes: [g.type] });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const job = await alice.submit('gated', { key: 'x' });
    await g.nextStart();
    await alice.cancel(job.id);
    await drain(engine);
    const got = await alice.get(job.id);
    expect(got.status).toBe('canceled');
    expect(got.canceledBy).toBe('alice');
    expect(events.transitionsOf(job.id)).toEqual(['null→queued', 'queued→running', 'running→canceled']);
  });

  it('a running job on another engine is aborted within one heartbeat', async () => {
    const g = gate();
    const reasons: string[] = [];
    const watched = defineJobType({
      name: 'watched',
      input: z.object({}),
      dedupWindowMs: 0,
      async handler(_i, ctx) {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        reasons.push(String(ctx.signal.reason));
      },
    });
    const { engine, clock, events } = await setup({ jobTypes: [watched, g.type], leaseMs: 3000 });
    const job = await engine.system.submit('watched', {});
    await events.next('job:status', (e) => e.jobId === job.id && e.to === 'running');
    // Cancel straight in the store, as another process would: no local abort.
    await engine[engineInternals].storage.cancelJob({ jobId: job.id, orgId: null, actorId: 'remote', now: clock.now() });
    expect(reasons).toEqual([]);
    await clock.advance(1000); // one heartbeat = leaseMs / 3
    await drain(engine);
    expect(reasons).toEqual(['canceled']);
    expect((await engine.system.get(job.id)).status).toBe('canceled');
  });

  it('only the owner or an admin may cancel; finished jobs cannot be canceled', async () => {
    const { engine } = await setup({ jobTypes: [add] });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const mallory = engine.as({ userId: 'mallory', orgId: 'acme' });
    const admin = engine.as({ userId: 'root', orgId: 'ops', admin: true });
    const job = await alice.submit('add', { a: 1, b: 1 }, { delayMs: 10_000 });
    await expect(mallory.cancel(job.id)).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await alice.get(job.id)).status).toBe('scheduled');
    const c = await admin.cancel(job.id);
    expect(c.canceledBy).toBe('root');
    await expect(alice.cancel(job.id)).rejects.toBeInstanceOf(InvalidStateError);
    const done = await alice.submit('add', { a: 2, b: 2 });
    await drain(engine);
    await expect(alice.cancel(done.id)).rejects.toMatchObject({ code: 'INVALID_STATE', status: 'completed' });
    await expect(alice.cancel('no-such-id')).rejects.toBeInstanceOf(JobNotFoundError);
  });
});

describe('timeouts (R11)', () => {
  it('a handler that ignores its signal fails with "timeout" at timeoutMs and its late result is discarded', async () => {
    let finish: (() => void) | undefined;
    let sawReason: unknown;
    const stubborn = defineJobType({
      name: 'stubborn',
      input: z.object({}),
      output: z.object({ late: z.boolean() }),
      timeoutMs: 5000,
      maxRetries: 0,
      dedupWindowMs: 0,
      async handler(_i, ctx) {
        ctx.signal.addEventListener('abort', () => (sawReason = ctx.signal.reason));
        await new Promise<void>((resolve) => (finish = resolve));
        return { late: true };
      },
    });
    const { engine, clock } = await setup({ jobTypes: [stubborn] });
    const job = await engine.system.submit('stubborn', {});
    const events = new EventRecorder(engine);
    await engine.system.get(job.id);
    await clock.advance(4999);
    expect((await engine.system.get(job.id)).status).toBe('running');
    await clock.advance(1);
    await events.next('job:status', (e) => e.jobId === job.id && e.to === 'dead_letter');
    expect(sawReason).toBe('timeout');
    finish?.();
    await drain(engine);
    const got = await engine.system.get(job.id);
    expect(got.status).toBe('dead_letter');
    expect(got.error).toMatchObject({ type: 'timeout' });
    expect(got.output).toBeNull();
  });

  it('a timeout is transient: the job is retried while retries are left', async () => {
    const slow = defineJobType({
      name: 'slow',
      input: z.object({}),
      timeoutMs: 1000,
      maxRetries: 1,
      dedupWindowMs: 0,
      backoff: { jitter: 'none', baseMs: 10 },
      async handler(_i, ctx) {
        if (ctx.job.attempt === 1) await new Promise(() => undefined); // hangs forever, ignoring the signal
        return 'ok';
      },
    });
    const { engine, clock, events } = await setup({ jobTypes: [slow] });
    const job = await engine.system.submit('slow', {}, { timeoutMs: 2000 });
    await events.next('job:status', (e) => e.jobId === job.id && e.to === 'running');
    await clock.advance(2000);
    await drain(engine, { advanceClock: true });
    const got = await engine.system.get(job.id);
    expect(got.status).toBe('completed');
    expect(got.output).toBe('ok');
    const h = await engine.system.history(job.id);
    expect(h.find((e) => e.to === 'retrying')?.error?.type).toBe('timeout');
  });
});

describe('checkpoints', () => {
  it('the next attempt resumes from the last saved checkpoint', async () => {
    const seen: (number | undefined)[] = [];
    const pages = defineJobType({
      name: 'pages',
      input: z.object({ total: z.number() }),
      checkpoint: z.object({ page: z.number() }),
      maxRetries: 2,
      dedupWindowMs: 0,
      backoff: { jitter: 'none', baseMs: 100 },
      async handler(input, ctx) {
        seen.push(ctx.checkpoint?.page);
        for (let p = (ctx.checkpoint?.page ?? 0) + 1; p <= input.total; p++) {
          await ctx.saveCheckpoint({ page: p });
          if (ctx.job.attempt === 1 && p === 3) throw new Error('crash on page 3');
        }
        return { pages: input.total };
      },
    });
    const { engine } = await setup({ jobTypes: [pages] });
    const job = await engine.system.submit('pages', { total: 5 });
    await drain(engine, { advanceClock: true });
    const got = await engine.system.get(job.id);
    expect(got.status).toBe('completed');
    expect(seen).toEqual([undefined, 3]);
    expect(got.checkpoint).toEqual({ page: 5 });
  });

  it('an invalid checkpoint is refused with a ValidationError naming the path', async () => {
    let caught: unknown;
    const strict = defineJobType({
      name: 'strict-cp',
      input: z.object({}),
      checkpoint: z.object({ page: z.number() }),
      dedupWindowMs: 0,
      async handler(_i, ctx) {
        try {
          await ctx.saveCheckpoint({ page: 'x' } as never);
        } catch (e) {
          caught = e;
        }
        return null;
      },
    });
    const { engine } = await setup({ jobTypes: [strict] });
    await engine.system.submit('strict-cp', {});
    await drain(engine);
    expect(caught).toMatchObject({ code: 'VALIDATION' });
    expect((caught as { issues: { path: unknown[] }[] }).issues[0]!.path).toEqual(['checkpoint', 'page']);
  });
});
