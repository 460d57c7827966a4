import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, DuplicateJobError, JobNotFoundError } from '../../src/index.js';
import { drain } from '../../src/testing/index.js';
import { add, broken, setupEngine } from '../helpers/fixtures.js';

const setup = setupEngine;

const deduped = defineJobType({
  name: 'deduped',
  input: z.object({ n: z.number(), tags: z.array(z.string()).optional() }),
  dedupWindowMs: 60_000,
  async handler() {
    return null;
  },
});

describe('dependencies', () => {
  it('a child waits for every parent, then runs', async () => {
    const { engine } = await setup({ jobTypes: [add], worker: false });
    const s = engine.system;
    const p1 = await s.submit('add', { a: 1, b: 1 }, { delayMs: 1000 });
    const p2 = await s.submit('add', { a: 2, b: 2 }, { delayMs: 2000 });
    const child = await s.submit('add', { a: 3, b: 3 }, { dependsOn: [p1.id, p2.id, p1.id] });
    expect(child.status).toBe('waiting');
    expect(child.dependsOn.sort()).toEqual([p1.id, p2.id].sort());
    expect((await s.get(child.id)).status).toBe('waiting');
  });

  it('releases children when parents complete and cascades cancel when one fails', async () => {
    const { engine, events } = await setup({ jobTypes: [add, broken] });
    const s = engine.system;
    const parent = await s.submit('add', { a: 1, b: 1 }, { delayMs: 1000 });
    const child = await s.submit('add', { a: 2, b: 2 }, { dependsOn: [parent.id] });
    const grandchild = await s.submit('add', { a: 3, b: 3 }, { dependsOn: [child.id] });
    expect([child.status, grandchild.status]).toEqual(['waiting', 'waiting']);
    await drain(engine, { advanceClock: true });
    for (const j of [parent, child, grandchild]) expect((await s.get(j.id)).status).toBe('completed');
    expect(events.transitionsOf(child.id)).toEqual(['null→waiting', 'waiting→queued', 'queued→running', 'running→completed']);

    const bad = await s.submit('broken', {});
    const doomed = await s.submit('add', { a: 4, b: 4 }, { dependsOn: [bad.id] });
    const doomed2 = await s.submit('add', { a: 5, b: 5 }, { dependsOn: [doomed.id] });
    await drain(engine, { advanceClock: true });
    for (const j of [doomed, doomed2]) {
      const got = await s.get(j.id);
      expect(got.status).toBe('canceled');
      expect(got.error?.type).toBe('dependency_failed');
    }
    const late = await s.submit('add', { a: 6, b: 6 }, { dependsOn: [bad.id] });
    expect(late.status).toBe('canceled');
    expect(late.error?.type).toBe('dependency_failed');
  });

  it('a child whose runAt is later than its parent\'s completion becomes scheduled', async () => {
    const { engine, clock } = await setup({ jobTypes: [add] });
    const s = engine.system;
    const parent = await s.submit('add', { a: 1, b: 1 });
    const child = await s.submit('add', { a: 2, b: 2 }, { dependsOn: [parent.id], runAt: new Date(clock.now() + 60_000) });
    await drain(engine);
    expect((await s.get(child.id)).status).toBe('scheduled');
    await drain(engine, { advanceClock: true });
    expect((await s.get(child.id)).status).toBe('completed');
  });

  it('an unknown or other-org parent is JobNotFoundError and writes nothing', async () => {
    const { engine } = await setup({ jobTypes: [add], worker: false });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const eve = engine.as({ userId: 'eve', orgId: 'evil' });
    const mine = await alice.submit('add', { a: 1, b: 1 });
    await expect(eve.submit('add', { a: 1, b: 2 }, { dependsOn: [mine.id] })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(alice.submit('add', { a: 1, b: 2 }, { dependsOn: ['missing'] })).rejects.toBeInstanceOf(JobNotFoundError);
    expect((await eve.list()).items).toHaveLength(0);
    expect((await alice.list()).items.map((j) => j.id)).toEqual([mine.id]);
  });
});

describe('dedup', () => {
  it('rejects an identical submit within the window, with the existing id', async () => {
    const { engine } = await setup({ jobTypes: [deduped], worker: false });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const first = await alice.submit('deduped', { n: 1, tags: ['a'] });
    const err = await alice.submit('deduped', { tags: ['a'], n: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateJobError);
    expect((err as DuplicateJobError).existingJobId).toBe(first.id);
    expect((err as DuplicateJobError).code).toBe('DUPLICATE');
    const other = await alice.submit('deduped', { n: 2 });
    expect(other.dedupHash).not.toBe(first.dedupHash);
  });

  it('allows the same input in another org, after the window, and after cancel', async () => {
    const { engine, clock } = await setup({ jobTypes: [deduped], worker: false });
    const alice = engine.as({ userId: 'alice', orgId: 'acme' });
    const bob = engine.as({ userId: 'bob', orgId: 'beta' });
    const first = await alice.submit('deduped', { n: 1 });
    const inOtherOrg = await bob.submit('deduped', { n: 1 });
    expect(inOtherOrg.dedupHash).not.toBe(first.dedupHash);
    await clock.advance(60_001);
    const afterWindow = await alice.submit('deduped', { n: 1 });
    await alice.cancel(afterWindow.id);
    const afterCancel = await alice.submit('deduped', { n: 1 });
    expect(afterCancel.id).not.toBe(afterWindow.id);
  });

  it('dedupKey replaces the computed hash; dedupWindowMs 0 turns dedup off', async () => {
    const { engine } = await setup({ jobTypes: [deduped, add], worker: false });
    const s = engine.system;
    await s.submit('deduped', { n: 1 }, { dedupKey: 'k' });
    await expect(s.submit('deduped', { n: 2 }, { dedupKey: 'k' })).rejects.toBeInstanceOf(DuplicateJobError);
    await s.submit('add', { a: 1, b: 1 });
    const again = await s.submit('add', { a: 1, b: 1 });
    expect(again.dedupHash).toBeNull();
  });

  it('N simultaneous identical submits create exactly one job', async () => {
    const { engine } = await setup({ jobTypes: [deduped], worker: false });
    const s = engine.system;
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => s.submit('deduped', { n: 7 })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const id = (ok[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateJobError);
      expect(((r as PromiseRejectedResult).reason as DuplicateJobError).existingJobId).toBe(id);
    }
    expect((await s.list({ type: 'deduped' })).items).toHaveLength(1);
  });
});
