/**
 * Conformance checks: fencing of a running attempt's writes (`recordProgress`, `saveCheckpoint`, `settleJobs`, `renewLeases`).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { T0, LEASE_MS, completedOutcome, failedOutcome } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of fencing of a running attempt's writes (`recordProgress`, `saveCheckpoint`, `settleJobs`, `renewLeases`). */
export function fencingChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, add, claimOne, settle, get } = s;
  describe('fencing', () => {
    must('A write whose job is no longer `running` with that attempt is refused (`lease_lost`) and changes nothing.', () => {
      it('writes of a stale attempt are lease_lost and change nothing', async () => {
        const j = await add();
        const c1 = await claimOne();
        await settle(j.id, c1.attempt, failedOutcome(T0 + 100), T0 + 10);
        const c2 = await claimOne(T0 + 100);
        expect(c2.attempt).toBe(c1.attempt + 1);
        const before = await get(j.id);
        const historyBefore = await store.listHistory({ jobId: j.id });
        const cursor = (await store.readEvents({ after: null, limit: 10 })).cursor;

        expect(await store.recordProgress({ jobId: j.id, attempt: c1.attempt, progress: 99, message: 'late', now: T0 + 200 })).toEqual({ kind: 'lease_lost' });
        expect(await store.saveCheckpoint({ jobId: j.id, attempt: c1.attempt, checkpointJson: '{"page":9}', now: T0 + 200 })).toEqual({ kind: 'lease_lost' });
        expect(await settle(j.id, c1.attempt, completedOutcome('late'), T0 + 200)).toEqual({ kind: 'lease_lost' });
        const renew = await store.renewLeases({ workerId: 'w1', leases: [{ jobId: j.id, attempt: c1.attempt }], now: T0 + 200, leaseMs: LEASE_MS });
        expect(renew).toEqual({ renewed: [], canceled: [], lost: [j.id] });

        expect(await get(j.id)).toEqual(before);
        expect(await store.listHistory({ jobId: j.id })).toEqual(historyBefore);
        expect((await store.readEvents({ after: cursor, limit: 10 })).events).toEqual([]);
      });

      it('writes to a job that is not running are lease_lost', async () => {
        const j = await add();
        expect(await store.recordProgress({ jobId: j.id, attempt: 0, progress: 1, message: null, now: T0 })).toEqual({ kind: 'lease_lost' });
        expect(await store.saveCheckpoint({ jobId: j.id, attempt: 0, checkpointJson: '1', now: T0 })).toEqual({ kind: 'lease_lost' });
        expect((await get(j.id)).checkpoint).toBeNull();
      });
    });

    must('`recordProgress` MUST store progress on the job and append a progress event; `saveCheckpoint` MUST store the checkpoint on the job, durable when it resolves. Both fenced.', () => {
      it('progress and checkpoint of the current attempt are stored', async () => {
        const j = await add();
        const c = await claimOne();
        expect(await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 12.5, message: null, now: T0 + 1 })).toEqual({ kind: 'written' });
        expect(await store.saveCheckpoint({ jobId: j.id, attempt: c.attempt, checkpointJson: '{"page":3}', now: T0 + 2 })).toEqual({ kind: 'written' });
        expect(await get(j.id)).toMatchObject({ progress: 12.5, progressMessage: null, checkpoint: { page: 3 }, status: 'running' });
        // The checkpoint survives into the next attempt.
        await settle(j.id, c.attempt, failedOutcome(T0 + 10), T0 + 3);
        const c2 = await claimOne(T0 + 10);
        expect(c2.job.checkpoint).toEqual({ page: 3 });
      });
    });
  });
}
