/**
 * Conformance checks: dependencies (`dependsOn` on insert, release and cascade on settle and cancel).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { T0, newJob, completedOutcome, failedOutcome } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of dependencies (`dependsOn` on insert, release and cascade on settle and cancel). */
export function dependencyChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, insert, add, claim, claimOne, settle, get, statusOf, transitions, jobIn } = s;
  describe('dependencies', () => {
    must('Completion releases `waiting` dependents whose parents are now all completed (to `scheduled` if their runAt is later than now, else `queued`); dead_letter cascades cancel to waiting dependents.', () => {
      it('a job whose parent is not completed waits, and is queued when the parent completes', async () => {
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id] });
        expect(child.status).toBe('waiting');
        expect(child.dependsOn).toEqual([parent.id]);
        expect(await claim({ types: ['email'] })).toEqual([]);

        const c = await claimOne(T0, ['report']);
        const r = await settle(parent.id, c.attempt, completedOutcome(), T0 + 100);
        expect(r).toMatchObject({ kind: 'settled', transitions: 2 });
        expect(await statusOf(child.id)).toBe('queued');
        expect(await transitions(child.id)).toEqual(['null>waiting', 'waiting>queued']);
        expect((await claimOne(T0 + 100, ['email'])).job.id).toBe(child.id);
      });

      it('waits for every parent', async () => {
        const p1 = await add({ type: 'report' });
        const p2 = await add({ type: 'report' });
        const child = await add({ dependsOn: [p1.id, p2.id] });
        const [c1, c2] = await claim({ types: ['report'] });
        if (!c1 || !c2) throw new Error('claim failed');
        expect(await settle(c1.job.id, c1.attempt, completedOutcome(), T0 + 1)).toMatchObject({ transitions: 1 });
        expect(await statusOf(child.id)).toBe('waiting');
        expect(await settle(c2.job.id, c2.attempt, completedOutcome(), T0 + 2)).toMatchObject({ transitions: 2 });
        expect(await statusOf(child.id)).toBe('queued');
      });

      it('a released child whose runAt is later becomes scheduled', async () => {
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id], runAt: T0 + 50_000 });
        expect(child.status).toBe('waiting');
        const c = await claimOne(T0, ['report']);
        await settle(parent.id, c.attempt, completedOutcome(), T0 + 100);
        expect(await statusOf(child.id)).toBe('scheduled');
        expect(await transitions(child.id)).toEqual(['null>waiting', 'waiting>scheduled']);
      });

      it('dead_letter of a parent cancels waiting dependents transitively (dependency_failed, by system)', async () => {
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id] });
        const grandchild = await add({ dependsOn: [child.id] });
        const bystander = await add();
        const c = await claimOne(T0, ['report']);
        const r = await settle(parent.id, c.attempt, failedOutcome(null, { type: 'permanent', message: 'bad' }), T0 + 100);
        expect(r).toMatchObject({ kind: 'settled', transitions: 3 });
        for (const id of [child.id, grandchild.id]) {
          const j = await get(id);
          expect(j.status).toBe('canceled');
          expect(j.error?.type).toBe('dependency_failed');
          expect(j.canceledBy).toBe('system');
          expect(j.canceledAt).toEqual(new Date(T0 + 100));
          expect(await transitions(id)).toEqual(['null>waiting', 'waiting>canceled']);
        }
        expect((await get(child.id)).error?.message).toContain(parent.id);
        expect((await get(grandchild.id)).error?.message).toContain(child.id);
        expect(await statusOf(bystander.id)).toBe('queued');
      });
    });

    must('Initial status: `canceled` (error `dependency_failed`) if a parent is canceled or dead_letter; else `waiting` if a parent is not completed; else `scheduled` if `runAt > now`; else `queued`.', () => {
      it('a parent already completed does not make the child wait', async () => {
        const parent = await jobIn('completed');
        expect((await add({ dependsOn: [parent.id] }, T0 + 20)).status).toBe('queued');
        expect((await add({ dependsOn: [parent.id], runAt: T0 + 99_999 }, T0 + 20)).status).toBe('scheduled');
      });

      it('a parent earlier in the same batch counts', async () => {
        const parent = newJob({ type: 'report' });
        const child = newJob({ dependsOn: [parent.id] });
        const out = await insert([parent, child], { atomic: true });
        expect(out.map((o) => (o.kind === 'inserted' ? o.job.status : o.kind))).toEqual(['queued', 'waiting']);
      });

      it('a job submitted after a parent failed is created canceled', async () => {
        const dead = await jobIn('dead_letter');
        const canceled = await jobIn('canceled');
        for (const parent of [dead, canceled]) {
          const j = await add({ dependsOn: [parent.id] }, T0 + 20);
          expect(j.status).toBe('canceled');
          expect(j.error?.type).toBe('dependency_failed');
          expect(await get(j.id)).toEqual(j);
          expect(await transitions(j.id)).toEqual(['null>canceled']);
        }
      });
    });

    must('Cancels a live job (and, transitively, its waiting dependents with `dependency_failed`).', () => {
      it('cancel of a parent cancels waiting dependents transitively', async () => {
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id] });
        const grandchild = await add({ dependsOn: [child.id] });
        const r = await store.cancelJob({ jobId: parent.id, orgId: null, actorId: 'alice', now: T0 + 5 });
        expect(r.kind).toBe('canceled');
        expect(await statusOf(child.id)).toBe('canceled');
        expect(await statusOf(grandchild.id)).toBe('canceled');
        expect((await get(grandchild.id)).error?.type).toBe('dependency_failed');
      });
    });

    must('Parent job ids, deduplicated; every one MUST exist in `orgId`.', () => {
      it('an unknown parent, or one in another org, is parent_not_found and nothing is written', async () => {
        const foreign = await add({ orgId: 'globex', type: 'report' });
        for (const parentId of ['does-not-exist', foreign.id]) {
          const j = newJob({ dependsOn: [parentId] });
          const [o] = await insert([j]);
          expect(o).toEqual({ kind: 'parent_not_found', parentId });
          expect(await store.getJob({ id: j.id, orgId: null })).toBeNull();
          expect(await store.listHistory({ jobId: j.id })).toEqual([]);
        }
        // The foreign parent was not released/affected either.
        expect(await transitions(foreign.id)).toEqual(['null>queued']);
      });
    });
  });
}
