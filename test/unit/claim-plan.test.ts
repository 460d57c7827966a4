/**
 * The flow-control claim plan (src/storage/sql/claim-plan.ts) against an in-memory reader:
 * the exact fair order of the module comment across claims (turns in org id order, continuing
 * after the org served last, wrapping round; types merged by runAt, seq; priority first), caps
 * skipping orgs, and how many lookups a fair claim costs (a store across a network pays one
 * round trip per lookup).
 */
import { describe, expect, it } from 'vitest';
import type { ClaimJobsRequest, ClaimTypeLimits } from '../../src/storage/adapter.js';
import { planClaimSync, type Candidate, type ClaimReader, type FairnessCursor } from '../../src/storage/sql/claim-plan.js';

/** Queued jobs in memory; `claim` removes the planned ones, as a store's claim would. */
class MemoryQueue implements ClaimReader {
  readonly queued: Candidate[] = [];
  readonly running: Candidate[] = [];
  lookups = 0;
  #seq = 0;

  add(orgId: string, n = 1, o: { type?: string; rank?: number; runAt?: number } = {}): void {
    for (let i = 0; i < n; i++) this.queued.push({ seq: ++this.#seq, type: o.type ?? 'a', orgId, priorityRank: o.rank ?? 2, runAt: o.runAt ?? 0 });
  }

  countStarts(): number {
    this.lookups++;
    return 0;
  }
  countRunning(type: string, orgId: string | null): number {
    this.lookups++;
    return this.running.filter((c) => c.type === type && (orgId === null || c.orgId === orgId)).length;
  }
  nextOrgs(type: string, rank: number, after: string | null, limit: number): string[] {
    this.lookups++;
    const orgs = [...new Set(this.queued.filter((c) => c.type === type && c.priorityRank === rank && (after === null || c.orgId > after)).map((c) => c.orgId))];
    return orgs.sort().slice(0, limit);
  }
  orgJobs(type: string, rank: number, reads: readonly { orgId: string; after: { runAt: number; seq: number } | null; limit: number }[]): Candidate[][] {
    this.lookups++;
    return reads.map((r) =>
      this.queued
        .filter((c) => c.type === type && c.priorityRank === rank && c.orgId === r.orgId && (r.after === null || c.runAt > r.after.runAt || (c.runAt === r.after.runAt && c.seq > r.after.seq)))
        .sort((x, y) => x.runAt - y.runAt || x.seq - y.seq)
        .slice(0, r.limit),
    );
  }
  claimOrder(types: readonly string[], after: Candidate | null, limit: number): Candidate[] {
    this.lookups++;
    const key = (c: Candidate) => [c.priorityRank, c.runAt, c.seq];
    const gt = (a: number[], b: number[]) => a[0]! > b[0]! || (a[0] === b[0] && (a[1]! > b[1]! || (a[1] === b[1] && a[2]! > b[2]!)));
    return this.queued
      .filter((c) => types.includes(c.type) && (after === null || gt(key(c), key(after))))
      .sort((x, y) => x.priorityRank - y.priorityRank || x.runAt - y.runAt || x.seq - y.seq)
      .slice(0, limit);
  }
  firstLevel(types: readonly string[], afterRank: number): number | null {
    this.lookups++;
    const ranks = this.queued.filter((c) => types.includes(c.type) && c.priorityRank > afterRank).map((c) => c.priorityRank);
    return ranks.length === 0 ? null : Math.min(...ranks);
  }
  severalOrgsQueued(): boolean {
    this.lookups++;
    return new Set(this.queued.map((c) => c.orgId)).size > 1;
  }

  /** Plans a claim and takes the planned jobs out of the queue (into `running`); returns their org ids. */
  claim(cursor: FairnessCursor, limit: number, extra: Partial<ClaimJobsRequest> = {}): string[] {
    const req: ClaimJobsRequest = { workerId: 'w', types: ['a', 'b'], limit, now: 0, leaseMs: 1000, fairness: 'org', ...extra };
    const plan = planClaimSync(this, req, cursor);
    if (plan.kind === 'none') return [];
    const seqs = plan.kind === 'seqs' ? plan.seqs : this.claimOrder(plan.types, null, limit).map((c) => c.seq);
    return seqs.map((seq) => {
      const i = this.queued.findIndex((c) => c.seq === seq);
      const [c] = this.queued.splice(i, 1);
      this.running.push(c!);
      return `${c!.orgId}${c!.type === 'b' ? ':b' : ''}`;
    });
  }
}

const cap = (type: string, l: Partial<ClaimTypeLimits>): ClaimTypeLimits => ({ type, paused: false, concurrency: null, concurrencyPerOrg: null, ...l });

describe('the fair claim plan', () => {
  it('serves orgs in turn in org id order, continues after the org served last, and wraps round', () => {
    const q = new MemoryQueue();
    for (const org of ['o1', 'o2', 'o3', 'o4', 'o5']) q.add(org, 3);
    const cursor: FairnessCursor = new Map();
    expect(q.claim(cursor, 3)).toEqual(['o1', 'o2', 'o3']);
    expect(q.claim(cursor, 4)).toEqual(['o4', 'o5', 'o1', 'o2']);
    expect(q.claim(cursor, 7)).toEqual(['o3', 'o4', 'o5', 'o1', 'o2', 'o3', 'o4']);
    expect(q.claim(cursor, 10)).toEqual(['o5']);
  });

  it('gives each org one job per round, oldest first across its types, then further rounds', () => {
    const q = new MemoryQueue();
    q.add('x', 1, { type: 'b', runAt: 5 });
    q.add('x', 2, { type: 'a', runAt: 10 });
    q.add('y', 1, { type: 'a', runAt: 1 });
    expect(q.claim(new Map(), 10)).toEqual(['x:b', 'y', 'x', 'x']);
  });

  it('serves a higher priority level first, each level with its own turn order', () => {
    const q = new MemoryQueue();
    q.add('o1', 2);
    q.add('o2', 2);
    q.add('o3', 1, { rank: 0 });
    expect(q.claim(new Map(), 4)).toEqual(['o3', 'o1', 'o2', 'o1']);
  });

  it('skips an org at its concurrencyPerOrg cap and gives its turn to the next', () => {
    const q = new MemoryQueue();
    q.add('o1', 5);
    q.add('o2', 5);
    q.add('o3', 5);
    const limits = [cap('a', { concurrencyPerOrg: 1 })];
    const cursor: FairnessCursor = new Map();
    expect(q.claim(cursor, 2, { limits })).toEqual(['o1', 'o2']);
    expect(q.claim(cursor, 5, { limits })).toEqual(['o3']);
    expect(q.claim(cursor, 5, { limits })).toEqual([]);
  });

  it('a fair claim of 16 among 10 orgs costs a handful of lookups, not two per org', () => {
    const q = new MemoryQueue();
    for (let o = 0; o < 10; o++) q.add(`org-${o}`, 100);
    const cursor: FairnessCursor = new Map();
    q.claim(cursor, 16, { types: ['a'] }); // sets the cursor mid-way, so the next claim wraps
    q.lookups = 0;
    const orgs = q.claim(cursor, 16, { types: ['a'] });
    expect(new Set(orgs).size).toBe(10);
    // One "several orgs?" check, the org walk before and after the wrap, and one batched read
    // of the orgs' jobs (the first read gives each org enough for both rounds).
    expect(q.lookups).toBeLessThanOrEqual(5);
  });
});
