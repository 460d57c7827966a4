/**
 * Conformance checks: `settleJobs` and the optional `settleAndClaim`.
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { JobError } from '../../types.js';
import { T0, LEASE_MS, PROMOTE_DUE, completedOutcome, failedOutcome, transientError } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of `settleJobs` and the optional `settleAndClaim`. */
export function settleJobsChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, add, claim, claimOne, settle, get, statusOf, transitions } = s;
  describe('settleJobs', () => {
    must('Completed: → `completed` with `output` and `completedAt = now`; the lease is gone.', () => {
      it('completed: output, completedAt, lease gone, progress kept, one history entry', async () => {
        const j = await add();
        const c = await claimOne();
        expect(await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 40, message: 'rendering', now: T0 + 5 })).toEqual({ kind: 'written' });
        const r = await settle(j.id, c.attempt, completedOutcome({ url: 'x' }), T0 + 50, { actorId: 'engine:w9' });
        expect(r.kind).toBe('settled');
        if (r.kind !== 'settled') return;
        expect(r.transitions).toBe(1);
        expect(r.job).toMatchObject({ status: 'completed', output: { url: 'x' }, completedAt: new Date(T0 + 50), progress: 40, progressMessage: 'rendering' });
        expect(await get(j.id)).toEqual(r.job);
        const h = await store.listHistory({ jobId: j.id });
        expect(h.at(-1)).toEqual({ jobId: j.id, at: new Date(T0 + 50), from: 'running', to: 'completed', attempt: 1, actorId: 'engine:w9', message: null, error: null });
        expect((await store.renewLeases({ workerId: 'w1', leases: [{ jobId: j.id, attempt: 1 }], now: T0 + 60, leaseMs: LEASE_MS })).lost).toEqual([j.id]);
      });
    });

    must('Failed. `retryAt` set: → `retrying` (retryCount + 1, nextRetryAt = runAt = retryAt). `retryAt` null: → `dead_letter`, and waiting dependents are canceled (`dependency_failed`).', () => {
      it('failed with retryAt: retrying, retryCount + 1, nextRetryAt = runAt = retryAt, error', async () => {
        const j = await add();
        const c = await claimOne();
        const r = await settle(j.id, c.attempt, failedOutcome(T0 + 9000), T0 + 50);
        expect(r.kind === 'settled' && r.job).toMatchObject({
          status: 'retrying',
          retryCount: 1,
          nextRetryAt: new Date(T0 + 9000),
          runAt: new Date(T0 + 9000),
          error: transientError,
        });
        const h = await store.listHistory({ jobId: j.id });
        expect(h.at(-1)).toMatchObject({ from: 'running', to: 'retrying', attempt: 1, error: transientError });
      });

      it('failed without retryAt: dead_letter with completedAt and error', async () => {
        const j = await add();
        const c = await claimOne();
        const err: JobError = { type: 'permanent', message: 'nope' };
        const r = await settle(j.id, c.attempt, failedOutcome(null, err), T0 + 50);
        expect(r.kind === 'settled' && r.job).toMatchObject({ status: 'dead_letter', completedAt: new Date(T0 + 50), error: err, retryCount: 0 });
        expect(await transitions(j.id)).toEqual(['null>queued', 'queued>running', 'running>dead_letter']);
      });
    });

    must('Handed back (graceful shutdown): `running → queued`, retryCount unchanged.', () => {
      it('released: back to queued, retryCount unchanged, message recorded; next claim is attempt 2', async () => {
        const j = await add();
        const c = await claimOne();
        const r = await settle(j.id, c.attempt, { kind: 'released', message: 'shutdown' }, T0 + 50);
        expect(r.kind === 'settled' && r.job).toMatchObject({ status: 'queued', retryCount: 0 });
        expect((await store.listHistory({ jobId: j.id })).at(-1)).toMatchObject({ from: 'running', to: 'queued', message: 'shutdown', attempt: 1 });
        const c2 = await claimOne(T0 + 60);
        expect(c2.job.id).toBe(j.id);
        expect(c2.attempt).toBe(2);
      });
    });

    must('Ends attempts, one transaction for the batch, each settle fenced on its own.', () => {
      it('settles a batch in request order, each fenced on its own', async () => {
        const a = await add();
        const b = await add();
        const [ca, cb] = await claim();
        if (!ca || !cb) throw new Error('claim');
        const out = await store.settleJobs({
          now: T0 + 5,
          settles: [
            { jobId: a.id, attempt: ca.attempt, outcome: completedOutcome(), actorId: 'engine:w1' },
            { jobId: b.id, attempt: cb.attempt + 1, outcome: completedOutcome(), actorId: 'engine:w1' },
            { jobId: b.id, attempt: cb.attempt, outcome: failedOutcome(null), actorId: 'engine:w1' },
            { jobId: a.id, attempt: ca.attempt, outcome: failedOutcome(null), actorId: 'engine:w1' },
          ],
        });
        expect(out.map((o) => (o.kind === 'settled' ? o.job.status : o.kind))).toEqual(['completed', 'lease_lost', 'dead_letter', 'lease_lost']);
      });

      it('settle of a job that is not running is lease_lost', async () => {
        const j = await add();
        expect(await settle(j.id, 0, completedOutcome(), T0)).toEqual({ kind: 'lease_lost' });
        expect(await settle('no-such-job', 1, completedOutcome(), T0)).toEqual({ kind: 'lease_lost' });
        expect(await statusOf(j.id)).toBe('queued');
      });
    });
  });

  describe('settleJobs: snooze', () => {
    must('`running → scheduled` with `runAt`, always', () => {
        it('snoozed: running → scheduled at runAt, retryCount, checkpoint and progress kept, one history entry', async () => {
          const j = await add({ maxRetries: 1 });
          const c = await claimOne();
          expect(await store.saveCheckpoint({ jobId: j.id, attempt: c.attempt, checkpointJson: '{"page":4}', now: T0 + 10 })).toEqual({ kind: 'written' });
          const r = await settle(j.id, c.attempt, { kind: 'snoozed', runAt: T0 + 5_000, message: 'Retry-After' }, T0 + 50);
          expect(r.kind === 'settled' && r.job).toMatchObject({ status: 'scheduled', runAt: new Date(T0 + 5_000), retryCount: 0, nextRetryAt: null, checkpoint: { page: 4 } });
          expect(await transitions(j.id)).toEqual(['null>queued', 'queued>running', 'running>scheduled']);
          expect((await store.listHistory({ jobId: j.id })).at(-1)).toMatchObject({ from: 'running', to: 'scheduled', attempt: 1, message: 'Retry-After', error: null });
          expect(await store.nextDueAt()).toBe(T0 + 5_000);
          expect(await claim({ now: T0 + 4_999 })).toEqual([]);
          const c2 = await claimOne(T0 + 5_000);
          expect(c2).toMatchObject({ attempt: 2, job: { id: j.id, retryCount: 0, checkpoint: { page: 4 } } });
          // A second settle of the snoozed attempt is fenced off.
          expect((await settle(j.id, c.attempt, { kind: 'snoozed', runAt: T0, message: 'late' }, T0 + 5_001)).kind).toBe('lease_lost');
        });

        it('snoozed with runAt <= now is still scheduled, and settleAndClaim (optional) claims it in the same call', async () => {
          const j = await add();
          const c = await claimOne();
          if (!store.settleAndClaim) {
            const r = await settle(j.id, c.attempt, { kind: 'snoozed', runAt: T0 + 10, message: 'now' }, T0 + 10);
            expect(r.kind === 'settled' && r.job.status).toBe('scheduled');
            expect((await claimOne(T0 + 10)).job.id).toBe(j.id);
            return;
          }
          const out = await store.settleAndClaim({
            settles: [{ jobId: j.id, attempt: c.attempt, outcome: { kind: 'snoozed', runAt: T0 + 10, message: 'now' }, actorId: 'engine:w1' }],
            claim: { workerId: 'w1', types: ['email'], limit: 5, now: T0 + 10, leaseMs: LEASE_MS, promoteDue: PROMOTE_DUE },
          });
          expect(out.settled[0]).toMatchObject({ kind: 'settled', job: { status: 'scheduled' } });
          expect(out.claimed.map((x) => [x.job.id, x.attempt])).toEqual([[j.id, 2]]);
          expect(await transitions(j.id)).toEqual(['null>queued', 'queued>running', 'running>scheduled', 'scheduled>queued', 'queued>running']);
        });
    });
  });

  describe('settleAndClaim', () => {
    must('Same semantics as the two calls.', () => {
      it('settleAndClaim (optional): settles, then claims what is due, with the semantics of the two calls', async ({ skip }) => {
        if (!store.settleAndClaim) return skip('store has no settleAndClaim fast path');
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id] });
        const low = await add({ priority: 'low' });
        const c = await claimOne(T0, ['report']);
        const now = T0 + 100;
        const r = await store.settleAndClaim({
          settles: [
            { jobId: parent.id, attempt: c.attempt, outcome: completedOutcome(), actorId: 'engine:w1' },
            { jobId: low.id, attempt: 1, outcome: completedOutcome(), actorId: 'engine:w1' },
          ],
          claim: { workerId: 'w2', types: ['email'], limit: 5, now, leaseMs: LEASE_MS },
        });
        expect(r.settled.map((s) => (s.kind === 'settled' ? [s.job.status, s.transitions] : s.kind))).toEqual([['completed', 2], 'lease_lost']);
        // The child released by the settle is claimable in the same call, in claim order.
        expect(r.claimed.map((x) => [x.job.id, x.attempt])).toEqual([
          [child.id, 1],
          [low.id, 1],
        ]);
        expect(await transitions(child.id)).toEqual(['null>waiting', 'waiting>queued', 'queued>running']);
        expect((await store.listHistory({ jobId: parent.id })).at(-1)).toMatchObject({ to: 'completed', at: new Date(now) });
      });
    });
  });
}
