/**
 * Conformance checks: atomicity of every write. A write that is refused, or that fails part-way
 * (one job of an atomic batch rejected), leaves no change: no row, no history entry, no event.
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { Job } from '../../types.js';
import type { StorageAdapter } from '../../storage/adapter.js';
import { failedOutcome, listAll, newJob, T0 } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Everything a write could change, to compare before and after it. */
async function snapshot(store: StorageAdapter, cursor: string): Promise<{ jobs: Job[]; history: Record<string, string[]>; events: unknown[] }> {
  const jobs = (await store.listJobs(listAll({ limit: 500 }))).items;
  const history: Record<string, string[]> = {};
  for (const j of jobs) history[j.id] = (await store.listHistory({ jobId: j.id })).map((h) => `${h.from ?? 'null'}>${h.to}@${h.attempt}`);
  return { jobs, history, events: (await store.readEvents({ after: cursor, limit: 500 })).events };
}

/** Registers the checks of atomicity of every write. */
export function atomicityChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, insert, add, claimOne, settle, jobIn } = s;

  describe('atomic writes', () => {
    must('Each method is atomic: it commits entirely or not at all.', () => {
      it('an atomic insert whose job 2 of 3 is a duplicate writes no job, no history entry and no event', async () => {
        const existing = await add({ dedupHash: 'dup', dedupWindowMs: 60_000 });
        const { cursor } = await store.readEvents({ after: null, limit: 1 });
        const before = await snapshot(store, cursor);
        const a = newJob({ type: 'report' });
        const b = newJob({ dedupHash: 'dup', dedupWindowMs: 60_000 });
        const c = newJob({ dependsOn: [a.id, existing.id] });
        const out = await insert([a, b, c], { atomic: true, now: T0 + 1 });
        expect(out).toEqual([{ kind: 'not_written' }, { kind: 'duplicate', existingJobId: existing.id }, { kind: 'not_written' }]);
        for (const j of [a, b, c]) {
          expect(await store.getJob({ id: j.id, orgId: null })).toBeNull();
          expect(await store.listHistory({ jobId: j.id })).toEqual([]);
        }
        expect(await snapshot(store, cursor)).toEqual(before);
      });

      it('an atomic insert whose job 2 of 3 names a missing parent writes no job, no history entry and no event', async () => {
        const parent = await add({ type: 'report' });
        const { cursor } = await store.readEvents({ after: null, limit: 1 });
        const before = await snapshot(store, cursor);
        const a = newJob();
        const b = newJob({ dependsOn: ['no-such-job'] });
        const c = newJob({ dependsOn: [parent.id, a.id] });
        const out = await insert([a, b, c], { atomic: true, now: T0 + 1 });
        expect(out).toEqual([{ kind: 'not_written' }, { kind: 'parent_not_found', parentId: 'no-such-job' }, { kind: 'not_written' }]);
        for (const j of [a, b, c]) {
          expect(await store.getJob({ id: j.id, orgId: null })).toBeNull();
          expect(await store.listHistory({ jobId: j.id })).toEqual([]);
        }
        expect(await snapshot(store, cursor)).toEqual(before);
      });

      it('a refused cancel, retry, delete or stale settle changes no job, writes no history entry and no event', async () => {
        const done = await jobIn('completed');
        const queued = await jobIn('queued');
        const running = await jobIn('running');
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id] });
        const cp = await claimOne(T0, ['report']);
        await settle(parent.id, cp.attempt, failedOutcome(null), T0 + 20);
        const { cursor } = await store.readEvents({ after: null, limit: 1 });
        const before = await snapshot(store, cursor);

        expect(await store.cancelJob({ jobId: done.id, orgId: null, actorId: 'root', now: T0 + 30 })).toEqual({ kind: 'invalid_state', status: 'completed' });
        expect(await store.cancelJob({ jobId: queued.id, orgId: 'globex', actorId: 'mallory', now: T0 + 30 })).toEqual({ kind: 'not_found' });
        expect(await store.retryJob({ jobId: queued.id, orgId: null, actorId: 'root', now: T0 + 30 })).toEqual({ kind: 'invalid_state', status: 'queued' });
        expect(await store.retryJob({ jobId: child.id, orgId: null, actorId: 'root', now: T0 + 30 })).toEqual({ kind: 'parent_failed', parentId: parent.id });
        expect(await store.deleteJob({ jobId: running.id, orgId: null })).toEqual({ kind: 'invalid_state', status: 'running' });
        expect(await settle(done.id, 1, failedOutcome(null), T0 + 30)).toEqual({ kind: 'lease_lost' });
        expect(await store.renewLeases({ workerId: 'w1', leases: [{ jobId: done.id, attempt: 1 }], now: T0 + 30, leaseMs: 1000 })).toEqual({
          renewed: [],
          canceled: [],
          lost: [done.id],
        });

        expect(await snapshot(store, cursor)).toEqual(before);
      });
    });
  });
}
