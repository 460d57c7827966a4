/**
 * Conformance checks: the optional `insertAndClaim` (a submit and the claim for a free slot
 * in one transaction). Each group's title quotes the MUST of src/storage/adapter.ts that its
 * checks prove. A store without the method skips them.
 */
import { expect } from 'vitest';
import type { ClaimJobsRequest, InsertAndClaimResult, NewJob, StorageAdapter } from '../../storage/adapter.js';
import { LEASE_MS, newJob, PROMOTE_DUE, T0 } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of the optional `insertAndClaim`. */
export function insertAndClaimChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, add, get, statusOf, transitions } = s;
  const claimOf = (o: Partial<ClaimJobsRequest> = {}): ClaimJobsRequest => ({ workerId: 'w1', types: ['email', 'report'], limit: 4, now: T0, leaseMs: LEASE_MS, promoteDue: PROMOTE_DUE, ...o });
  const call = (fast: NonNullable<StorageAdapter['insertAndClaim']>, jobs: NewJob[], claim: Partial<ClaimJobsRequest> = {}, atomic = false): Promise<InsertAndClaimResult> =>
    fast.call(store, { insert: { jobs, actorId: 'alice', now: T0, atomic }, claim: claimOf(claim) });

  describe('insertAndClaim', () => {
    must('a store that offers insertAndClaim gives exactly the semantics of the two calls.', () => {
      it('insertAndClaim (optional): inserts, then claims the new job for the free slot, with truthful history', async ({ skip }) => {
        if (!store.insertAndClaim) return skip('store has no insertAndClaim fast path');
        const nj = newJob({ priority: 'high' });
        const r = await call(store.insertAndClaim, [nj], { now: T0 + 1 });
        expect(r.inserted).toMatchObject([{ kind: 'inserted', job: { id: nj.id, status: 'queued', createdAt: new Date(T0) } }]);
        expect(r.claimed.map((c) => [c.job.id, c.attempt, c.job.status])).toEqual([[nj.id, 1, 'running']]);
        expect(r.claimed[0]!.job.startedAt).toEqual(new Date(T0 + 1));
        expect(await get(nj.id)).toEqual(r.claimed[0]!.job);
        expect(await transitions(nj.id)).toEqual(['null>queued', 'queued>running']);
        const h = await store.listHistory({ jobId: nj.id });
        expect(h.map((e) => [e.actorId, e.attempt])).toEqual([
          ['alice', 0],
          ['engine:w1', 1],
        ]);
      });

      it('insertAndClaim (optional): the claim keeps claim order: an older queued job of equal or higher priority goes first', async ({ skip }) => {
        if (!store.insertAndClaim) return skip('store has no insertAndClaim fast path');
        const older = await add({ priority: 'critical' });
        const nj = newJob({ priority: 'critical' });
        const r = await call(store.insertAndClaim, [nj], { limit: 1 });
        expect(r.claimed.map((c) => c.job.id)).toEqual([older.id]);
        expect(await statusOf(nj.id)).toBe('queued');
        // With room for both, the new critical job goes before an older low one.
        const low = await add({ priority: 'low' });
        const urgent = newJob({ priority: 'critical' });
        const r2 = await call(store.insertAndClaim, [urgent], { limit: 2 });
        expect(r2.claimed.map((c) => c.job.id)).toEqual([nj.id, urgent.id]);
        expect(await statusOf(low.id)).toBe('queued');
      });

      it('insertAndClaim (optional): a job due later, of a type not asked for, or held back by a limit is inserted and not claimed', async ({ skip }) => {
        if (!store.insertAndClaim) return skip('store has no insertAndClaim fast path');
        const later = newJob({ runAt: T0 + 60_000 });
        const other = newJob({ type: 'report' });
        const r = await call(store.insertAndClaim, [later, other], { types: ['email'] });
        expect(r.inserted.map((o) => (o.kind === 'inserted' ? o.job.status : o.kind))).toEqual(['scheduled', 'queued']);
        expect(r.claimed).toEqual([]);
        const paused = newJob();
        const r2 = await call(store.insertAndClaim, [paused], { types: ['email'], limits: [{ type: 'email', paused: true, concurrency: null, concurrencyPerOrg: null }] });
        expect(r2.claimed).toEqual([]);
        expect(await statusOf(paused.id)).toBe('queued');
      });

      it('insertAndClaim (optional): an atomic insert that writes nothing claims nothing', async ({ skip }) => {
        if (!store.insertAndClaim) return skip('store has no insertAndClaim fast path');
        const waiting = await add();
        const a = newJob();
        const r = await call(store.insertAndClaim, [a, newJob({ dependsOn: ['no-such-job'] })], {}, true);
        expect(r.inserted).toEqual([{ kind: 'not_written' }, { kind: 'parent_not_found', parentId: 'no-such-job' }]);
        expect(r.claimed).toEqual([]);
        expect(await store.getJob({ id: a.id, orgId: null })).toBeNull();
        expect(await statusOf(waiting.id)).toBe('queued');
      });
    });
  });
}
