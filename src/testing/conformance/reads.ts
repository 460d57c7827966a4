/**
 * Conformance checks: reads (`listHistory`, `listJobs`).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { Job } from '../../types.js';
import { T0, newJob, completedOutcome, failedOutcome, transientError, listAll } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of reads (`listHistory`, `listJobs`). */
export function readChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, insert, add, claimOne, settle } = s;
  describe('listHistory', () => {
    must("Every write that changes a job's status appends exactly one history entry per transition, in the same transaction as the change.", () => {
      it('records one entry per transition, in order, with attempts', async () => {
        const j = await add();
        const c1 = await claimOne(T0 + 1);
        await settle(j.id, c1.attempt, failedOutcome(T0 + 10), T0 + 2);
        const c2 = await claimOne(T0 + 10);
        await settle(j.id, c2.attempt, completedOutcome(), T0 + 11);
        const h = await store.listHistory({ jobId: j.id });
        expect(h.map((e) => [e.from, e.to, e.attempt, e.at.getTime() - T0])).toEqual([
          [null, 'queued', 0, 0],
          ['queued', 'running', 1, 1],
          ['running', 'retrying', 1, 2],
          ['retrying', 'queued', 1, 10],
          ['queued', 'running', 2, 10],
          ['running', 'completed', 2, 11],
        ]);
        expect(h[2]?.error).toEqual(transientError);
      });
    });

    must('Every transition of a job, oldest first.', () => {
      it('is empty for an unknown job', async () => {
        expect(await store.listHistory({ jobId: 'nope' })).toEqual([]);
      });
    });
  });

  describe('listJobs', () => {
    async function seed(): Promise<Record<string, Job>> {
      return {
        a: await add({ type: 'email', ownerId: 'alice' }, T0 + 1),
        b: await add({ type: 'report', ownerId: 'bob' }, T0 + 2),
        c: await add({ type: 'email', ownerId: 'bob', runAt: T0 + 99_999 }, T0 + 3),
        d: await add({ type: 'email', ownerId: 'alice', orgId: 'globex' }, T0 + 4),
        e: await add({ type: 'report', ownerId: 'alice' }, T0 + 5),
      };
    }

    const ids = (page: { items: Job[] }) => page.items.map((j) => j.id);

    must('Filters of {@link StorageAdapter.listJobs}; `orgId: null` means every org.', () => {
      it('returns newest first across orgs for orgId null, one org otherwise', async () => {
        const s = await seed();
        expect(ids(await store.listJobs(listAll()))).toEqual([s.e, s.d, s.c, s.b, s.a].map((j) => j!.id));
        expect(ids(await store.listJobs(listAll({ orgId: 'acme' })))).toEqual([s.e, s.c, s.b, s.a].map((j) => j!.id));
        expect(ids(await store.listJobs(listAll({ orgId: 'globex' })))).toEqual([s.d!.id]);
      });

      it('filters by statuses, types, owner and a half-open created range', async () => {
        const s = await seed();
        expect(ids(await store.listJobs(listAll({ statuses: ['scheduled'] })))).toEqual([s.c!.id]);
        expect(ids(await store.listJobs(listAll({ statuses: ['scheduled', 'queued'], orgId: 'acme' })))).toEqual([s.e, s.c, s.b, s.a].map((j) => j!.id));
        expect(ids(await store.listJobs(listAll({ statuses: ['completed'] })))).toEqual([]);
        expect(ids(await store.listJobs(listAll({ types: ['report'] })))).toEqual([s.e, s.b].map((j) => j!.id));
        expect(ids(await store.listJobs(listAll({ types: ['report', 'email'], ownerId: 'bob' })))).toEqual([s.c, s.b].map((j) => j!.id));
        expect(ids(await store.listJobs(listAll({ createdAfter: T0 + 2, createdBefore: T0 + 4 })))).toEqual([s.c, s.b].map((j) => j!.id));
        expect(ids(await store.listJobs(listAll({ ownerId: 'alice', orgId: 'acme', types: ['email'], statuses: ['queued'] })))).toEqual([s.a!.id]);
      });
    });

    must('Order: createdAt desc, then seq desc.', () => {
      it('orders jobs created at the same instant by submission order, newest first', async () => {
        const out = await insert([newJob(), newJob(), newJob()], { now: T0 });
        const inserted = out.map((o) => (o.kind === 'inserted' ? o.job.id : ''));
        expect(ids(await store.listJobs(listAll()))).toEqual([...inserted].reverse());
      });
    });

    must('Opaque cursor returned by a previous call.', () => {
      it('paginates with a cursor that stays stable while jobs are inserted', async () => {
        const all: string[] = [];
        for (let i = 0; i < 7; i++) all.unshift((await add({}, T0 + Math.floor(i / 2))).id); // pairs share createdAt
        const p1 = await store.listJobs(listAll({ limit: 3 }));
        expect(ids(p1)).toEqual(all.slice(0, 3));
        expect(p1.nextCursor).not.toBeNull();
        await add({}, T0 + 100); // newer than the cursor: must not shift later pages
        const p2 = await store.listJobs(listAll({ limit: 3, cursor: p1.nextCursor }));
        expect(ids(p2)).toEqual(all.slice(3, 6));
        const p3 = await store.listJobs(listAll({ limit: 3, cursor: p2.nextCursor }));
        expect(ids(p3)).toEqual(all.slice(6));
        expect(p3.nextCursor).toBeNull();
        const exact = await store.listJobs(listAll({ limit: 8 }));
        expect(exact.items).toHaveLength(8);
        expect(exact.nextCursor).toBeNull();
      });
    });

    must('A malformed cursor is rejected with a `ValidationError` naming `cursor`.', () => {
      it('rejects a malformed cursor with a validation error naming cursor', async () => {
        for (const cursor of ['%%%', 'bm90IGpzb24', Buffer.from('{"x":1}').toString('base64url')]) {
          await expect(store.listJobs(listAll({ cursor }))).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: ['cursor'] })] });
        }
      });
    });
  });
}
