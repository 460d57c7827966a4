/**
 * Flow control in the store's claim, on every store: pause, concurrency caps (per type and
 * per org, across several store instances = processes), and fairness between orgs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimJobsRequest, ClaimTypeLimits, StorageAdapter } from '../../src/storage/adapter.js';
import { storeKinds } from '../helpers/stores.js';
import { newJob, T0 } from '../../src/testing/conformance/fixtures.js';

const open: StorageAdapter[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const limit = (type: string, l: Partial<ClaimTypeLimits>): ClaimTypeLimits => ({ type, paused: false, concurrency: null, concurrencyPerOrg: null, ...l });

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`flow control in the claim on ${kind.name}${kind.skip}`, () => {
    async function store(): Promise<StorageAdapter> {
      const s = kind.open();
      open.push(s);
      await s.migrate();
      return s;
    }
    async function insert(s: StorageAdapter, n: number, o: { type?: string; orgId?: string; priority?: 'critical' | 'normal' } = {}) {
      const jobs = Array.from({ length: n }, () => newJob({ type: o.type ?? 'email', orgId: o.orgId ?? 'acme', priority: o.priority ?? 'normal' }));
      await s.insertJobs({ jobs, actorId: 'test', now: T0, atomic: true });
      return jobs.map((j) => j.id);
    }
    const req = (workerId: string, n: number, extra: Partial<ClaimJobsRequest> = {}): ClaimJobsRequest => ({
      workerId, types: ['email', 'sms'], limit: n, now: T0, leaseMs: 30_000, ...extra,
    });

    it('a paused type is not claimed; its jobs stay queued with no attempt; other types are', async () => {
      kind.fresh();
      const s = await store();
      const [email] = await insert(s, 1);
      const [sms] = await insert(s, 1, { type: 'sms' });
      const claimed = await s.claimJobs(req('w1', 10, { limits: [limit('email', { paused: true })] }));
      expect(claimed.map((c) => c.job.id)).toEqual([sms]);
      const held = await s.getJob({ id: email!, orgId: null });
      expect(held).toMatchObject({ status: 'queued' });
      expect((await s.listHistory({ jobId: email! })).map((h) => h.to)).toEqual(['queued']);
      // Resumed (no limit passed): claimed at once.
      expect((await s.claimJobs(req('w1', 10))).map((c) => c.job.id)).toEqual([email]);
    });

    it('concurrency caps hold across several store instances (processes), and a finished slot comes back', async () => {
      kind.fresh();
      const stores = [await store(), await store(), await store()];
      await insert(stores[0]!, 20);
      const limits = [limit('email', { concurrency: 3 })];
      const results = await Promise.all(stores.map((s, i) => s.claimJobs(req(`w${i}`, 4, { limits }))));
      const claimed = results.flat();
      expect(claimed).toHaveLength(3);
      expect(new Set(claimed.map((c) => c.job.id)).size).toBe(3);
      expect(await stores[1]!.claimJobs(req('w9', 4, { limits }))).toHaveLength(0);
      const first = claimed[0]!;
      await stores[0]!.settleJobs({ settles: [{ jobId: first.job.id, attempt: first.attempt, outcome: { kind: 'completed', output: null, outputJson: 'null' }, actorId: 'w' }], now: T0 + 1 });
      expect(await stores[2]!.claimJobs(req('w2', 4, { limits, now: T0 + 2 }))).toHaveLength(1);
    });

    it.each(['none', 'org'] as const)('concurrencyPerOrg caps each org, leaving the slots to other orgs (fairness %s)', async (fairness) => {
      kind.fresh();
      const s = await store();
      await insert(s, 10, { orgId: 'big' });
      await insert(s, 3, { orgId: 'small' });
      const limits = [limit('email', { concurrencyPerOrg: 2 })];
      const claimed = await s.claimJobs(req('w1', 10, { limits, fairness }));
      const byOrg = claimed.reduce<Record<string, number>>((m, c) => ({ ...m, [c.job.orgId]: (m[c.job.orgId] ?? 0) + 1 }), {});
      expect(byOrg).toEqual({ big: 2, small: 2 });
      expect(await s.claimJobs(req('w2', 10, { limits, fairness }))).toHaveLength(0);
    });

    it('a rate limit (scope type) caps starts per sliding window, judged at the claim now', async () => {
      kind.fresh();
      const s = await store();
      await insert(s, 10);
      const limits = [limit('email', { rateLimit: { max: 3, perMs: 1000, scope: 'type' } })];
      const at = (now: number) => s.claimJobs(req('w1', 10, { limits, now })).then((c) => c.length);
      expect(await at(T0)).toBe(3);
      expect(await at(T0 + 999)).toBe(0); // the window (T0 + 999 - 1000, T0 + 999] still holds 3 starts
      expect(await at(T0 + 1000)).toBe(3);
      expect(await at(T0 + 1500)).toBe(0);
      expect(await at(T0 + 2000)).toBe(3);
    });

    it.each(['type', 'org'] as const)('a job that starts again inside the window (a fast retry) counts each start (scope %s)', async (scope) => {
      kind.fresh();
      const s = await store();
      const [a] = await insert(s, 1);
      const limits = [limit('email', { rateLimit: { max: 2, perMs: 1000, scope } })];
      const [first] = await s.claimJobs(req('w1', 1, { limits }));
      expect(first?.job.id).toBe(a);
      // It fails at once and is retried with no backoff: queued again inside the window.
      await s.settleJobs({
        settles: [{ jobId: a!, attempt: first!.attempt, outcome: { kind: 'failed', retryAt: T0 + 1, error: { message: 'flaky', type: 'transient' } }, actorId: 'w1' }],
        now: T0 + 1,
      });
      const again = await s.claimJobs(req('w1', 1, { limits, now: T0 + 2 }));
      expect(again.map((c) => c.job.id)).toEqual([a]); // second start: 2 of 2 used
      const [b] = await insert(s, 1);
      expect(await s.claimJobs(req('w1', 10, { limits, now: T0 + 3 }))).toHaveLength(0); // b must wait
      expect(await s.getRateWindow!({ type: 'email', orgId: scope === 'org' ? 'acme' : null, since: T0 + 3 - 1000 + 1 })).toEqual({ starts: 2, oldest: T0 });
      expect((await s.claimJobs(req('w1', 10, { limits, now: T0 + 1000 }))).map((c) => c.job.id)).toEqual([b]); // the first start left the window
    });

    it('a rate limit with scope org caps starts per org', async () => {
      kind.fresh();
      const s = await store();
      await insert(s, 5, { orgId: 'a' });
      await insert(s, 5, { orgId: 'b' });
      const limits = [limit('email', { rateLimit: { max: 2, perMs: 1000, scope: 'org' } })];
      const claimed = await s.claimJobs(req('w1', 10, { limits }));
      expect(claimed.map((c) => c.job.orgId).sort()).toEqual(['a', 'a', 'b', 'b']);
      expect(await s.claimJobs(req('w1', 10, { limits, now: T0 + 10 }))).toHaveLength(0);
    });

    it("fairness 'org': an org with 10 queued behind one with 1,000 is served in the first rounds", async () => {
      kind.fresh();
      const s = await store();
      await insert(s, 1000, { orgId: 'a' });
      const small = new Set(await insert(s, 10, { orgId: 'b' }));
      const claimed = (await s.claimJobs(req('w1', 8, { fairness: 'org' }))).map((c) => c.job);
      expect(claimed.filter((j) => j.orgId === 'b')).toHaveLength(4);
      expect(claimed.filter((j) => j.orgId === 'a')).toHaveLength(4);
      const next = (await s.claimJobs(req('w1', 8, { fairness: 'org' }))).map((c) => c.job);
      expect([...claimed, ...next].filter((j) => small.has(j.id))).toHaveLength(8);
      // Within an org: oldest first.
      const aSeqs = claimed.filter((j) => j.orgId === 'a').map((j) => j.createdAt.getTime());
      expect(aSeqs).toEqual([...aSeqs].sort((x, y) => x - y));
      // fairness 'none': strict claim order, so all of a's first.
      kind.fresh();
      const t = await store();
      await insert(t, 100, { orgId: 'a' });
      await insert(t, 10, { orgId: 'b' });
      expect((await t.claimJobs(req('w1', 8, { fairness: 'none' }))).every((c) => c.job.orgId === 'a')).toBe(true);
    });

    it('priority still wins across levels with fairness on', async () => {
      kind.fresh();
      const s = await store();
      await insert(s, 5, { orgId: 'a' });
      const urgent = await insert(s, 2, { orgId: 'b', priority: 'critical' });
      const claimed = await s.claimJobs(req('w1', 3, { fairness: 'org' }));
      expect(claimed.slice(0, 2).map((c) => c.job.id).sort()).toEqual([...urgent].sort());
      expect(claimed[2]!.job.orgId).toBe('a');
    });
  });
}
