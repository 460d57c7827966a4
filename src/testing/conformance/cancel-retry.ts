/**
 * Conformance checks: `cancelJob` and `retryJob`.
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { T0, completedOutcome, failedOutcome } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of `cancelJob` and `retryJob`. */
export function cancelRetryChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, add, claim, claimOne, settle, get, statusOf, transitions, jobIn } = s;
  describe('cancelJob', () => {
    must('`cancelJob` MUST cancel a live job (waiting, scheduled, queued, retrying or running) with one history entry, and refuse a finished one (`invalid_state`, nothing changed).', () => {
      it.each(['waiting', 'scheduled', 'queued', 'retrying', 'running'] as const)('cancels a %s job', async (status) => {
        const j = await jobIn(status);
        const r = await store.cancelJob({ jobId: j.id, orgId: 'acme', actorId: 'bob', now: T0 + 500 });
        expect(r.kind).toBe('canceled');
        if (r.kind !== 'canceled') return;
        expect(r.job).toMatchObject({ status: 'canceled', canceledAt: new Date(T0 + 500), canceledBy: 'bob' });
        expect(await get(j.id)).toEqual(r.job);
        const h = (await store.listHistory({ jobId: j.id })).at(-1);
        expect(h).toMatchObject({ from: status, to: 'canceled', actorId: 'bob', at: new Date(T0 + 500) });
        expect(await claim({ now: T0 + 3_600_000, types: [j.type] })).toEqual([]);
      });

      it.each(['completed', 'canceled', 'dead_letter'] as const)('refuses a %s job as invalid_state', async (status) => {
        const j = await jobIn(status);
        const before = await get(j.id);
        expect(await store.cancelJob({ jobId: j.id, orgId: null, actorId: 'bob', now: T0 + 500 })).toEqual({ kind: 'invalid_state', status });
        expect(await get(j.id)).toEqual(before);
      });
    });

    must('Restrict to one org; `null` for admins.', () => {
      it('is org-scoped: another org’s job is not_found and unchanged; an admin (orgId null) may cancel it', async () => {
        const j = await add({ orgId: 'globex' });
        expect(await store.cancelJob({ jobId: j.id, orgId: 'acme', actorId: 'mallory', now: T0 + 1 })).toEqual({ kind: 'not_found' });
        expect(await get(j.id)).toEqual(j);
        expect(await transitions(j.id)).toEqual(['null>queued']);
        expect(await store.cancelJob({ jobId: 'nope', orgId: null, actorId: 'root', now: T0 + 1 })).toEqual({ kind: 'not_found' });
        expect((await store.cancelJob({ jobId: j.id, orgId: null, actorId: 'root', now: T0 + 2 })).kind).toBe('canceled');
      });
    });
  });

  describe('retryJob', () => {
    must('Result of an admin retry: `dead_letter|canceled → queued` (or `waiting` while a parent is not completed), retryCount 0, error/nextRetryAt/canceledAt/canceledBy/completedAt cleared. `parent_failed`: a parent is canceled/dead_letter, retry the parent first.', () => {
      it('requeues a dead_letter job with counters and finish fields reset', async () => {
        const j = await add({ type: 'solo' });
        const c1 = await claimOne(T0, ['solo']);
        await settle(j.id, c1.attempt, failedOutcome(T0 + 10), T0 + 1);
        const c2 = await claimOne(T0 + 10, ['solo']);
        await settle(j.id, c2.attempt, failedOutcome(null), T0 + 11);
        const r = await store.retryJob({ jobId: j.id, orgId: null, actorId: 'root', now: T0 + 100 });
        expect(r.kind).toBe('requeued');
        if (r.kind !== 'requeued') return;
        expect(r.job).toMatchObject({ status: 'queued', retryCount: 0, error: null, nextRetryAt: null, completedAt: null, canceledAt: null, canceledBy: null });
        expect(await get(j.id)).toEqual(r.job);
        expect((await store.listHistory({ jobId: j.id })).at(-1)).toMatchObject({ from: 'dead_letter', to: 'queued', actorId: 'root' });
        const c3 = await claimOne(T0 + 100, ['solo']);
        expect(c3.attempt).toBe(3);
      });

      it('requeues a canceled job', async () => {
        const j = await jobIn('canceled');
        const r = await store.retryJob({ jobId: j.id, orgId: 'acme', actorId: 'root', now: T0 + 100 });
        expect(r.kind === 'requeued' && r.job).toMatchObject({ status: 'queued', canceledAt: null, canceledBy: null });
      });

      it.each(['queued', 'running', 'completed', 'waiting'] as const)('refuses a %s job as invalid_state', async (status) => {
        const j = await jobIn(status);
        expect(await store.retryJob({ jobId: j.id, orgId: null, actorId: 'root', now: T0 + 100 })).toEqual({ kind: 'invalid_state', status });
      });

      it('parent_failed while a parent is failed; waiting once the parent is retried', async () => {
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id] });
        const c = await claimOne(T0, ['report']);
        await settle(parent.id, c.attempt, failedOutcome(null), T0 + 1);
        expect(await statusOf(child.id)).toBe('canceled');
        expect(await store.retryJob({ jobId: child.id, orgId: null, actorId: 'root', now: T0 + 2 })).toEqual({ kind: 'parent_failed', parentId: parent.id });
        expect(await statusOf(child.id)).toBe('canceled');
        expect((await store.retryJob({ jobId: parent.id, orgId: null, actorId: 'root', now: T0 + 3 })).kind).toBe('requeued');
        const r = await store.retryJob({ jobId: child.id, orgId: null, actorId: 'root', now: T0 + 4 });
        expect(r.kind === 'requeued' && r.job.status).toBe('waiting');
        const c2 = await claimOne(T0 + 5, ['report']);
        await settle(parent.id, c2.attempt, completedOutcome(), T0 + 6);
        expect(await statusOf(child.id)).toBe('queued');
      });
    });

    must('Restrict to one org; `null` for admins.', () => {
      it('is not_found for unknown ids and other orgs', async () => {
        const j = await jobIn('dead_letter', { orgId: 'globex' });
        expect(await store.retryJob({ jobId: 'nope', orgId: null, actorId: 'root', now: T0 })).toEqual({ kind: 'not_found' });
        expect(await store.retryJob({ jobId: j.id, orgId: 'acme', actorId: 'root', now: T0 })).toEqual({ kind: 'not_found' });
        expect(await statusOf(j.id)).toBe('dead_letter');
      });
    });
  });
}
