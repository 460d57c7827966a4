/**
 * Conformance checks: flow control inside `claimJobs` (pause, concurrency caps per type and
 * per org, rate limits, fairness between orgs). Without them a store that ignores
 * `ClaimJobsRequest.limits` or `fairness` would pass every other check of the kit.
 * Each group's title quotes the MUST of src/storage/adapter.ts that its checks prove.
 */
import { expect } from 'vitest';
import type { ClaimedJob, ClaimJobsRequest, ClaimTypeLimits, StorageAdapter } from '../../storage/adapter.js';
import { completedOutcome, failedOutcome, newJob, PROMOTE_DUE, T0 } from './fixtures.js';
import type { ConformanceSuite } from './suite.js';

const limit = (type: string, l: Partial<ClaimTypeLimits>): ClaimTypeLimits => ({ type, paused: false, concurrency: null, concurrencyPerOrg: null, ...l });

/** Registers the flow-control checks of `claimJobs`. */
export function claimFlowControlChecks(s: ConformanceSuite): void {
  const { describe, must, it, store, insert, settle, statusOf, transitions, peer } = s;
  const queue = async (n: number, o: { type?: string; orgId?: string; priority?: 'critical' | 'normal' } = {}, on?: StorageAdapter): Promise<string[]> => {
    const jobs = Array.from({ length: n }, () => newJob({ type: o.type ?? 'email', orgId: o.orgId ?? 'acme', priority: o.priority ?? 'normal' }));
    await insert(jobs, { atomic: true, ...(on ? { on } : {}) });
    return jobs.map((j) => j.id);
  };
  const claimWith = (extra: Partial<ClaimJobsRequest> & { on?: StorageAdapter }): Promise<ClaimedJob[]> => {
    const { on, ...rest } = extra;
    return (on ?? store).claimJobs({ workerId: 'w1', types: ['email', 'sms'], limit: 10, now: T0, leaseMs: 30_000, promoteDue: PROMOTE_DUE, ...rest });
  };

  describe('claimJobs: flow control', () => {
    must('The store MUST enforce them inside the claim, so they hold across every process on the store; see {@link ClaimTypeLimits}. A job held back by them stays `queued` and uses no attempt.', () => {
      it('a paused type is not claimed; its job stays queued with no attempt and no history entry; other types are', async () => {
        const [email] = await queue(1);
        const [sms] = await queue(1, { type: 'sms' });
        const claimed = await claimWith({ limits: [limit('email', { paused: true })] });
        expect(claimed.map((c) => c.job.id)).toEqual([sms]);
        expect(await statusOf(email!)).toBe('queued');
        expect(await transitions(email!)).toEqual(['null>queued']);
        expect((await claimWith({})).map((c) => c.job.id)).toEqual([email]); // resumed: claimed at once
      });

      it('concurrency caps the running attempts of a type across two store instances', async () => {
        const other = await peer();
        await queue(20);
        const limits = [limit('email', { concurrency: 3 })];
        const results = await Promise.all([claimWith({ limits, limit: 4 }), claimWith({ limits, limit: 4, workerId: 'w2', ...(other ? { on: other } : {}) })]);
        const claimed = results.flat();
        expect(claimed).toHaveLength(3);
        expect(new Set(claimed.map((c) => c.job.id)).size).toBe(3);
        expect(await claimWith({ limits, limit: 4 })).toHaveLength(0);
      });

      it.each(['none', 'org'] as const)('concurrencyPerOrg caps each org and leaves the slots to other orgs (fairness %s)', async (fairness) => {
        await queue(10, { orgId: 'big' });
        await queue(3, { orgId: 'small' });
        const limits = [limit('email', { concurrencyPerOrg: 2 })];
        const claimed = await claimWith({ limits, fairness });
        const byOrg = claimed.reduce<Record<string, number>>((m, c) => ({ ...m, [c.job.orgId]: (m[c.job.orgId] ?? 0) + 1 }), {});
        expect(byOrg).toEqual({ big: 2, small: 2 });
        expect(await claimWith({ limits, fairness, workerId: 'w2' })).toHaveLength(0);
      });
    });

    must('Counts of running attempts MUST come from the jobs table (status \'running\'), so a slot comes back as soon as its attempt ends', () => {
      it('a settled attempt frees its slot for the next claim', async () => {
        await queue(5);
        const limits = [limit('email', { concurrency: 1 })];
        const [first] = await claimWith({ limits });
        expect(await claimWith({ limits })).toHaveLength(0);
        expect((await settle(first!.job.id, first!.attempt, completedOutcome(), T0 + 1)).kind).toBe('settled');
        expect(await claimWith({ limits, now: T0 + 2 })).toHaveLength(1);
      });
    });

    must('At most `max` attempts START (are claimed) in any `perMs` ending at the claim\'s `now`, for the type or per org; every start counts, also a second start of one job in the window', () => {
      it('scope type: a sliding window judged at the claim now', async () => {
        await queue(10);
        const limits = [limit('email', { rateLimit: { max: 3, perMs: 1000, scope: 'type' } })];
        const at = async (now: number) => (await claimWith({ limits, now })).length;
        expect(await at(T0)).toBe(3);
        expect(await at(T0 + 999)).toBe(0); // the window (T0 - 1, T0 + 999] still holds 3 starts
        expect(await at(T0 + 1000)).toBe(3);
        expect(await at(T0 + 1500)).toBe(0);
      });

      it('scope org: each org has its own window', async () => {
        await queue(5, { orgId: 'a' });
        await queue(5, { orgId: 'b' });
        const limits = [limit('email', { rateLimit: { max: 2, perMs: 1000, scope: 'org' } })];
        expect((await claimWith({ limits })).map((c) => c.job.orgId).sort()).toEqual(['a', 'a', 'b', 'b']);
        expect(await claimWith({ limits, now: T0 + 10 })).toHaveLength(0);
      });

      it.each(['type', 'org'] as const)('a job that starts again inside the window (a fast retry) counts twice (scope %s)', async (scope) => {
        const [a] = await queue(1);
        const limits = [limit('email', { rateLimit: { max: 2, perMs: 1000, scope } })];
        const [first] = await claimWith({ limits, limit: 1 });
        expect((await settle(a!, first!.attempt, failedOutcome(T0 + 1), T0 + 1)).kind).toBe('settled');
        expect((await claimWith({ limits, limit: 1, now: T0 + 2 })).map((c) => c.job.id)).toEqual([a]);
        await queue(1);
        expect(await claimWith({ limits, now: T0 + 3 })).toHaveLength(0);
        // The optional getRateWindow (for explain) reads the same starts.
        if (store.getRateWindow) expect(await store.getRateWindow({ type: 'email', orgId: scope === 'org' ? 'acme' : null, since: T0 + 3 - 1000 + 1 })).toEqual({ starts: 2, oldest: T0 });
        expect(await claimWith({ limits, now: T0 + 1000 })).toHaveLength(1); // the first start left the window
      });
    });

    must("'org': within one priority level, orgs are served in turn (round-robin in org id order, continuing after the org served last); each org's jobs in runAt, seq order. Priority still wins across levels.", () => {
      it('an org with 10 queued behind one with 1,000 is served in the first rounds, oldest first', async () => {
        const big = await queue(1000, { orgId: 'a' });
        const small = new Set(await queue(10, { orgId: 'b' }));
        const claimed = (await claimWith({ limit: 8, fairness: 'org' })).map((c) => c.job);
        expect(claimed.filter((j) => j.orgId === 'b')).toHaveLength(4);
        expect(claimed.filter((j) => j.orgId === 'a')).toHaveLength(4);
        const next = (await claimWith({ limit: 8, fairness: 'org' })).map((c) => c.job);
        expect([...claimed, ...next].filter((j) => small.has(j.id))).toHaveLength(8);
        expect(claimed.filter((j) => j.orgId === 'a').map((j) => j.id)).toEqual(big.slice(0, 4)); // oldest first
      });

      it("'none' keeps strict claim order", async () => {
        await queue(100, { orgId: 'a' });
        await queue(10, { orgId: 'b' });
        expect((await claimWith({ limit: 8, fairness: 'none' })).every((c) => c.job.orgId === 'a')).toBe(true);
      });

      it('priority still wins across levels', async () => {
        await queue(5, { orgId: 'a' });
        const urgent = await queue(2, { orgId: 'b', priority: 'critical' });
        const claimed = await claimWith({ limit: 3, fairness: 'org' });
        expect(claimed.slice(0, 2).map((c) => c.job.id).sort()).toEqual([...urgent].sort());
        expect(claimed[2]!.job.orgId).toBe('a');
      });
    });
  });
}
