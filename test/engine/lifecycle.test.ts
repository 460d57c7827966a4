import type { AnyJobType } from '../../src/index.js';
import { describe, expect, it } from 'vitest';
import { drain } from '../../src/testing/index.js';
import { add, broken, flaky, gate, setupEngine } from '../helpers/fixtures.js';

function setup<T extends AnyJobType = typeof add | typeof flaky | typeof broken>(extra: Parameters<typeof setupEngine<T>>[0] = { jobTypes: [add, flaky, broken] as never }) {
  return setupEngine<T>(extra);
}

describe('submit → run → completed', () => {
  it('runs a job to completion with its output, progress events and one history entry per transition', async () => {
    const { engine, events } = await setup();
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const job = await alice.submit('add', { a: 2, b: 3 });
    expect(job.status).toBe('queued');
    expect(job.orgId).toBe('acme');
    expect(job.ownerId).toBe('alice');
    const done = await events.next('job:status', (e) => e.jobId === job.id && e.to === 'completed');
    expect(done.attempt).toBe(1);
    const got = await alice.get(job.id);
    expect(got.status).toBe('completed');
    expect(got.output).toEqual({ sum: 5 });
    expect(got.progress).toBe(50);
    expect(got.progressMessage).toBe('halfway');
    expect(got.startedAt).toBeInstanceOf(Date);
    expect(got.completedAt).toBeInstanceOf(Date);
    const progress = await events.next('job:progress', (e) => e.jobId === job.id);
    expect(progress).toMatchObject({ progress: 50, message: 'halfway', orgId: 'acme', type: 'add' });
    const history = await alice.history(job.id);
    expect(history.map((h) => `${h.from}→${h.to}`)).toEqual(['null→queued', 'queued→running', 'running→completed']);
    expect(history[0]!.actorId).toBe('alice');
    expect(events.transitionsOf(job.id)).toEqual(['null→queued', 'queued→running', 'running→completed']);
  });

  it('claims higher priority first, then earlier runAt, then submission order', async () => {
    const g = gate();
    const { engine, clock } = await setup({ jobTypes: [g.type], concurrency: 1, worker: true });
    // Hold the only slot so the others queue up.
    const blocker = await engine.system.submit('gated', { key: 'block' });
    const first = await g.nextStart();
    expect(first).toBe(blocker.id);
    const low = await engine.system.submit('gated', { key: 'low' }, { priority: 'low' });
    const normal1 = await engine.system.submit('gated', { key: 'n1' });
    const critical = await engine.system.submit('gated', { key: 'c' }, { priority: 'critical' });
    const normal2 = await engine.system.submit('gated', { key: 'n2' });
    const high = await engine.system.submit('gated', { key: 'h' }, { priority: 'high' });
    const early = await engine.system.submit('gated', { key: 'early' }, { runAt: new Date(clock.now() - 60_000) });
    const order: string[] = [];
    let current = blocker.id;
    for (let i = 0; i < 6; i++) {
      const next = g.nextStart();
      g.release(current);
      current = await next;
      order.push(current);
    }
    g.release(current);
    expect(order).toEqual([critical.id, high.id, early.id, normal1.id, normal2.id, low.id]);
  });

  it('keeps a delayed job scheduled until its runAt, then runs it', async () => {
    const { engine, clock } = await setup();
    const job = await engine.system.submit('add', { a: 1, b: 1 }, { delayMs: 60_000 });
    expect(job.status).toBe('scheduled');
    await drain(engine);
    expect((await engine.system.get(job.id)).status).toBe('scheduled');
    await clock.advance(60_000);
    await drain(engine);
    const done = await engine.system.get(job.id);
    expect(done.status).toBe('completed');
    const history = await engine.system.history(job.id);
    expect(history.map((h) => h.to)).toEqual(['scheduled', 'queued', 'running', 'completed']);
  });

  it('a permanent error dead-letters at once', async () => {
    const { engine } = await setup();
    const job = await engine.system.submit('broken', {});
    await drain(engine);
    const got = await engine.system.get(job.id);
    expect(got.status).toBe('dead_letter');
    expect(got.error).toMatchObject({ type: 'permanent', message: 'cannot ever work', name: 'PermanentError' });
    expect(got.retryCount).toBe(0);
  });
});
