/**
 * THE storage conformance suite, written once and run against every store (SQLite file,
 * SQLite :memory:, Postgres). It uses only the {@link StorageAdapter} contract and branches
 * only on capabilities. Time is the `now` passed in (base {@link T0}); no sleeps, no timings.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/states.js';
import type { Job, JobError } from '../../src/types.js';
import type {
  AttemptOutcome,
  ClaimedJob,
  InsertOutcome,
  ListJobsRequest,
  NewJob,
  SettleOutcome,
  StorageAdapter,
  StorageCapabilities,
  StoreEvent,
} from '../../src/storage/adapter.js';

/** How the suite gets stores. */
export interface StorageFactory {
  /** A fresh, empty store (the suite calls `migrate()` on it). */
  create(): Promise<StorageAdapter>;
  /** Cleans up after a test (the suite has already called `close()`). */
  destroy?(store: StorageAdapter): Promise<void>;
  /**
   * Another adapter on the same database (another connection), for cross-connection checks.
   * Only for multi-process stores. The suite closes it.
   */
  connectPeer?(store: StorageAdapter): Promise<StorageAdapter>;
}

/** Base instant of every test: 2023-11-14T22:13:20Z. */
export const T0 = 1_700_000_000_000;
const LEASE_MS = 30_000;
const ALL_STATUSES: JobStatus[] = ['waiting', 'scheduled', 'queued', 'running', 'retrying', 'completed', 'canceled', 'dead_letter'];

let counter = 0;

/** A valid NewJob (type 'email', org 'acme', owner 'alice', due at T0) with overrides. */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  const input = 'input' in overrides ? overrides.input : { n: ++counter };
  return {
    id: randomUUID(),
    type: 'email',
    orgId: 'acme',
    ownerId: 'alice',
    priority: 'normal',
    maxRetries: 3,
    timeoutMs: 60_000,
    runAt: T0,
    dependsOn: [],
    dedupHash: null,
    dedupWindowMs: 0,
    ...overrides,
    input,
    inputJson: JSON.stringify(input),
  };
}

const completedOutcome = (output: unknown = { ok: true }): AttemptOutcome => ({ kind: 'completed', output, outputJson: JSON.stringify(output) });
const transientError: JobError = { type: 'transient', message: 'boom', name: 'Error' };
const failedOutcome = (retryAt: number | null, error: JobError = transientError): AttemptOutcome => ({ kind: 'failed', error, retryAt });

/**
 * Registers the conformance suite for one store.
 * `caps` must equal the store's `capabilities` (checked by a test); the few cases that a
 * capability makes inapplicable are skipped with the reason in their name.
 */
