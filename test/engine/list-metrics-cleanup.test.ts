import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/index.js';
import { drain } from '../../src/testing/index.js';
import { add, broken, gate, setupEngine } from '../helpers/fixtures.js';

const setup = setupEngine;

describe('list', () => {
  it('filters by status, type, owner, org and date range, newest first', async () => {
    const { engine, clock } = await setup({ jobTypes: [add, broken], worker: false });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const bob = engine.as({ userId: 'bob', orgId: 'acme' });
    const eve = engine.as({ userId: 'eve', orgId: 'evil' });
    const t0 = clock.now();
    const a1 = await alice.submit('add', { a: 1, b: 1 });
    await clock.advance(1000);
    const b1 = await bob.submit('broken', {}, { delayMs: 5000 });
    await clock.advance(1000);
    const a2 = await alice.submit('add', { a: 2, b: 2 });
    await eve.submit('add', { a: 3, b: 3 });
    await alice.cancel(a2.id);
    const ids = (p: { items: Job[] }) => p.items.map((j) => j.id);
    expect(ids(await alice.list())).toEqual([a2.id, b1.id, a1.id]);
    expect(ids(await alice.list({ status: 'queued' }))).toEqual([a1.id]);
    expect(ids(await alice.list({ status: ['canceled', 'scheduled'] }))).toEqual([a2.id, b1.id]);
    expect(ids(await alice.list({ type: 'broken' }))).toEqual([b1.id]);
    expect(ids(await alice.list({ ownerId: 'bob' }))).toEqual([b1.id]);
    expect(ids(await alice.list({ createdAfter: new Date(t0 + 500), createdBefore: new Date(t0 + 1500) }))).toEqual([b1.id]);
    expect((await engine.system.list()).items).toHaveLength(4);
    expect((await engine.system.list({ orgId: 'evil' })).items).toHaveLength(1);
  });

  it('paginates with a cursor that stays stable while new jobs arrive', async () => {
    const { engine, clock } = await setup({ jobTypes: [add], worker: false });
    const s = engine.system;
    const created: string[] = [];
    for (let i = 0; i < 25; i++) {
      created.push((await s.submit('add', { a: i, b: 0 })).id);
      if (i % 5 === 0) await clock.advance(1);
    }
    const seen: string[] = [];
    let page = await s.list({ limit: 10 });
    seen.push(...page.items.map((j) => j.id));
    await s.submit('add', { a: 100, b: 0 }); // newer than everything: must not shift pages
    while (page.nextCursor) {
      page = await s.list({ limit: 10, cursor: page.nextCursor });
      seen.push(...page.items.map((j) => j.id));
    }
    expect(seen).toEqual([...created].reverse());
  });
});

describe('metrics', () => {
  it('computes counts, queue depth, processing times and failure rates from known data', async () => {
    const durations = [100, 200, 300, 400, 1000];
    const g = gate();
    const { engine, clock } = await setup({ jobTypes: [broken, g.type], concurrency: 1 });
    const s = engine.system;
    for (const d of durations) {
      const job = await s.submit('gated', { key: String(d) });
      await g.nextStart();
      await clock.advance(d);
      g.release(job.id);
      await drain(engine);
    }
    await s.submit('broken', {});
    await drain(engine);
    // Hold the only slot, then queue three more.
    const holder = await s.submit('gated', { key: 'hold' });
    await g.nextStart();
    await s.submit('gated', { key: 'c1' }, { priority: 'critical' });
    await s.submit('gated', { key: 'c2' }, { priority: 'critical' });
    await s.submit('gated', { key: 'l1' }, { priority: 'low' });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    await alice.submit('gated', { key: 'a' }, { delayMs: 60_000 });
    await clock.advance(500);

    const m = await s.metrics();
    expect(m.countsByStatus).toEqual({ waiting: 0, scheduled: 1, queued: 3, running: 1, retrying: 0, completed: 5, canceled: 0, dead_letter: 1 });
    expect(m.queueDepthByPriority).toEqual({ critical: 2, high: 0, normal: 0, low: 1 });
    expect(m.processingTime).toEqual({ count: 5, avgMs: 400, p95Ms: 1000 });
    expect(m.processingTimeByType.gated).toEqual({ count: 5, avgMs: 400, p95Ms: 1000 });
    expect(m.failureRateByType.broken).toEqual({ completed: 0, failed: 1, rate: 1 });
    expect(m.failureRateByType.gated).toEqual({ completed: 5, failed: 0, rate: 0 });
    expect(m.oldestQueuedAgeMs).toBe(500);

    const mine = await alice.metrics();
    expect(mine.countsByStatus.scheduled).toBe(1);
    expect(Object.values(mine.countsByStatus).reduce((a, b) => a + b, 0)).toBe(1);
    expect(mine.processingTime.count).toBe(0);
    expect((await s.metrics({ orgId: 'acme' })).countsByStatus.scheduled).toBe(1);
    // The window: nothing finished in the last 100 ms.
    expect((await s.metrics({ since: new Date(clock.now() - 100) })).processingTime.count).toBe(0);
    g.release(holder.id);
  });
});

describe('cleanup (retention)', () => {
  it('deletes finished jobs older than the cutoff with their history, never live jobs', async () => {
    const { engine, clock } = await setup({ jobTypes: [add, broken] });
    const s = engine.system;
    const done = await s.submit('add', { a: 1, b: 1 });
    const dead = await s.submit('broken', {});
    const canceled = await s.submit('add', { a: 2, b: 2 }, { delayMs: 1_000_000 });
    await s.cancel(canceled.id);
    await drain(engine);
    await clock.advance(10_000);
    const recent = await s.submit('add', { a: 3, b: 3 });
    await drain(engine);
    const liveOld = await s.submit('add', { a: 4, b: 4 }, { delayMs: 1_000_000 });
    await clock.advance(10_000);
    expect(await s.cleanup({ olderThanMs: 15_000 })).toBe(3);
    for (const j of [done, dead, canceled]) await expect(s.get(j.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await s.get(recent.id)).status).toBe('completed');
    expect((await s.get(liveOld.id)).status).toBe('scheduled');
    expect(await s.cleanup({ olderThanMs: 0 })).toBe(1);
    expect((await s.get(liveOld.id)).status).toBe('scheduled');
    expect((await s.history(liveOld.id)).length).toBe(1);
  });
});
