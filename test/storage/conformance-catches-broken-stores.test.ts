/**
 * The conformance kit can fail: a real store wrapped in a deliberately broken proxy fails the
 * kit's checks of the rule it breaks, while the same checks pass on the unbroken store. Also:
 * every MUST quoted by the kit's groups is the wording of src/storage/adapter.ts, word for word.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ClaimJobsRequest, InsertJobsRequest, SettleRequest, StorageAdapter } from '../../src/storage/adapter.js';
import { sqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { listConformanceChecks, runConformanceChecks, type CheckResult, type ConformanceCheck } from '../../src/testing/conformance/index.js';

/** A store that ignores priority in claims: it stores every job as `normal`. */
function ignoresPriority(inner: StorageAdapter): StorageAdapter {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'insertJobs') {
        return (req: InsertJobsRequest) => target.insertJobs({ ...req, jobs: req.jobs.map((j) => ({ ...j, priority: 'normal' })) });
      }
      const v: unknown = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A store that accepts a stale attempt's settle: it rewrites every settle to the latest attempt it handed out. */
function acceptsStaleSettles(inner: StorageAdapter): StorageAdapter {
  const latest = new Map<string, number>();
  const fresh = (s: SettleRequest): SettleRequest => ({ ...s, attempt: latest.get(s.jobId) ?? s.attempt });
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'claimJobs') {
        return async (req: ClaimJobsRequest) => {
          const claimed = await target.claimJobs(req);
          for (const c of claimed) latest.set(c.job.id, c.attempt);
          return claimed;
        };
      }
      if (key === 'settleJobs') return (req: { settles: SettleRequest[]; now: number }) => target.settleJobs({ ...req, settles: req.settles.map(fresh) });
      if (key === 'settleAndClaim') return undefined; // keep the broken path the only one
      const v: unknown = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A store that enforces flow control in the engine's process only: its claim drops `limits`. */
function ignoresLimits(inner: StorageAdapter): StorageAdapter {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'claimJobs') return ({ limits: _dropped, ...req }: ClaimJobsRequest) => target.claimJobs(req);
      if (key === 'settleAndClaim') return undefined;
      const v: unknown = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const options = (wrap: (s: StorageAdapter) => StorageAdapter = (s) => s) => ({
  name: 'sqlite :memory:',
  create: async () => wrap(sqliteStorage({ path: ':memory:' })),
});
const titled = (...parts: string[]) => (c: ConformanceCheck) => parts.some((p) => c.fullTitle.includes(p));
const statuses = (rs: CheckResult[]) => Object.fromEntries(rs.map((r) => [r.title, r.status]));
const failed = (rs: CheckResult[]) => rs.filter((r) => r.status === 'failed').map((r) => r.title);

describe('the conformance kit catches broken stores', () => {
  it('a store that ignores priority order in claims fails the claim-order checks (and the real store passes them)', async () => {
    const pick = titled('claims by priority, then runAt, then submission order', 'claims one at a time in the same order and respects limit');
    const real = await runConformanceChecks(options(), pick);
    expect(real).toHaveLength(2);
    expect(real.every((r) => r.status === 'passed'), JSON.stringify(real)).toBe(true);
    const broken = await runConformanceChecks(options(ignoresPriority), pick);
    expect(statuses(broken)).toEqual(Object.fromEntries(real.map((r) => [r.title, 'failed'])));
    for (const title of failed(broken)) expect(title).toContain('MUST: Claims order by priority rank');
  });

  it('a store that accepts a stale attempt\'s settle fails the fencing checks (and the real store passes them)', async () => {
    const pick = titled('writes of a stale attempt are lease_lost and change nothing', 'settles a batch in request order, each fenced on its own');
    const real = await runConformanceChecks(options(), pick);
    expect(real).toHaveLength(2);
    expect(real.every((r) => r.status === 'passed'), JSON.stringify(real)).toBe(true);
    const broken = await runConformanceChecks(options(acceptsStaleSettles), pick);
    expect(statuses(broken)).toEqual(Object.fromEntries(real.map((r) => [r.title, 'failed'])));
    const error = broken.find((r) => r.title.includes('stale attempt'));
    expect(error?.status === 'failed' && String(error.error)).toMatch(/lease_lost/);
  });

  it('a store that ignores the limits in a claim fails the flow-control checks (and the real store passes them)', async () => {
    const pick = (c: ConformanceCheck) => c.fullTitle.startsWith('claimJobs: flow control >');
    const real = await runConformanceChecks(options(), pick);
    expect(real.length).toBeGreaterThanOrEqual(8);
    expect(real.every((r) => r.status === 'passed'), JSON.stringify(real)).toBe(true);
    const broken = await runConformanceChecks(options(ignoresLimits), pick);
    // Every limit check fails; the fairness checks (no limits in them) still pass.
    const limitChecks = real.filter((r) => !r.title.includes("MUST: 'org'")).map((r) => r.title);
    expect(failed(broken).sort()).toEqual(limitChecks.sort());
  });

  it('the whole kit run on the broken stores fails only checks of the rules they break, not everything', async () => {
    const claimGroup = await runConformanceChecks(options(ignoresPriority), (c) => c.fullTitle.startsWith('claimJobs >'));
    expect(failed(claimGroup).length).toBeGreaterThan(0);
    expect(failed(claimGroup).length).toBeLessThan(claimGroup.length);
  });
});

describe('the kit quotes the seam', () => {
  const adapter = readFileSync(new URL('../../src/storage/adapter.ts', import.meta.url), 'utf8').replace(/\n\s*(\*|\/\/)\s*/g, ' ');
  const checks = listConformanceChecks(options());

  it('every check sits in a group whose title is a MUST quoted word for word from src/storage/adapter.ts', () => {
    const musts = new Set<string>();
    for (const c of checks) {
      const must = c.path.find((p) => p.startsWith('MUST: '));
      expect(must, c.fullTitle).toBeDefined();
      musts.add(must!.slice('MUST: '.length));
    }
    const unquoted = [...musts].filter((m) => !adapter.includes(m));
    expect(unquoted).toEqual([]);
  });

  it('every method of StorageAdapter states a MUST', () => {
    const body = readFileSync(new URL('../../src/storage/adapter.ts', import.meta.url), 'utf8');
    const iface = body.slice(body.indexOf('export interface StorageAdapter {'));
    const methods = [...iface.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?\n {2}(\w+)\??\(/g)].map((m) => ({ name: m[2], doc: m[1] ?? '' }));
    expect(methods.length).toBeGreaterThan(20);
    expect(methods.filter((m) => !/MUST/.test(m.doc)).map((m) => m.name)).toEqual([]);
  });
});
