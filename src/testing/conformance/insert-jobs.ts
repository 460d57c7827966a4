/**
 * Conformance checks: `insertJobs` (initial status, history, dedup, atomic batches).
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { NewJob } from '../../storage/adapter.js';
import { T0, newJob, listAll } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of `insertJobs` (initial status, history, dedup, atomic batches). */
export function insertJobsChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, insert, add, get, statusOf, jobIn, peer } = s;
  describe('insertJobs', () => {
    must("`insertJobs` MUST write each accepted job with its initial status (see `InsertOutcome`) and one history entry `null → status` (attempt 0, the request's actor), and return it exactly as `getJob` reads it.", () => {
      it('inserts a due job as queued and returns it exactly as getJob reads it', async () => {
        const nj = newJob({ priority: 'high', input: { to: 'a@b.c', nested: [1, { x: null }] }, maxRetries: 5, timeoutMs: 1234 });
        const [o] = await insert([nj], { now: T0 + 5 });
        expect(o?.kind).toBe('inserted');
        if (o?.kind !== 'inserted') return;
        expect(o.job).toMatchObject({
          id: nj.id,
          type: 'email',
          orgId: 'acme',
          ownerId: 'alice',
          status: 'queued',
          priority: 'high',
          input: { to: 'a@b.c', nested: [1, { x: null }] },
          output: null,
          progress: 0,
          checkpoint: null,
          error: null,
          retryCount: 0,
          maxRetries: 5,
          timeoutMs: 1234,
          dependsOn: [],
          runAt: new Date(T0),
          createdAt: new Date(T0 + 5),
          updatedAt: new Date(T0 + 5),
          startedAt: null,
          completedAt: null,
        });
        expect(await get(nj.id)).toEqual(o.job);
      });

      it('inserts a future job as scheduled', async () => {
        const j = await add({ runAt: T0 + 1 });
        expect(j.status).toBe('scheduled');
        expect(await statusOf(j.id)).toBe('scheduled');
      });

      it('writes one creation history entry (null → status, attempt 0, the actor)', async () => {
        const [o] = await insert([newJob()], { actorId: 'bob', now: T0 + 7 });
        if (o?.kind !== 'inserted') throw new Error('not inserted');
        const h = await store.listHistory({ jobId: o.job.id });
        expect(h).toEqual([{ jobId: o.job.id, at: new Date(T0 + 7), from: null, to: 'queued', attempt: 0, actorId: 'bob', message: null, error: null }]);
      });
    });

    must('When > 0: reject the job as `duplicate` if a job of the same `orgId` with the same `dedupHash` created after `now - dedupWindowMs` exists whose status is not canceled/dead_letter. Within one batch, a later identical job is a duplicate of the earlier one. MUST hold across processes.', () => {
      const WINDOW = 300_000;
      const dd = (o: Partial<NewJob> = {}) => newJob({ dedupHash: 'hash-1', dedupWindowMs: WINDOW, ...o });

      it('rejects a duplicate within the window and writes nothing', async () => {
        const first = await add({ dedupHash: 'hash-1', dedupWindowMs: WINDOW });
        const second = dd();
        const [o] = await insert([second], { now: T0 + WINDOW - 1 });
        expect(o).toEqual({ kind: 'duplicate', existingJobId: first.id });
        expect(await store.getJob({ id: second.id, orgId: null })).toBeNull();
        expect(await store.listHistory({ jobId: second.id })).toEqual([]);
      });

      it('accepts the same hash once the window has passed', async () => {
        await add({ dedupHash: 'hash-1', dedupWindowMs: WINDOW });
        const [o] = await insert([dd()], { now: T0 + WINDOW + 1 });
        expect(o?.kind).toBe('inserted');
      });

      it('ignores the hash when dedupWindowMs is 0', async () => {
        await add({ dedupHash: 'hash-1', dedupWindowMs: WINDOW });
        const [o] = await insert([dd({ dedupWindowMs: 0 })]);
        expect(o?.kind).toBe('inserted');
      });

      it('never collides across orgs', async () => {
        await add({ dedupHash: 'hash-1', dedupWindowMs: WINDOW, orgId: 'acme' });
        const [o] = await insert([dd({ orgId: 'globex' })]);
        expect(o?.kind).toBe('inserted');
      });

      it('is not blocked by canceled or dead_letter jobs, but is by completed ones', async () => {
        await jobIn('canceled', { dedupHash: 'h-c', dedupWindowMs: WINDOW });
        await jobIn('dead_letter', { dedupHash: 'h-d', dedupWindowMs: WINDOW });
        const done = await jobIn('completed', { dedupHash: 'h-ok', dedupWindowMs: WINDOW });
        const out = await insert([dd({ dedupHash: 'h-c' }), dd({ dedupHash: 'h-d', type: 'solo' }), dd({ dedupHash: 'h-ok', type: 'solo' })], {
          now: T0 + 20,
        });
        expect(out.map((o) => o.kind)).toEqual(['inserted', 'inserted', 'duplicate']);
        expect(out[2]).toEqual({ kind: 'duplicate', existingJobId: done.id });
      });

      it('treats a later identical job of the same batch as a duplicate of the earlier one', async () => {
        const a = dd();
        const out = await insert([a, dd(), newJob()]);
        expect(out.map((o) => o.kind)).toEqual(['inserted', 'duplicate', 'inserted']);
        expect(out[1]).toEqual({ kind: 'duplicate', existingJobId: a.id });
      });

      it('holds across connections of a multi-process store', async ({ skip }) => {
        const other = await peer();
        if (other === null) return skip('no second connection (factory.connectPeer not provided)');
        const first = await add({ dedupHash: 'hash-1', dedupWindowMs: WINDOW });
        const [o] = await insert([dd()], { on: other, now: T0 + 1 });
        expect(o).toEqual({ kind: 'duplicate', existingJobId: first.id });
      });
    });

    must("true: all or nothing (submitMany). If any job is rejected, nothing is written and every job that would have been inserted reports `{ kind: 'not_written' }`. false: each job stands alone (group commit of independent submits).", () => {
      it('writes nothing when one job is rejected, and reports the others not_written', async () => {
        const existing = await add({ dedupHash: 'dup', dedupWindowMs: 60_000 });
        const a = newJob();
        const b = newJob({ dedupHash: 'dup', dedupWindowMs: 60_000 });
        const c = newJob();
        const out = await insert([a, b, c], { atomic: true });
        expect(out).toEqual([{ kind: 'not_written' }, { kind: 'duplicate', existingJobId: existing.id }, { kind: 'not_written' }]);
        for (const j of [a, c]) {
          expect(await store.getJob({ id: j.id, orgId: null })).toBeNull();
          expect(await store.listHistory({ jobId: j.id })).toEqual([]);
        }
        expect((await store.listJobs(listAll())).items.map((j) => j.id)).toEqual([existing.id]);
      });

      it('rolls back on a missing parent too', async () => {
        const a = newJob();
        const out = await insert([a, newJob({ dependsOn: ['no-such-job'] })], { atomic: true });
        expect(out).toEqual([{ kind: 'not_written' }, { kind: 'parent_not_found', parentId: 'no-such-job' }]);
        expect(await store.getJob({ id: a.id, orgId: null })).toBeNull();
      });

      it('inserts everything when nothing is rejected', async () => {
        const jobs = [newJob(), newJob(), newJob({ runAt: T0 + 10 })];
        const out = await insert(jobs, { atomic: true });
        expect(out.map((o) => (o.kind === 'inserted' ? o.job.status : o.kind))).toEqual(['queued', 'queued', 'scheduled']);
      });

      it('a non-atomic batch keeps the accepted jobs', async () => {
        const a = newJob();
        const out = await insert([a, newJob({ dependsOn: ['nope'] })]);
        expect(out.map((o) => o.kind)).toEqual(['inserted', 'parent_not_found']);
        expect(await statusOf(a.id)).toBe('queued');
      });
    });
  });
}