export function describeStorageConformance(name: string, factory: StorageFactory, caps: Partial<StorageCapabilities> = {}): void {
  const declared: StorageCapabilities = { multiProcess: false, pushWake: false, databaseClock: false, ...caps };
  const dbClockReason = '(skipped: databaseClock stores judge lease expiry by the database clock, not `now`)';

  describe(`storage conformance: ${name}`, () => {
    let store: StorageAdapter;
    const peers: StorageAdapter[] = [];

    beforeEach(async () => {
      store = await factory.create();
      await store.migrate();
    });

    afterEach(async () => {
      for (const p of peers.splice(0)) await p.close();
      await store.close();
      await factory.destroy?.(store);
    });

    // ── helpers (closures over `store`) ──────────────────────────────────────
    async function insert(jobs: NewJob[], opts: { now?: number; atomic?: boolean; actorId?: string; on?: StorageAdapter } = {}): Promise<InsertOutcome[]> {
      return (opts.on ?? store).insertJobs({ jobs, actorId: opts.actorId ?? 'alice', now: opts.now ?? T0, atomic: opts.atomic ?? false });
    }
    async function add(overrides: Partial<NewJob> = {}, now = T0): Promise<Job> {
      const [o] = await insert([newJob(overrides)], { now });
      if (o?.kind !== 'inserted') throw new Error(`expected inserted, got ${JSON.stringify(o)}`);
      return o.job;
    }
    async function claim(opts: { now?: number; limit?: number; types?: string[]; workerId?: string; on?: StorageAdapter } = {}): Promise<ClaimedJob[]> {
      return (opts.on ?? store).claimJobs({
        workerId: opts.workerId ?? 'w1',
        types: opts.types ?? ['email', 'report'],
        limit: opts.limit ?? 10,
        now: opts.now ?? T0,
        leaseMs: LEASE_MS,
      });
    }
    async function claimOne(now = T0, types?: string[]): Promise<ClaimedJob> {
      const [c] = await claim({ now, limit: 1, ...(types ? { types } : {}) });
      if (c === undefined) throw new Error('nothing claimed');
      return c;
    }
    async function settle(
      jobId: string,
      attempt: number,
      outcome: AttemptOutcome,
      now: number,
      extra: { onlyIfLeaseExpired?: boolean; actorId?: string; on?: StorageAdapter } = {},
    ): Promise<SettleOutcome> {
      const [r] = await (extra.on ?? store).settleJobs({
        settles: [{ jobId, attempt, outcome, actorId: extra.actorId ?? 'engine:w1', ...(extra.onlyIfLeaseExpired ? { onlyIfLeaseExpired: true } : {}) }],
        now,
      });
      if (r === undefined) throw new Error('no settle result');
      return r;
    }
    async function get(id: string): Promise<Job> {
      const j = await store.getJob({ id, orgId: null });
      if (j === null) throw new Error(`job ${id} not found`);
      return j;
    }
    async function statusOf(id: string): Promise<JobStatus> {
      return (await get(id)).status;
    }
    async function transitions(id: string): Promise<string[]> {
      return (await store.listHistory({ jobId: id })).map((h) => `${h.from ?? 'null'}>${h.to}`);
    }
    /** A job brought to `status` by contract operations only. */
    async function jobIn(status: JobStatus, overrides: Partial<NewJob> = {}): Promise<Job> {
      switch (status) {
        case 'queued':
          return add(overrides);
        case 'scheduled':
          return add({ runAt: T0 + 3_600_000, ...overrides });
        case 'waiting': {
          const parent = await add({ type: 'report', ...overrides });
          return add({ dependsOn: [parent.id], ...overrides });
        }
        case 'canceled': {
          const j = await add(overrides);
          await store.cancelJob({ jobId: j.id, orgId: null, actorId: 'alice', now: T0 });
          return get(j.id);
        }
        default: {
          const j = await add({ type: 'solo', ...overrides });
          const [c] = await claim({ types: [j.type], limit: 1 });
          if (c?.job.id !== j.id) throw new Error('could not claim the fresh job');
          if (status === 'running') return c.job;
          const outcome =
            status === 'completed' ? completedOutcome() : status === 'retrying' ? failedOutcome(T0 + 60_000) : failedOutcome(null);
          const r = await settle(j.id, c.attempt, outcome, T0 + 10);
          if (r.kind !== 'settled') throw new Error('could not settle');
          return r.job;
        }
      }
    }
    async function peer(): Promise<StorageAdapter | null> {
      if (!factory.connectPeer) return null;
      const p = await factory.connectPeer(store);
      peers.push(p);
      return p;
    }

    // ── capabilities and schema ──────────────────────────────────────────────
    describe('capabilities and schema', () => {
      it('reports the capabilities the suite was told about', () => {
        expect(store.capabilities).toEqual(declared);
      });

      it('migrate() is idempotent', async () => {
        await store.migrate();
        await store.migrate();
        await add();
        await store.migrate();
        expect((await store.listJobs(listAll())).items).toHaveLength(1);
      });
    });

    // ── insertJobs ───────────────────────────────────────────────────────────
    describe('insertJobs', () => {
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

      describe('dedup', () => {
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

      describe('atomic batches', () => {
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

    // ── dependencies ─────────────────────────────────────────────────────────
    describe('dependencies', () => {
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

    // ── claims ───────────────────────────────────────────────────────────────
    describe('claimJobs', () => {
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

      it('sets running, attempt, startedAt, and a history entry by engine:<workerId>', async () => {
        const j = await add();
        const [c] = await claim({ now: T0 + 10, workerId: 'w-7' });
        expect(c?.attempt).toBe(1);
        expect(c?.job).toMatchObject({ id: j.id, status: 'running', startedAt: new Date(T0 + 10), updatedAt: new Date(T0 + 10) });
        expect(await get(j.id)).toEqual(c?.job);
        const h = await store.listHistory({ jobId: j.id });
        expect(h[1]).toEqual({ jobId: j.id, at: new Date(T0 + 10), from: 'queued', to: 'running', attempt: 1, actorId: 'engine:w-7', message: null, error: null });
      });

      it('claims only the given types', async () => {
        const email = await add({ type: 'email' });
        const other = await add({ type: 'other' });
        expect(await claim({ types: [] })).toEqual([]);
        expect((await claim({ types: ['email'] })).map((c) => c.job.id)).toEqual([email.id]);
        expect(await claim({ types: ['email'] })).toEqual([]);
        expect(await statusOf(other.id)).toBe('queued');
        expect((await claim({ types: ['nope', 'other'] })).map((c) => c.job.id)).toEqual([other.id]);
      });

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

    // ── settle ───────────────────────────────────────────────────────────────
    describe('settleJobs', () => {
      it('completed: output, completedAt, lease gone, progress kept, one history entry', async () => {
        const j = await add();
        const c = await claimOne();
        expect(await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 40, message: 'rendering', now: T0 + 5 })).toBe('ok');
        const r = await settle(j.id, c.attempt, completedOutcome({ url: 'x' }), T0 + 50, { actorId: 'engine:w9' });
        expect(r.kind).toBe('settled');
        if (r.kind !== 'settled') return;
        expect(r.transitions).toBe(1);
        expect(r.job).toMatchObject({ status: 'completed', output: { url: 'x' }, completedAt: new Date(T0 + 50), progress: 40, progressMessage: 'rendering' });
        expect(await get(j.id)).toEqual(r.job);
        const h = await store.listHistory({ jobId: j.id });
        expect(h.at(-1)).toEqual({ jobId: j.id, at: new Date(T0 + 50), from: 'running', to: 'completed', attempt: 1, actorId: 'engine:w9', message: null, error: null });
        expect((await store.renewLeases({ workerId: 'w1', leases: [{ jobId: j.id, attempt: 1 }], now: T0 + 60, leaseMs: LEASE_MS })).lost).toEqual([j.id]);
      });

      it('failed with retryAt: retrying, retryCount + 1, nextRetryAt = runAt = retryAt, error', async () => {
        const j = await add();
        const c = await claimOne();
        const r = await settle(j.id, c.attempt, failedOutcome(T0 + 9000), T0 + 50);
        expect(r.kind === 'settled' && r.job).toMatchObject({
          status: 'retrying',
          retryCount: 1,
          nextRetryAt: new Date(T0 + 9000),
          runAt: new Date(T0 + 9000),
          error: transientError,
        });
        const h = await store.listHistory({ jobId: j.id });
        expect(h.at(-1)).toMatchObject({ from: 'running', to: 'retrying', attempt: 1, error: transientError });
      });

      it('failed without retryAt: dead_letter with completedAt and error', async () => {
        const j = await add();
        const c = await claimOne();
        const err: JobError = { type: 'permanent', message: 'nope' };
        const r = await settle(j.id, c.attempt, failedOutcome(null, err), T0 + 50);
        expect(r.kind === 'settled' && r.job).toMatchObject({ status: 'dead_letter', completedAt: new Date(T0 + 50), error: err, retryCount: 0 });
        expect(await transitions(j.id)).toEqual(['null>queued', 'queued>running', 'running>dead_letter']);
      });

      it('released: back to queued, retryCount unchanged, message recorded; next claim is attempt 2', async () => {
        const j = await add();
        const c = await claimOne();
        const r = await settle(j.id, c.attempt, { kind: 'released', message: 'shutdown' }, T0 + 50);
        expect(r.kind === 'settled' && r.job).toMatchObject({ status: 'queued', retryCount: 0 });
        expect((await store.listHistory({ jobId: j.id })).at(-1)).toMatchObject({ from: 'running', to: 'queued', message: 'shutdown', attempt: 1 });
        const c2 = await claimOne(T0 + 60);
        expect(c2.job.id).toBe(j.id);
        expect(c2.attempt).toBe(2);
      });

      // ── snooze (issue 11) ──
      it('snoozed: running → scheduled at runAt, retryCount, checkpoint and progress kept, one history entry', async () => {
        const j = await add({ maxRetries: 1 });
        const c = await claimOne();
        expect(await store.saveCheckpoint({ jobId: j.id, attempt: c.attempt, checkpointJson: '{"page":4}', now: T0 + 10 })).toBe('ok');
        const r = await settle(j.id, c.attempt, { kind: 'snoozed', runAt: T0 + 5_000, message: 'Retry-After' }, T0 + 50);
        expect(r.kind === 'settled' && r.job).toMatchObject({ status: 'scheduled', runAt: new Date(T0 + 5_000), retryCount: 0, nextRetryAt: null, checkpoint: { page: 4 } });
        expect(await transitions(j.id)).toEqual(['null>queued', 'queued>running', 'running>scheduled']);
        expect((await store.listHistory({ jobId: j.id })).at(-1)).toMatchObject({ from: 'running', to: 'scheduled', attempt: 1, message: 'Retry-After', error: null });
        expect(await store.nextDueAt()).toBe(T0 + 5_000);
        expect(await claim({ now: T0 + 4_999 })).toEqual([]);
        const c2 = await claimOne(T0 + 5_000);
        expect(c2).toMatchObject({ attempt: 2, job: { id: j.id, retryCount: 0, checkpoint: { page: 4 } } });
        // A second settle of the snoozed attempt is fenced off.
        expect((await settle(j.id, c.attempt, { kind: 'snoozed', runAt: T0, message: 'late' }, T0 + 5_001)).kind).toBe('lease_lost');
      });

      it('snoozed with runAt <= now is still scheduled, and settleAndClaim (optional) claims it in the same call', async () => {
        const j = await add();
        const c = await claimOne();
        if (!store.settleAndClaim) {
          const r = await settle(j.id, c.attempt, { kind: 'snoozed', runAt: T0 + 10, message: 'now' }, T0 + 10);
          expect(r.kind === 'settled' && r.job.status).toBe('scheduled');
          expect((await claimOne(T0 + 10)).job.id).toBe(j.id);
          return;
        }
        const out = await store.settleAndClaim({
          settles: [{ jobId: j.id, attempt: c.attempt, outcome: { kind: 'snoozed', runAt: T0 + 10, message: 'now' }, actorId: 'engine:w1' }],
          claim: { workerId: 'w1', types: ['email'], limit: 5, now: T0 + 10, leaseMs: LEASE_MS },
        });
        expect(out.settled[0]).toMatchObject({ kind: 'settled', job: { status: 'scheduled' } });
        expect(out.claimed.map((x) => [x.job.id, x.attempt])).toEqual([[j.id, 2]]);
        expect(await transitions(j.id)).toEqual(['null>queued', 'queued>running', 'running>scheduled', 'scheduled>queued', 'queued>running']);
      });

      // ── schedules (issue 11) ──
      it('schedules (optional seam): cursor only moves forward, last run only to a later one; re-enable resets the cursor; audited', async ({ skip }) => {
        if (!store.loadSchedules || !store.advanceSchedule || !store.updateSchedule || !store.listScheduleAudit) return skip('store has no schedule methods');
        expect(await store.loadSchedules()).toEqual([]);
        await store.advanceSchedule({ name: 'n', cursorAt: T0 + 100, lastRunAt: T0 + 100, lastJobId: 'j2', now: T0 + 100 });
        await store.advanceSchedule({ name: 'n', cursorAt: T0 + 50, lastRunAt: T0 + 50, lastJobId: 'j1', now: T0 + 101 }); // a late writer
        expect(await store.loadSchedules()).toEqual([{ name: 'n', enabled: null, cursorAt: T0 + 100, lastRunAt: T0 + 100, lastJobId: 'j2' }]);
        await store.advanceSchedule({ name: 'n', cursorAt: T0 + 200, lastRunAt: null, lastJobId: null, now: T0 + 200 });
        expect((await store.loadSchedules())[0]).toMatchObject({ cursorAt: T0 + 200, lastRunAt: T0 + 100, lastJobId: 'j2' });
        await store.updateSchedule({ name: 'n', enabled: false, actorId: 'root', now: T0 + 300 });
        expect((await store.loadSchedules())[0]).toMatchObject({ enabled: false, cursorAt: T0 + 200 });
        await store.updateSchedule({ name: 'n', enabled: true, actorId: 'root', now: T0 + 900 });
        expect((await store.loadSchedules())[0]).toMatchObject({ enabled: true, cursorAt: T0 + 900 });
        await store.updateSchedule({ name: 'n', enabled: true, actorId: 'root', now: T0 + 950 }); // already enabled: cursor kept
        expect((await store.loadSchedules())[0]).toMatchObject({ cursorAt: T0 + 900 });
        const audit = await store.listScheduleAudit({ name: 'n' });
        expect(audit.map((a) => [a.actorId, a.changes, a.at.getTime()])).toEqual([
          ['root', { enabled: false }, T0 + 300],
          ['root', { enabled: true }, T0 + 900],
          ['root', { enabled: true }, T0 + 950],
        ]);
      });

      it('settles a batch in request order, each fenced on its own', async () => {
        const a = await add();
        const b = await add();
        const [ca, cb] = await claim();
        if (!ca || !cb) throw new Error('claim');
        const out = await store.settleJobs({
          now: T0 + 5,
          settles: [
            { jobId: a.id, attempt: ca.attempt, outcome: completedOutcome(), actorId: 'engine:w1' },
            { jobId: b.id, attempt: cb.attempt + 1, outcome: completedOutcome(), actorId: 'engine:w1' },
            { jobId: b.id, attempt: cb.attempt, outcome: failedOutcome(null), actorId: 'engine:w1' },
            { jobId: a.id, attempt: ca.attempt, outcome: failedOutcome(null), actorId: 'engine:w1' },
          ],
        });
        expect(out.map((o) => (o.kind === 'settled' ? o.job.status : o.kind))).toEqual(['completed', 'lease_lost', 'dead_letter', 'lease_lost']);
      });

      it('settleAndClaim (optional): settles, then claims what is due, with the semantics of the two calls', async ({ skip }) => {
        if (!store.settleAndClaim) return skip('store has no settleAndClaim fast path');
        const parent = await add({ type: 'report' });
        const child = await add({ dependsOn: [parent.id] });
        const low = await add({ priority: 'low' });
        const c = await claimOne(T0, ['report']);
        const now = T0 + 100;
        const r = await store.settleAndClaim({
          settles: [
            { jobId: parent.id, attempt: c.attempt, outcome: completedOutcome(), actorId: 'engine:w1' },
            { jobId: low.id, attempt: 1, outcome: completedOutcome(), actorId: 'engine:w1' },
          ],
          claim: { workerId: 'w2', types: ['email'], limit: 5, now, leaseMs: LEASE_MS },
        });
        expect(r.settled.map((s) => (s.kind === 'settled' ? [s.job.status, s.transitions] : s.kind))).toEqual([['completed', 2], 'lease_lost']);
        // The child released by the settle is claimable in the same call, in claim order.
        expect(r.claimed.map((x) => [x.job.id, x.attempt])).toEqual([
          [child.id, 1],
          [low.id, 1],
        ]);
        expect(await transitions(child.id)).toEqual(['null>waiting', 'waiting>queued', 'queued>running']);
        expect((await store.listHistory({ jobId: parent.id })).at(-1)).toMatchObject({ to: 'completed', at: new Date(now) });
      });

      it('settle of a job that is not running is lease_lost', async () => {
        const j = await add();
        expect(await settle(j.id, 0, completedOutcome(), T0)).toEqual({ kind: 'lease_lost' });
        expect(await settle('no-such-job', 1, completedOutcome(), T0)).toEqual({ kind: 'lease_lost' });
        expect(await statusOf(j.id)).toBe('queued');
      });
    });

    // ── fencing ──────────────────────────────────────────────────────────────
    describe('fencing', () => {
      it('writes of a stale attempt are lease_lost and change nothing', async () => {
        const j = await add();
        const c1 = await claimOne();
        await settle(j.id, c1.attempt, failedOutcome(T0 + 100), T0 + 10);
        const c2 = await claimOne(T0 + 100);
        expect(c2.attempt).toBe(c1.attempt + 1);
        const before = await get(j.id);
        const historyBefore = await store.listHistory({ jobId: j.id });
        const cursor = (await store.readEvents({ after: null, limit: 10 })).cursor;

        expect(await store.recordProgress({ jobId: j.id, attempt: c1.attempt, progress: 99, message: 'late', now: T0 + 200 })).toBe('lease_lost');
        expect(await store.saveCheckpoint({ jobId: j.id, attempt: c1.attempt, checkpointJson: '{"page":9}', now: T0 + 200 })).toBe('lease_lost');
        expect(await settle(j.id, c1.attempt, completedOutcome('late'), T0 + 200)).toEqual({ kind: 'lease_lost' });
        const renew = await store.renewLeases({ workerId: 'w1', leases: [{ jobId: j.id, attempt: c1.attempt }], now: T0 + 200, leaseMs: LEASE_MS });
        expect(renew).toEqual({ renewed: [], canceled: [], lost: [j.id] });

        expect(await get(j.id)).toEqual(before);
        expect(await store.listHistory({ jobId: j.id })).toEqual(historyBefore);
        expect((await store.readEvents({ after: cursor, limit: 10 })).events).toEqual([]);
      });

      it('progress and checkpoint of the current attempt are stored', async () => {
        const j = await add();
        const c = await claimOne();
        expect(await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 12.5, message: null, now: T0 + 1 })).toBe('ok');
        expect(await store.saveCheckpoint({ jobId: j.id, attempt: c.attempt, checkpointJson: '{"page":3}', now: T0 + 2 })).toBe('ok');
        expect(await get(j.id)).toMatchObject({ progress: 12.5, progressMessage: null, checkpoint: { page: 3 }, status: 'running' });
        // The checkpoint survives into the next attempt.
        await settle(j.id, c.attempt, failedOutcome(T0 + 10), T0 + 3);
        const c2 = await claimOne(T0 + 10);
        expect(c2.job.checkpoint).toEqual({ page: 3 });
      });

      it('writes to a job that is not running are lease_lost', async () => {
        const j = await add();
        expect(await store.recordProgress({ jobId: j.id, attempt: 0, progress: 1, message: null, now: T0 })).toBe('lease_lost');
        expect(await store.saveCheckpoint({ jobId: j.id, attempt: 0, checkpointJson: '1', now: T0 })).toBe('lease_lost');
        expect((await get(j.id)).checkpoint).toBeNull();
      });
    });

    // ── leases ───────────────────────────────────────────────────────────────
    describe('leases', () => {
      it('renewLeases reports renewed, canceled and lost', async () => {
        const a = await add();
        const b = await add();
        const [ca, cb] = await claim();
        if (!ca || !cb) throw new Error('claim');
        await store.cancelJob({ jobId: b.id, orgId: null, actorId: 'alice', now: T0 + 1 });
        const res = await store.renewLeases({
          workerId: 'w1',
          leases: [
            { jobId: a.id, attempt: ca.attempt },
            { jobId: b.id, attempt: cb.attempt },
            { jobId: 'ghost', attempt: 1 },
          ],
          now: T0 + 10,
          leaseMs: LEASE_MS,
        });
        expect(res).toEqual({ renewed: [a.id], canceled: [b.id], lost: ['ghost'] });
        // A canceled running job stays canceled: its worker's late settle is refused.
        expect(await settle(b.id, cb.attempt, completedOutcome(), T0 + 20)).toEqual({ kind: 'lease_lost' });
        expect(await statusOf(b.id)).toBe('canceled');
      });

      it('a job canceled after its attempt ended is lost, not canceled, to that attempt', async () => {
        const j = await add();
        const c = await claimOne();
        await settle(j.id, c.attempt, failedOutcome(T0 + 100), T0 + 1);
        await store.cancelJob({ jobId: j.id, orgId: null, actorId: 'alice', now: T0 + 2 });
        const res = await store.renewLeases({ workerId: 'w1', leases: [{ jobId: j.id, attempt: c.attempt }], now: T0 + 3, leaseMs: LEASE_MS });
        expect(res).toEqual({ renewed: [], canceled: [], lost: [j.id] });
      });

      it.skipIf(declared.databaseClock)(`findExpiredLeases returns expired running attempts, oldest first ${declared.databaseClock ? dbClockReason : ''}`, async () => {
        const a = await add();
        const b = await add();
        const c = await add();
        const ca = await claimOne(T0);
        const cb = await claimOne(T0 + 10);
        const cc = await claimOne(T0 + 20);
        await store.renewLeases({ workerId: 'w1', leases: [{ jobId: a.id, attempt: ca.attempt }], now: T0 + 30, leaseMs: LEASE_MS });
        expect(cb.job.id).toBe(b.id);
        expect(await store.findExpiredLeases({ now: T0 + 10 + LEASE_MS, limit: 10 })).toEqual([]);
        const found = await store.findExpiredLeases({ now: T0 + 20 + LEASE_MS + 1, limit: 10 });
        expect(found.map((f) => [f.job.id, f.attempt])).toEqual([
          [b.id, cb.attempt],
          [c.id, cc.attempt],
        ]);
        expect(found[0]?.job.status).toBe('running');
        expect(await store.findExpiredLeases({ now: T0 + 10 * LEASE_MS, limit: 2 })).toHaveLength(2);
        expect((await store.findExpiredLeases({ now: T0 + 10 * LEASE_MS, limit: 10 })).map((f) => f.job.id)).toEqual([b.id, c.id, a.id]);
      });

      it.skipIf(declared.databaseClock)(`onlyIfLeaseExpired refuses while the lease is valid ${declared.databaseClock ? dbClockReason : ''}`, async () => {
        const j = await add();
        const c = await claimOne(T0);
        const lost: JobError = { type: 'worker_lost', message: 'lease expired' };
        expect(await settle(j.id, c.attempt, failedOutcome(T0 + LEASE_MS + 100, lost), T0 + LEASE_MS - 1, { onlyIfLeaseExpired: true })).toEqual({
          kind: 'lease_lost',
        });
        expect(await statusOf(j.id)).toBe('running');
        const r = await settle(j.id, c.attempt, failedOutcome(T0 + LEASE_MS + 100, lost), T0 + LEASE_MS + 1, { onlyIfLeaseExpired: true, actorId: 'system' });
        expect(r.kind === 'settled' && r.job.status).toBe('retrying');
        expect((await get(j.id)).error).toEqual(lost);
      });

      it('R8: rescuer and worker settling one attempt yield exactly one terminal transition', async () => {
        const other = await peer();
        for (const order of ['worker-first', 'rescuer-first', 'same-batch'] as const) {
          const j = await add({ type: 'report' });
          const c = await claimOne(T0, ['report']);
          const late = T0 + LEASE_MS + 1_000;
          const worker = { jobId: j.id, attempt: c.attempt, outcome: completedOutcome(), actorId: 'engine:w1' };
          const rescuer = {
            jobId: j.id,
            attempt: c.attempt,
            outcome: failedOutcome(null, { type: 'worker_lost', message: 'lease expired' }),
            actorId: 'system',
            onlyIfLeaseExpired: true,
          };
          let results: SettleOutcome[];
          if (order === 'same-batch') {
            results = await store.settleJobs({ settles: [rescuer, worker], now: late });
          } else {
            const first = order === 'worker-first' ? worker : rescuer;
            const second = order === 'worker-first' ? rescuer : worker;
            const [r1, r2] = await Promise.all([
              store.settleJobs({ settles: [first], now: late }),
              (other ?? store).settleJobs({ settles: [second], now: late }),
            ]);
            results = [...r1!, ...r2!];
          }
          expect(results.filter((r) => r.kind === 'settled')).toHaveLength(1);
          expect(results.filter((r) => r.kind === 'lease_lost')).toHaveLength(1);
          const terminal = (await store.listHistory({ jobId: j.id })).filter((h) => h.from === 'running');
          expect(terminal).toHaveLength(1);
          const winner = results.find((r) => r.kind === 'settled');
          expect(winner?.kind === 'settled' && winner.job.status).toBe(await statusOf(j.id));
        }
      });
    });

    // ── cancel ───────────────────────────────────────────────────────────────
    describe('cancelJob', () => {
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

      it('is org-scoped: another org’s job is not_found and unchanged; an admin (orgId null) may cancel it', async () => {
        const j = await add({ orgId: 'globex' });
        expect(await store.cancelJob({ jobId: j.id, orgId: 'acme', actorId: 'mallory', now: T0 + 1 })).toEqual({ kind: 'not_found' });
        expect(await get(j.id)).toEqual(j);
        expect(await transitions(j.id)).toEqual(['null>queued']);
        expect(await store.cancelJob({ jobId: 'nope', orgId: null, actorId: 'root', now: T0 + 1 })).toEqual({ kind: 'not_found' });
        expect((await store.cancelJob({ jobId: j.id, orgId: null, actorId: 'root', now: T0 + 2 })).kind).toBe('canceled');
      });
    });

    // ── retry ────────────────────────────────────────────────────────────────
    describe('retryJob', () => {
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

      it('is not_found for unknown ids and other orgs', async () => {
        const j = await jobIn('dead_letter', { orgId: 'globex' });
        expect(await store.retryJob({ jobId: 'nope', orgId: null, actorId: 'root', now: T0 })).toEqual({ kind: 'not_found' });
        expect(await store.retryJob({ jobId: j.id, orgId: 'acme', actorId: 'root', now: T0 })).toEqual({ kind: 'not_found' });
        expect(await statusOf(j.id)).toBe('dead_letter');
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

    // ── history ──────────────────────────────────────────────────────────────
    describe('history', () => {
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

      it('is empty for an unknown job', async () => {
        expect(await store.listHistory({ jobId: 'nope' })).toEqual([]);
      });
    });

    // ── list ─────────────────────────────────────────────────────────────────
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

      it('orders jobs created at the same instant by submission order, newest first', async () => {
        const out = await insert([newJob(), newJob(), newJob()], { now: T0 });
        const inserted = out.map((o) => (o.kind === 'inserted' ? o.job.id : ''));
        expect(ids(await store.listJobs(listAll()))).toEqual([...inserted].reverse());
      });

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

      it('rejects a malformed cursor with a validation error naming cursor', async () => {
        for (const cursor of ['%%%', 'bm90IGpzb24', Buffer.from('{"x":1}').toString('base64url')]) {
          await expect(store.listJobs(listAll({ cursor }))).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: ['cursor'] })] });
        }
      });
    });

    // ── metrics ──────────────────────────────────────────────────────────────
    describe('collectMetrics', () => {
      /** Runs one job of `type` from T0+at for durationMs; ends completed or dead_letter. */
      async function run(type: string, at: number, durationMs: number, ok = true, orgId = 'acme'): Promise<void> {
        const j = await add({ type, orgId, runAt: T0 + at }, T0 + at);
        const [c] = await claim({ now: T0 + at, types: [type], limit: 1 });
        if (c?.job.id !== j.id) throw new Error('claimed something else');
        await settle(j.id, c.attempt, ok ? completedOutcome() : failedOutcome(null), T0 + at + durationMs);
      }

      it('reports zeros for every key on an empty store', async () => {
        const m = await store.collectMetrics({ orgId: null, since: T0, now: T0 });
        expect(m).toEqual({
          countsByStatus: Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])),
          queueDepthByPriority: { critical: 0, high: 0, normal: 0, low: 0 },
          processingTime: { count: 0, avgMs: 0, p95Ms: 0 },
          processingTimeByType: {},
          failureRateByType: {},
          oldestQueuedAgeMs: null,
        });
      });

      it('computes counts, queue depth, processing times (nearest-rank p95) and failure rates', async () => {
        for (let i = 1; i <= 20; i++) await run('email', i * 1000, i * 10); // 10..200 ms
        for (const d of [100, 200, 300]) await run('report', 50_000 + d, d);
        for (let i = 0; i < 5; i++) await run('email', 60_000 + i, 1, false);
        await run('email', -500_000, 7); // completed before `since`: not in the window
        await run('report', -500_000, 7, false);
        await run('email', 70_000, 5_000, true, 'globex');
        await add({ priority: 'high', runAt: T0 - 5000 }, T0 + 80_000);
        await add({ priority: 'high' }, T0 + 80_000);
        await add({ priority: 'low' }, T0 + 80_000);
        await add({ runAt: T0 + 10_000_000 }, T0 + 80_000);
        await jobIn('running', { orgId: 'acme' });

        const m = await store.collectMetrics({ orgId: 'acme', since: T0, now: T0 + 100_000 });
        expect(m.countsByStatus).toEqual({ waiting: 0, scheduled: 1, queued: 3, running: 1, retrying: 0, completed: 24, canceled: 0, dead_letter: 6 });
        expect(m.queueDepthByPriority).toEqual({ critical: 0, high: 2, normal: 0, low: 1 });
        expect(m.oldestQueuedAgeMs).toBe(105_000);
        expect(m.processingTimeByType['email']).toEqual({ count: 20, avgMs: 105, p95Ms: 190 });
        expect(m.processingTimeByType['report']).toEqual({ count: 3, avgMs: 200, p95Ms: 300 });
        expect(m.processingTime.count).toBe(23);
        expect(m.processingTime.avgMs).toBeCloseTo((2100 + 600) / 23, 6);
        expect(m.processingTime.p95Ms).toBe(200); // rank ceil(0.95 * 23) = 22 of [10..200 ∪ 100,200,300]
        expect(m.failureRateByType['email']).toEqual({ completed: 20, failed: 5, rate: 0.2 });
        expect(m.failureRateByType['report']).toEqual({ completed: 3, failed: 0, rate: 0 });

        const all = await store.collectMetrics({ orgId: null, since: T0, now: T0 + 100_000 });
        expect(all.countsByStatus.completed).toBe(25);
        expect(all.processingTimeByType['email']?.count).toBe(21);
        expect(all.processingTimeByType['email']?.p95Ms).toBe(200); // rank ceil(0.95 * 21) = 20: not the 5000 ms maximum

        const globex = await store.collectMetrics({ orgId: 'globex', since: T0, now: T0 + 100_000 });
        expect(globex.countsByStatus.completed).toBe(1);
        expect(globex.oldestQueuedAgeMs).toBeNull();
        expect(globex.failureRateByType).toEqual({ email: { completed: 1, failed: 0, rate: 0 } });
      });
    });

    // ── prune ────────────────────────────────────────────────────────────────
    describe('pruneJobs', () => {
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

    // ── delete one job ───────────────────────────────────────────────────────
    describe('deleteJob', () => {
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

      it('is org-scoped: another org\'s job is not found and stays', async () => {
        const j = await jobIn('completed');
        expect(await store.deleteJob({ jobId: j.id, orgId: 'globex' })).toEqual({ kind: 'not_found' });
        expect(await statusOf(j.id)).toBe('completed');
        expect(await store.deleteJob({ jobId: j.id, orgId: 'acme' })).toEqual({ kind: 'deleted' });
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

    // ── events ───────────────────────────────────────────────────────────────
    describe('readEvents', () => {
      it('starts at the end with after: null, then tails status and progress events in order', async () => {
        await add(); // before the start: never reported
        const start = await store.readEvents({ after: null, limit: 100 });
        expect(start.events).toEqual([]);
        expect((await store.readEvents({ after: start.cursor, limit: 100 })).events).toEqual([]);

        const j = await add({ type: 'report', ownerId: 'bob' }, T0 + 1);
        const c = await claimOne(T0 + 2, ['report']);
        await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 50, message: 'half', now: T0 + 3 });
        await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: 80, message: null, now: T0 + 4 });
        await settle(j.id, c.attempt, completedOutcome(), T0 + 5);

        const r = await store.readEvents({ after: start.cursor, limit: 100 });
        const base = { jobId: j.id, type: 'report', orgId: 'acme', ownerId: 'bob' };
        expect(r.events).toEqual<StoreEvent[]>([
          { kind: 'status', event: { ...base, from: null, to: 'queued', at: new Date(T0 + 1), attempt: 0, error: null } },
          { kind: 'status', event: { ...base, from: 'queued', to: 'running', at: new Date(T0 + 2), attempt: 1, error: null } },
          { kind: 'progress', event: { ...base, progress: 50, message: 'half', at: new Date(T0 + 3) } },
          { kind: 'progress', event: { ...base, progress: 80, message: null, at: new Date(T0 + 4) } },
          { kind: 'status', event: { ...base, from: 'running', to: 'completed', at: new Date(T0 + 5), attempt: 1, error: null } },
        ]);
        expect((await store.readEvents({ after: r.cursor, limit: 100 })).events).toEqual([]);
      });

      it('pages with limit without losing or repeating events', async () => {
        const start = await store.readEvents({ after: null, limit: 1 });
        const j = await add();
        const c = await claimOne(T0 + 1);
        for (let i = 1; i <= 4; i++) await store.recordProgress({ jobId: j.id, attempt: c.attempt, progress: i * 20, message: null, now: T0 + 1 + i });
        await settle(j.id, c.attempt, failedOutcome(T0 + 100), T0 + 10);
        const seen: string[] = [];
        let cursor = start.cursor;
        for (let i = 0; i < 20; i++) {
          const page = await store.readEvents({ after: cursor, limit: 2 });
          expect(page.events.length).toBeLessThanOrEqual(2);
          cursor = page.cursor;
          if (page.events.length === 0) break;
          for (const e of page.events) seen.push(e.kind === 'status' ? `${e.event.from}>${e.event.to}` : `p${e.event.progress}`);
        }
        expect(seen).toEqual(['null>queued', 'queued>running', 'p20', 'p40', 'p60', 'p80', 'running>retrying']);
      });

      it('sees events committed through another connection', async ({ skip }) => {
        const other = await peer();
        if (other === null) return skip('no second connection (factory.connectPeer not provided)');
        const start = await other.readEvents({ after: null, limit: 10 });
        const j = await add();
        const r = await other.readEvents({ after: start.cursor, limit: 10 });
        expect(r.events).toEqual([{ kind: 'status', event: expect.objectContaining({ jobId: j.id, to: 'queued' }) }]);
      });
    });

    // ── job types ────────────────────────────────────────────────────────────
    describe('job type settings', () => {
      it('merges changes per type and keeps an audit trail, oldest first', async () => {
        expect(await store.loadJobTypeSettings()).toEqual({});
        await store.updateJobTypeSettings({ name: 'email', changes: { enabled: false }, actorId: 'root', now: T0 });
        await store.updateJobTypeSettings({ name: 'email', changes: { priority: 'high', requiresPermission: null }, actorId: 'ops', now: T0 + 1 });
        await store.updateJobTypeSettings({ name: 'email', changes: { enabled: true }, actorId: 'root', now: T0 + 2 });
        await store.updateJobTypeSettings({ name: 'report', changes: { maxRetries: 9 }, actorId: 'root', now: T0 + 3 });
        expect(await store.loadJobTypeSettings()).toEqual({
          email: { enabled: true, priority: 'high', requiresPermission: null },
          report: { maxRetries: 9 },
        });
        expect(await store.listJobTypeAudit({ name: 'email' })).toEqual([
          { name: 'email', actorId: 'root', at: new Date(T0), changes: { enabled: false } },
          { name: 'email', actorId: 'ops', at: new Date(T0 + 1), changes: { priority: 'high', requiresPermission: null } },
          { name: 'email', actorId: 'root', at: new Date(T0 + 2), changes: { enabled: true } },
        ]);
        expect(await store.listJobTypeAudit({ name: 'nope' })).toEqual([]);
      });
    });

    // ── leadership ───────────────────────────────────────────────────────────
    describe('acquireLeadership', () => {
      it('is exclusive until expiry, renewable by its holder, and per name', async () => {
        const lead = (ownerId: string, now: number, name = 'maintenance') => store.acquireLeadership({ name, ownerId, now, ttlMs: 1000 });
        expect(await lead('a', T0)).toBe(true);
        expect(await lead('b', T0 + 1)).toBe(false);
        expect(await lead('a', T0 + 500)).toBe(true); // renews until T0 + 1500
        expect(await lead('b', T0 + 1499)).toBe(false);
        expect(await lead('b', T0 + 1, 'other-lease')).toBe(true);
        expect(await lead('b', T0 + 1500)).toBe(true);
        expect(await lead('a', T0 + 1501)).toBe(false);
      });

      it('two connections racing for a free lease: exactly one wins', async ({ skip }) => {
        const other = await peer();
        if (other === null) return skip('no second connection (factory.connectPeer not provided)');
        const results = await Promise.all([
          store.acquireLeadership({ name: 'm', ownerId: 'a', now: T0, ttlMs: 1000 }),
          other.acquireLeadership({ name: 'm', ownerId: 'b', now: T0, ttlMs: 1000 }),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });
  });
}

/** A ListJobsRequest matching everything, with overrides. */
function listAll(o: Partial<ListJobsRequest> = {}): ListJobsRequest {
  return { orgId: null, statuses: null, types: null, ownerId: null, createdAfter: null, createdBefore: null, limit: 50, cursor: null, ...o };
}
