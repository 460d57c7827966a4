/** Engines sharing one SQLite file: events, settings and jobs cross between them; stop is clean. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobEngine, JobTypeDisabledError, sqliteStorage, type AnyJobType } from '../../src/index.js';
import { drain, EventRecorder, FakeClock } from '../../src/testing/index.js';
import { engineInternals } from '../../src/engine.js';
import { add, gate } from '../helpers/fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobwing-multi-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'jobs.sqlite');
}

async function engineOn<T extends AnyJobType>(path: string, clock: FakeClock, opts: { jobTypes: readonly T[]; worker?: boolean; concurrency?: number }) {
  const engine = new JobEngine({ storage: sqliteStorage({ path }), clock, pollIntervalMs: 1000, leaseMs: 30_000, ...opts });
  await engine.start();
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await engine.stop({ graceMs: 0 });
  });
  return Object.assign(engine, {
    async halt(graceMs = 0) {
      stopped = true;
      await engine.stop({ graceMs });
    },
  });
}

describe('two engines on one SQLite file', () => {
  it('a web engine (worker: false) sees status and progress of jobs run by a worker engine, in order', async () => {
    const path = tempFile();
    const clock = new FakeClock();
    const web = await engineOn(path, clock, { jobTypes: [add], worker: false });
    const worker = await engineOn(path, clock, { jobTypes: [add] });
    const alice = web.as({ userId: 'alice', orgId: 'acme' });
    const seen = new EventRecorder(alice);
    const job = await alice.submit('add', { a: 20, b: 22 });
    await clock.advance(1000); // the worker's poll picks the job up
    await drain(worker);
    await clock.advance(1000); // the web engine's poll delivers the worker's events
    await seen.next('job:status', (e) => e.jobId === job.id && e.to === 'completed');
    expect(seen.transitionsOf(job.id)).toEqual(['null→queued', 'queued→running', 'running→completed']);
    const progress = await seen.next('job:progress', (e) => e.jobId === job.id);
    expect(progress.progress).toBe(50);
    expect((await alice.get(job.id)).output).toEqual({ sum: 42 });
  });

  it('an admin change of a job type is in force on every engine within pollIntervalMs, audited', async () => {
    const path = tempFile();
    const clock = new FakeClock();
    const a = await engineOn(path, clock, { jobTypes: [add], worker: false });
    const b = await engineOn(path, clock, { jobTypes: [add], worker: false });
    const admin = a.as({ userId: 'root', orgId: 'ops', admin: true });
    const info = await admin.updateJobType('add', { enabled: false, maxRetries: 7 });
    expect(info).toMatchObject({ name: 'add', enabled: false, maxRetries: 7 });
    await expect(a.system.submit('add', { a: 1, b: 1 })).rejects.toBeInstanceOf(JobTypeDisabledError);
    await clock.advance(1000);
    await expect(b.system.submit('add', { a: 1, b: 1 })).rejects.toBeInstanceOf(JobTypeDisabledError);
    expect((await b.system.jobTypes())[0]).toMatchObject({ enabled: false, maxRetries: 7 });
    await admin.updateJobType('add', { enabled: true });
    await clock.advance(1000);
    const job = await b.system.submit('add', { a: 1, b: 1 });
    expect(job.maxRetries).toBe(7);
    // Survives a restart of every engine.
    await a.halt();
    await b.halt();
    const c = await engineOn(path, clock, { jobTypes: [add], worker: false });
    expect((await c.system.jobTypes())[0]).toMatchObject({ enabled: true, maxRetries: 7 });
    const audit = await c[engineInternals].storage.listJobTypeAudit({ name: 'add' });
    expect(audit.map((e) => [e.actorId, e.changes])).toEqual([
      ['root', { enabled: false, maxRetries: 7 }],
      ['root', { enabled: true }],
    ]);
  });

  it('jobs submitted before a restart run after it', async () => {
    const path = tempFile();
    const clock = new FakeClock();
    const first = await engineOn(path, clock, { jobTypes: [add], worker: false });
    const ids = (await first.system.submitMany([1, 2, 3].map((n) => ({ type: 'add' as const, input: { a: n, b: n } })))).map((j) => j.id);
    await first.halt();
    const second = await engineOn(path, clock, { jobTypes: [add] });
    await drain(second);
    for (const id of ids) expect((await second.system.get(id)).status).toBe('completed');
  });
});

describe('stop', () => {
  it('graceful stop (R6): finished work completes, unfinished is released to queued after graceMs, no timer left', async () => {
    const g = gate();
    const path = tempFile();
    const clock = new FakeClock();
    const engine = await engineOn(path, clock, { jobTypes: [g.type], concurrency: 2 });
    const events = new EventRecorder(engine);
    const quick = await engine.system.submit('gated', { key: 'quick' });
    const slow = await engine.system.submit('gated', { key: 'slow' });
    const third = await engine.system.submit('gated', { key: 'third' });
    while (g.started.length < 2) await g.nextStart();
    const stopping = engine.halt(5000);
    g.release(quick.id);
    await events.next('job:status', (e) => e.jobId === quick.id && e.to === 'completed');
    await clock.advance(5000);
    await stopping;
    expect(clock.pendingTimers).toBe(0);
    const reader = await engineOn(path, clock, { jobTypes: [g.type], worker: false });
    expect((await reader.system.get(quick.id)).status).toBe('completed');
    expect((await reader.system.get(slow.id)).status).toBe('queued');
    expect((await reader.system.get(third.id)).status).toBe('queued'); // never claimed after stop began
    const h = await reader.system.history(slow.id);
    expect(h.map((e) => e.to)).toEqual(['queued', 'running', 'queued']);
    expect((await reader.system.get(slow.id)).retryCount).toBe(0);
  });

  it('leaves no timer or handle behind with the real clock', async () => {
    const path = tempFile();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const engine = new JobEngine({ jobTypes: [add], storage: sqliteStorage({ path }), pollIntervalMs: 20 });
    await engine.start();
    const events = new EventRecorder(engine);
    const job = await engine.system.submit('add', { a: 1, b: 2 });
    await events.next('job:status', (e) => e.jobId === job.id && e.to === 'completed');
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeGreaterThan(before); // the check can see engine timers
    await engine.stop();
    // Timers of earlier tests may expire meanwhile, so fewer is fine; one more would be a leak.
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(before);
  });

  it('a throwing listener is reported as engine:error and never breaks the engine', async () => {
    const clock = new FakeClock();
    const engine = await engineOn(':memory:', clock, { jobTypes: [add] });
    const errors: unknown[] = [];
    engine.on('engine:error', (e) => errors.push(e.error));
    engine.on('job:status', () => {
      throw new Error('listener bug');
    });
    const events = new EventRecorder(engine);
    const job = await engine.system.submit('add', { a: 1, b: 1 });
    await drain(engine);
    await events.next('job:status', (e) => e.jobId === job.id && e.to === 'completed');
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect((errors[0] as Error).message).toBe('listener bug');
    expect((await engine.system.get(job.id)).status).toBe('completed');
  });
});
