/**
 * Conformance checks: leases (`renewLeases`, `findExpiredLeases`, the rescuer's `onlyIfLeaseExpired` settle).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { JobError } from '../../types.js';
import type { SettleOutcome } from '../../storage/adapter.js';
import { T0, LEASE_MS, completedOutcome, failedOutcome } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of leases (`renewLeases`, `findExpiredLeases`, the rescuer's `onlyIfLeaseExpired` settle). */
export function leaseChecks(s: ConformanceSuite): void {
  const dbClockReason = 'databaseClock stores judge lease expiry by the database clock, not `now`';
  const { describe, must, it, store, add, claim, claimOne, settle, get, statusOf, peer } = s;
  describe('renewLeases', () => {
    must('Result of a heartbeat: each lease is renewed, canceled (abort the handler), or lost.', () => {
      it('renewLeases reports renewed, canceled and lost', async () => {
        const a = await add();
        const b = await add();
        const [ca, cb] = await claim();
        if (!ca || !cb) throw new Error('claim');
        await store.cancelJob({ jobId: b.id, orgId: null, actorId: 'alice', now: T0 + 1 });
        const res = await store.renewLeases({
          workerId: 'w1',
          leases: [
            { jobId: a.id, attempt: ca.attempt },
            { jobId: b.id, attempt: cb.attempt },
            { jobId: 'ghost', attempt: 1 },
          ],
          now: T0 + 10,
          leaseMs: LEASE_MS,
        });
        expect(res).toEqual({ renewed: [a.id], canceled: [b.id], lost: ['ghost'] });
        // A canceled running job stays canceled: its worker's late settle is refused.
        expect(await settle(b.id, cb.attempt, completedOutcome(), T0 + 20)).toEqual({ kind: 'lease_lost' });
        expect(await statusOf(b.id)).toBe('canceled');
      });

      it('a job canceled after its attempt ended is lost, not canceled, to that attempt', async () => {
        const j = await add();
        const c = await claimOne();
        await settle(j.id, c.attempt, failedOutcome(T0 + 100), T0 + 1);
        await store.cancelJob({ jobId: j.id, orgId: null, actorId: 'alice', now: T0 + 2 });
        const res = await store.renewLeases({ workerId: 'w1', leases: [{ jobId: j.id, attempt: c.attempt }], now: T0 + 3, leaseMs: LEASE_MS });
        expect(res).toEqual({ renewed: [], canceled: [], lost: [j.id] });
      });
    });
  });

  describe('findExpiredLeases', () => {
    must('Running attempts whose lease expired before `now` (or the DB clock), oldest first.', () => {
      it.skipIf((caps) => caps.databaseClock, dbClockReason)('findExpiredLeases returns expired running attempts, oldest first', async () => {
        const a = await add();
        const b = await add();
        const c = await add();
        const ca = await claimOne(T0);
        const cb = await claimOne(T0 + 10);
        const cc = await claimOne(T0 + 20);
        await store.renewLeases({ workerId: 'w1', leases: [{ jobId: a.id, attempt: ca.attempt }], now: T0 + 30, leaseMs: LEASE_MS });
        expect(cb.job.id).toBe(b.id);
        expect(await store.findExpiredLeases({ now: T0 + 10 + LEASE_MS, limit: 10 })).toEqual([]);
        const found = await store.findExpiredLeases({ now: T0 + 20 + LEASE_MS + 1, limit: 10 });
        expect(found.map((f) => [f.job.id, f.attempt])).toEqual([
          [b.id, cb.attempt],
          [c.id, cc.attempt],
        ]);
        expect(found[0]?.job.status).toBe('running');
        expect(await store.findExpiredLeases({ now: T0 + 10 * LEASE_MS, limit: 2 })).toHaveLength(2);
        expect((await store.findExpiredLeases({ now: T0 + 10 * LEASE_MS, limit: 10 })).map((f) => f.job.id)).toEqual([b.id, c.id, a.id]);
      });
    });
  });

  describe('rescue (settleJobs with onlyIfLeaseExpired)', () => {
    must('Rescuer only: settle only if the lease has expired (judged at `now` or by the DB clock).', () => {
      it.skipIf((caps) => caps.databaseClock, dbClockReason)('onlyIfLeaseExpired refuses while the lease is valid', async () => {
        const j = await add();
        const c = await claimOne(T0);
        const lost: JobError = { type: 'worker_lost', message: 'lease expired' };
        expect(await settle(j.id, c.attempt, failedOutcome(T0 + LEASE_MS + 100, lost), T0 + LEASE_MS - 1, { onlyIfLeaseExpired: true })).toEqual({
          kind: 'lease_lost',
        });
        expect(await statusOf(j.id)).toBe('running');
        const r = await settle(j.id, c.attempt, failedOutcome(T0 + LEASE_MS + 100, lost), T0 + LEASE_MS + 1, { onlyIfLeaseExpired: true, actorId: 'system' });
        expect(r.kind === 'settled' && r.job.status).toBe('retrying');
        expect((await get(j.id)).error).toEqual(lost);
      });

      it('R8: rescuer and worker settling one attempt yield exactly one terminal transition', async () => {
        const other = await peer();
        for (const order of ['worker-first', 'rescuer-first', 'same-batch'] as const) {
          const j = await add({ type: 'report' });
          const c = await claimOne(T0, ['report']);
          const late = T0 + LEASE_MS + 1_000;
          const worker = { jobId: j.id, attempt: c.attempt, outcome: completedOutcome(), actorId: 'engine:w1' };
          const rescuer = {
            jobId: j.id,
            attempt: c.attempt,
            outcome: failedOutcome(null, { type: 'worker_lost', message: 'lease expired' }),
            actorId: 'system',
            onlyIfLeaseExpired: true,
          };
          let results: SettleOutcome[];
          if (order === 'same-batch') {
            results = await store.settleJobs({ settles: [rescuer, worker], now: late });
          } else {
            const first = order === 'worker-first' ? worker : rescuer;
            const second = order === 'worker-first' ? rescuer : worker;
            const [r1, r2] = await Promise.all([
              store.settleJobs({ settles: [first], now: late }),
              (other ?? store).settleJobs({ settles: [second], now: late }),
            ]);
            results = [...r1!, ...r2!];
          }
          expect(results.filter((r) => r.kind === 'settled')).toHaveLength(1);
          expect(results.filter((r) => r.kind === 'lease_lost')).toHaveLength(1);
          const terminal = (await store.listHistory({ jobId: j.id })).filter((h) => h.from === 'running');
          expect(terminal).toHaveLength(1);
          const winner = results.find((r) => r.kind === 'settled');
          expect(winner?.kind === 'settled' && winner.job.status).toBe(await statusOf(j.id));
        }
      });
    });
  });
}
