/**
 * Conformance checks: `pruneJobs`, `pruneProgressEvents` and `deleteJob`.
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { Job } from '../../types.js';
import { T0, completedOutcome, listAll } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of `pruneJobs`, `pruneProgressEvents` and `deleteJob`. */
export function pruneDeleteChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, add, claim, claimOne, settle, statusOf, transitions, jobIn } = s;
  describe('pruneJobs', () => {
    must('Deletes up to `limit` completed/canceled/dead_letter jobs whose `updatedAt` is before `finishedBefore`, with their history, dependency rows and progress events. Never a live job.', () => {
      it('deletes only finished jobs older than the cutoff, with their history, never live ones', async () => {
        const old: Job[] = [];
        for (const s of ['completed', 'canceled', 'dead_letter'] as const) old.push(await jobIn(s));
        const live: Job[] = [];
        for (const s of ['waiting', 'scheduled', 'queued', 'running', 'retrying'] as const) live.push(await jobIn(s));
        const recent = await add({ type: 'fresh' }, T0 + 1_000_000);
        await store.cancelJob({ jobId: recent.id, orgId: null, actorId: 'alice', now: T0 + 1_000_000 });

        expect(await store.pruneJobs({ finishedBefore: T0 + 500_000, limit: 2 })).toBe(2);
        expect(await store.pruneJobs({ finishedBefore: T0 + 500_000, limit: 100 })).toBe(1);
        expect(await store.pruneJobs({ finishedBefore: T0 + 500_000, limit: 100 })).toBe(0);
        for (const j of old) {
          expect(await store.getJob({ id: j.id, orgId: null })).toBeNull();
          expect(await store.listHistory({ jobId: j.id })).toEqual([]);
        }
        expect(await statusOf(recent.id)).toBe('canceled');

        // Even a cutoff far in the future never touches live jobs.
        expect(await store.pruneJobs({ finishedBefore: T0 + 10 ** 12, limit: 100 })).toBe(1);
        for (const j of live) expect(await store.getJob({ id: j.id, orgId: null })).not.toBeNull();
        expect((await store.listJobs(listAll())).items).toHaveLength(live.length + 1); // + the waiting job's parent
      });

      it('a pruned completed parent does not block or break its waiting sibling dependents', async () => {
        const p1 = await add({ type: 'report' });
        const p2 = await add({ type: 'report' });
        const child = await add({ dependsOn: [p1.id, p2.id] });
        const [c1, c2] = await claim({ types: ['report'] });
        await settle(p1.id, c1!.attempt, completedOutcome(), T0 + 1);
        expect(await store.pruneJobs({ finishedBefore: T0 + 2, limit: 10 })).toBe(1);
        await settle(p2.id, c2!.attempt, completedOutcome(), T0 + 3);
        expect(await statusOf(child.id)).toBe('queued');
      });
    });
  });

  describe('pruneProgressEvents', () => {
    must('delete only progress events older than `before`, at most `limit`, oldest first; never a job, its history or its stored progress value.', () => {
      it('trims the oldest progress events only, and leaves the job, its history and its progress alone', async () => {
        const start = await store.readEvents({ after: null, limit: 10 });
        const j = await add();
        const c = await claimOne(T0 + 1);
        for (const [i, at] of [T0 + 10, T0 + 20, T0 + 30, T0 + 40].entries()) {
          await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: (i + 1) * 20, message: null, now: at });
        }
        const historyBefore = await store.listHistory({ jobId: j.id });
        expect(await store.pruneProgressEvents({ before: T0 + 35, limit: 2 })).toBe(2);
        expect(await store.pruneProgressEvents({ before: T0 + 35, limit: 10 })).toBe(1);
        expect(await store.pruneProgressEvents({ before: T0 + 35, limit: 10 })).toBe(0);
        const left = (await store.readEvents({ after: start.cursor, limit: 100 })).events.filter((e) => e.kind === 'progress');
        expect(left.map((e) => (e.kind === 'progress' ? e.event.progress : null))).toEqual([80]);
        const job = await store.getJob({ id: j.id, orgId: null });
        expect(job?.status).toBe('running');
        expect(job?.progress).toBe(80);
        expect(await store.listHistory({ jobId: j.id })).toEqual(historyBefore);
      });
    });
  });

  describe('deleteJob', () => {
    must("in one transaction, check the job's status and, only if it is completed, canceled or dead_letter, delete the job with its history, progress events and dependency rows (as child and as parent), so no trace of it is left in reads or the event tail. A live job is never deleted (`invalid_state`, nothing changed)", () => {
      it('deletes a finished job with its history and events; reads and the event tail show nothing of it', async () => {
        const start = await store.readEvents({ after: null, limit: 100 });
        const keep = await add({ type: 'report' });
        const j = await add({}, T0 + 1);
        const c = await claimOne(T0 + 2, ['email']);
        await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 50, message: 'half', now: T0 + 3 });
        await settle(j.id, c.attempt, completedOutcome(), T0 + 4);
        expect(await store.deleteJob({ jobId: j.id, orgId: null })).toEqual({ kind: 'deleted' });
        expect(await store.getJob({ id: j.id, orgId: null })).toBeNull();
        expect(await store.listHistory({ jobId: j.id })).toEqual([]);
        expect((await store.listJobs(listAll())).items.map((x) => x.id)).toEqual([keep.id]);
        const tail = await store.readEvents({ after: start.cursor, limit: 100 });
        expect(tail.events.filter((e) => e.event.jobId === j.id)).toEqual([]);
        expect(tail.events.filter((e) => e.event.jobId === keep.id)).toHaveLength(1);
        expect(await store.deleteJob({ jobId: j.id, orgId: null })).toEqual({ kind: 'not_found' });
        for (const s of ['canceled', 'dead_letter'] as const) {
          const f = await jobIn(s);
          expect(await store.deleteJob({ jobId: f.id, orgId: null })).toEqual({ kind: 'deleted' });
          expect(await store.getJob({ id: f.id, orgId: null })).toBeNull();
        }
      });

      it('never deletes a live job: invalid_state, nothing changed', async () => {
        for (const s of ['waiting', 'scheduled', 'queued', 'running', 'retrying'] as const) {
          const j = await jobIn(s);
          const before = await transitions(j.id);
          expect(await store.deleteJob({ jobId: j.id, orgId: null })).toEqual({ kind: 'invalid_state', status: s });
          expect(await statusOf(j.id)).toBe(s);
          expect(await transitions(j.id)).toEqual(before);
        }
      });

      it('a deleted completed parent does not block its waiting sibling dependents', async () => {
        const p1 = await add({ type: 'report' });
        const p2 = await add({ type: 'report' });
        const child = await add({ dependsOn: [p1.id, p2.id] });
        const [c1, c2] = await claim({ types: ['report'] });
        await settle(p1.id, c1!.attempt, completedOutcome(), T0 + 1);
        expect(await store.deleteJob({ jobId: p1.id, orgId: null })).toEqual({ kind: 'deleted' });
        await settle(p2.id, c2!.attempt, completedOutcome(), T0 + 3);
        expect(await statusOf(child.id)).toBe('queued');
      });
    });

    must('Restrict to one org; `null` for admins.', () => {
      it('is org-scoped: another org\'s job is not found and stays', async () => {
        const j = await jobIn('completed');
        expect(await store.deleteJob({ jobId: j.id, orgId: 'globex' })).toEqual({ kind: 'not_found' });
        expect(await statusOf(j.id)).toBe('completed');
        expect(await store.deleteJob({ jobId: j.id, orgId: 'acme' })).toEqual({ kind: 'deleted' });
      });
    });
  });
}
