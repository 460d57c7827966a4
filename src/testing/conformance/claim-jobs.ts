/**
 * Conformance checks: `claimJobs`, `promoteDueJobs` and `nextDueAt`.
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import { T0, newJob, failedOutcome } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

/** Registers the checks of `claimJobs`, `promoteDueJobs` and `nextDueAt`. */
export function claimJobsChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, insert, add, claim, claimOne, settle, get, statusOf, transitions, jobIn, peer } = s;
  describe('claimJobs', () => {
    must('Claims order by priority rank, then `runAt`, then submission order (`seq`).', () => {
      it('claims by priority, then runAt, then submission order', async () => {
        const a = await add({ priority: 'normal', runAt: T0 - 100 });
        const b = await add({ priority: 'normal', runAt: T0 - 200 });
        const c = await add({ priority: 'high', runAt: T0 });
        const d = await add({ priority: 'normal', runAt: T0 - 200 });
        const e = await add({ priority: 'critical', runAt: T0 });
        const f = await add({ priority: 'low', runAt: T0 - 999 });
        const expected = [e, c, b, d, a, f].map((j) => j.id);
        expect((await claim({ limit: 10 })).map((x) => x.job.id)).toEqual(expected);
      });

      it('claims one at a time in the same order and respects limit', async () => {
        const ids: string[] = [];
        for (const p of ['low', 'normal', 'critical', 'high'] as const) ids.push((await add({ priority: p })).id);
        const got: string[] = [];
        for (let i = 0; i < 4; i++) {
          const cs = await claim({ limit: 1 });
          expect(cs).toHaveLength(1);
          got.push(cs[0]!.job.id);
        }
        expect(got).toEqual([ids[2], ids[3], ids[1], ids[0]]);
        expect(await claim()).toEqual([]);
      });
    });

    must('Claims up to `limit` `queued` jobs of `types` in claim order: `running`, attempt + 1, `startedAt = now`, lease owner `workerId`, lease expiry `now + leaseMs`.', () => {
      it('sets running, attempt, startedAt, and a history entry by engine:<workerId>', async () => {
        const j = await add();
        const [c] = await claim({ now: T0 + 10, workerId: 'w-7' });
        expect(c?.attempt).toBe(1);
        expect(c?.job).toMatchObject({ id: j.id, status: 'running', startedAt: new Date(T0 + 10), updatedAt: new Date(T0 + 10) });
        expect(await get(j.id)).toEqual(c?.job);
        const h = await store.listHistory({ jobId: j.id });
        expect(h[1]).toEqual({ jobId: j.id, at: new Date(T0 + 10), from: 'queued', to: 'running', attempt: 1, actorId: 'engine:w-7', message: null, error: null });
      });
    });

    must('Only jobs of these types are claimed (the types this worker can run).', () => {
      it('claims only the given types', async () => {
        const email = await add({ type: 'email' });
        const other = await add({ type: 'other' });
        expect(await claim({ types: [] })).toEqual([]);
        expect((await claim({ types: ['email'] })).map((c) => c.job.id)).toEqual([email.id]);
        expect(await claim({ types: ['email'] })).toEqual([]);
        expect(await statusOf(other.id)).toBe('queued');
        expect((await claim({ types: ['nope', 'other'] })).map((c) => c.job.id)).toEqual([other.id]);
      });
    });

    must('No job is ever claimed twice.', () => {
      it('never claims a job twice under concurrent claimers', async () => {
        const N = 40;
        await insert(Array.from({ length: N }, () => newJob()));
        const other = await peer();
        const seen: string[] = [];
        for (let round = 0; round < N; round++) {
          const batch = await Promise.all(
            Array.from({ length: 6 }, (_, i) => claim({ limit: 3, workerId: `w${i}`, now: T0 + round, ...(other && i % 2 ? { on: other } : {}) })),
          );
          const ids = batch.flat().map((c) => c.job.id);
          if (ids.length === 0) break;
          seen.push(...ids);
        }
        expect(seen).toHaveLength(N);
        expect(new Set(seen).size).toBe(N);
        for (const id of seen) expect(await transitions(id)).toEqual(['null>queued', 'queued>running']);
      });
    });

    must('Before claiming, promote up to this many due `scheduled`/`retrying` jobs to `queued` (with history, exactly as {@link StorageAdapter.promoteDueJobs}) in the same transaction', () => {
      it('a claim without promoteDue promotes nothing; with it, at most promoteDue due jobs, and claims them in claim order', async () => {
        const due = await add({ runAt: T0 + 10, priority: 'critical' });
        const later = await add({ runAt: T0 + 20 });
        const third = await add({ runAt: T0 + 30 });
        expect((await claim({ now: T0 + 100, limit: 1, promoteDue: 0 })).map((c) => c.job.id)).toEqual([]); // nothing queued yet
        expect(await statusOf(due.id)).toBe('scheduled');
        expect(await store.promoteDueJobs({ now: T0 + 30, limit: 0 })).toBe(0);
        expect(await claim({ now: T0 + 30, limit: 3, promoteDue: 1 }).then((cs) => cs.map((c) => c.job.id))).toEqual([due.id]);
        expect(await statusOf(later.id)).toBe('scheduled');
        expect(await claim({ now: T0 + 30, limit: 3 }).then((cs) => cs.map((c) => c.job.id))).toEqual([later.id, third.id]);
      });

      it('promotes due scheduled jobs on claim (and not before they are due)', async () => {
        const j = await add({ runAt: T0 + 1000 });
        expect(await claim({ now: T0 + 999 })).toEqual([]);
        expect(await statusOf(j.id)).toBe('scheduled');
        const [c] = await claim({ now: T0 + 1000 });
        expect(c?.job.id).toBe(j.id);
        expect(await transitions(j.id)).toEqual(['null>scheduled', 'scheduled>queued', 'queued>running']);
      });

      it('promotes due retrying jobs on claim with the next attempt number', async () => {
        const j = await add();
        const c1 = await claimOne();
        await settle(j.id, c1.attempt, failedOutcome(T0 + 5000), T0 + 10);
        expect(await claim({ now: T0 + 4999 })).toEqual([]);
        const [c2] = await claim({ now: T0 + 5000 });
        expect(c2?.attempt).toBe(2);
        expect(c2?.job.retryCount).toBe(1);
        expect(await transitions(j.id)).toEqual(['null>queued', 'queued>running', 'running>retrying', 'retrying>queued', 'queued>running']);
      });
    });
  });

  describe('promoteDueJobs and nextDueAt', () => {
    must('`promoteDueJobs` MUST promote only due scheduled/retrying jobs to queued, at most `limit`, and return how many; `nextDueAt` MUST return the earliest `runAt` of a scheduled/retrying job, or null.', () => {
      it('promoteDueJobs promotes due jobs only, up to limit, and nextDueAt follows', async () => {
        expect(await store.nextDueAt()).toBeNull();
        const s1 = await add({ runAt: T0 + 100 });
        const s2 = await add({ runAt: T0 + 200 });
        const s3 = await add({ runAt: T0 + 300 });
        const r = await jobIn('retrying'); // due at T0 + 60_000
        expect(await store.nextDueAt()).toBe(T0 + 100);
        expect(await store.promoteDueJobs({ now: T0 + 250, limit: 1 })).toBe(1);
        expect(await statusOf(s1.id)).toBe('queued');
        expect(await statusOf(s2.id)).toBe('scheduled');
        expect(await store.nextDueAt()).toBe(T0 + 200);
        expect(await store.promoteDueJobs({ now: T0 + 250, limit: 10 })).toBe(1);
        expect(await statusOf(s2.id)).toBe('queued');
        expect(await statusOf(s3.id)).toBe('scheduled');
        expect(await store.promoteDueJobs({ now: T0 + 60_000, limit: 10 })).toBe(2);
        expect(await statusOf(r.id)).toBe('queued');
        expect(await transitions(r.id)).toContain('retrying>queued');
        expect(await store.nextDueAt()).toBeNull();
      });
    });
  });
}
