/**
 * The storage conformance suite against Postgres, plus what only Postgres has: options and
 * the optional `pg` import, pool ownership, the database clock (R20), the event tail under
 * concurrent transactions, LISTEN/NOTIFY with reconnect, cross-connection races on dedup and
 * dependencies, and connection errors. Needs JOBWING_TEST_PG_URL; without it the database
 * tests are skipped, saying so. This file works in its own schema, dropped at the end.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JobwingError, ValidationError } from '../../src/index.js';
import { postgresStorage, type PostgresStorageAdapter } from '../../src/postgres.js';
import type { NewJob, StorageAdapter, StoreEvent } from '../../src/storage/adapter.js';
import { describeStorageConformance, newJob, T0 } from '../../src/testing/conformance/index.js';

const url = process.env.JOBWING_TEST_PG_URL || undefined;
const SKIP = url ? '' : ' (skipped: set JOBWING_TEST_PG_URL, e.g. postgres://postgres@127.0.0.1:5432/test)';
if (!url) console.warn('[jobwing] Postgres store tests SKIPPED: set JOBWING_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them.');

const schema = `jobwing_test_${randomBytes(5).toString('hex')}`;
let admin: pg.Pool | null = null;
const adminPool = () => (admin ??= new pg.Pool({ connectionString: url, max: 3 }));

afterAll(async () => {
  if (!url) return;
  await adminPool().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin?.end();
});

/**
 * Empties every table the migrations made but their own record, so a table added by a later
 * migration (the start log, schedules) cannot carry rows from one check into the next.
 * DELETE, not TRUNCATE: on tables this small it avoids new relation files (and fsyncs).
 */
async function wipe(): Promise<void> {
  const tables = await adminPool().query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'jobwing_migrations'`, [schema]);
  await adminPool().query(tables.rows.map((t) => `DELETE FROM "${schema}"."${t.tablename}"`).join('; '));
}

const open = (extra: Partial<Parameters<typeof postgresStorage>[0]> = {}) => postgresStorage({ connectionString: url!, schema, poolSize: 4, ...extra });

describe.skipIf(!url)(`postgres store${SKIP}`, () => {
  describeStorageConformance({
    name: `postgres (schema ${schema})`,
    async create() {
      return open();
    },
    destroy: wipe,
    async connectPeer() {
      return open();
    },
    capabilities: { multiProcess: true, pushWake: true, databaseClock: true },
  });
});

describe('postgresStorage options (no database needed)', () => {
  const issuesOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).issues.map((i) => i.path.join('.'));
    }
    throw new Error('expected a ValidationError');
  };

  it('rejects bad options naming them, and accepts a valid one without connecting', () => {
    const conn = 'postgres://nobody@127.0.0.1:1/none';
    for (const bad of ['Jobwing', '1abc', 'a-b', 'a"b', 'pg_jobs', 'x'.repeat(64), '', 'a; DROP TABLE x']) {
      expect(issuesOf(() => postgresStorage({ connectionString: conn, schema: bad }))).toEqual(['schema']);
    }
    expect(issuesOf(() => postgresStorage({} as never))).toEqual(['connectionString']);
    expect(issuesOf(() => postgresStorage({ connectionString: conn, pool: new pg.Pool() }))).toEqual(['connectionString']);
    expect(issuesOf(() => postgresStorage({ pool: new pg.Pool(), poolSize: 3 }))).toEqual(['poolSize']);
    expect(issuesOf(() => postgresStorage({ connectionString: conn, poolSize: 0 }))).toEqual(['poolSize']);
    expect(issuesOf(() => postgresStorage({ connectionString: conn, pool: {} as never }))).toContain('pool');
    expect(issuesOf(() => postgresStorage({ connectionString: conn, colour: 'red' } as never))).toEqual(['colour']);
    const s = postgresStorage({ connectionString: conn, schema: 'jobs_2' });
    expect(s.schema).toBe('jobs_2');
    expect(s.capabilities).toEqual({ multiProcess: true, pushWake: true, databaseClock: true });
  });

  it('imports pg only when a Postgres store is used (SQLite users never need it)', () => {
    // A child process in which resolving "pg" fails, as when it is not installed.
    const hook = `data:text/javascript,${encodeURIComponent(
      `export async function resolve(s, c, next) { if (s === 'pg' || s.startsWith('pg/')) throw new Error('pg is not installed'); return next(s, c); }`,
    )}`;
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(hook)});
      const { JobEngine, sqliteStorage } = await import('./src/index.ts');
      const { postgresStorage } = await import('./src/postgres.ts');
      const store = postgresStorage({ connectionString: 'postgres://x@127.0.0.1:1/x' });
      const err = await store.migrate().then(() => null, (e) => e);
      console.log(JSON.stringify({ ok: typeof JobEngine === 'function' && typeof sqliteStorage === 'function', code: err?.code, message: err?.message }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; code: string; message: string };
    expect(out.ok).toBe(true);
    expect(out.code).toBe('STORAGE');
    expect(out.message).toMatch(/npm install pg/);
  });

  it('a call against an unreachable server rejects with a STORAGE error saying the connection failed', async () => {
    const s = postgresStorage({ connectionString: 'postgres://nobody@127.0.0.1:1/none', poolSize: 1 });
    const err = await s.getJob({ id: 'x', orgId: null }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JobwingError);
    expect((err as JobwingError).code).toBe('STORAGE');
    expect((err as Error).message).toMatch(/getJob failed: no connection to Postgres/);
    await s.close();
    await expect(s.getJob({ id: 'x', orgId: null })).rejects.toThrow(/closed/);
  });
});

describe.skipIf(!url)(`postgres store: Postgres-only properties${SKIP}`, () => {
  const stores: StorageAdapter[] = [];
  const track = <S extends StorageAdapter>(s: S): S => (stores.push(s), s);
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await wipe();
  });
  async function fresh(): Promise<PostgresStorageAdapter> {
    const s = track(open());
    await s.migrate();
    return s;
  }
  async function insertOne(s: StorageAdapter, o: Partial<NewJob> = {}, now = T0) {
    const [r] = await s.insertJobs({ jobs: [newJob(o)], actorId: 'alice', now, atomic: false });
    if (r?.kind !== 'inserted') throw new Error(`not inserted: ${JSON.stringify(r)}`);
    return r.job;
  }

  it('a pool passed in is used and never ended; a pool it created is ended by close()', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const s = postgresStorage({ pool, schema });
    await s.migrate();
    await insertOne(s);
    await s.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(pool.listenerCount('error')).toBe(0); // its error handler is removed again
    await pool.end();

    const own = open();
    await own.migrate();
    await own.close();
    await own.close(); // idempotent
    await expect(own.getJob({ id: 'x', orgId: null })).rejects.toMatchObject({ code: 'STORAGE' });
  });

  it('an error on an idle pooled connection does not crash the process', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const s = track(postgresStorage({ pool, schema }));
    await s.migrate();
    expect(() => pool.emit('error', new Error('server closed the connection'))).not.toThrow();
    expect(await s.getJob({ id: 'nope', orgId: null })).toBeNull();
    await s.close();
    await pool.end();
  });

  it('R20: leases live on the database clock; a skewed `now` neither rescues early nor extends a lease', async () => {
    const s = await fresh();
    const skewedAhead = Date.now() + 10 * 3_600_000;
    const job = await insertOne(s, {}, T0);
    // Claimed with a `now` from 2023: the lease still runs 60 s of database time.
    const [c] = await s.claimJobs({ workerId: 'w', types: ['email'], limit: 1, now: T0, leaseMs: 60_000 });
    expect(c?.job.id).toBe(job.id);
    expect(await s.findExpiredLeases({ now: skewedAhead, limit: 10 })).toEqual([]);
    const rescue = { jobId: job.id, attempt: c!.attempt, actorId: 'system', onlyIfLeaseExpired: true, outcome: { kind: 'failed' as const, error: { type: 'worker_lost' as const, message: 'x' }, retryAt: null } };
    expect(await s.settleJobs({ settles: [rescue], now: skewedAhead })).toEqual([{ kind: 'lease_lost' }]);
    const [row] = (await adminPool().query(`SELECT lease_expires_at - floor(extract(epoch from clock_timestamp()) * 1000) AS left_ms FROM "${schema}".jobs WHERE id = $1`, [job.id])).rows;
    expect(Number(row.left_ms)).toBeGreaterThan(50_000);

    // A renewal with a `now` far behind still extends from the database clock, not from `now`.
    await s.renewLeases({ workerId: 'w', leases: [{ jobId: job.id, attempt: c!.attempt }], now: T0 - 3_600_000, leaseMs: 60_000 });
    expect(await s.findExpiredLeases({ now: skewedAhead, limit: 10 })).toEqual([]);

    // A 1 ms lease expires by the database clock, whatever `now` says (bounded poll, no sleep).
    const short = await insertOne(s, { type: 'report' }, T0);
    const [c2] = await s.claimJobs({ workerId: 'w', types: ['report'], limit: 1, now: T0, leaseMs: 1 });
    let found: string[] = [];
    for (let i = 0; i < 1000 && found.length === 0; i++) found = (await s.findExpiredLeases({ now: T0, limit: 10 })).map((e) => e.job.id);
    expect(found).toEqual([short.id]);
    const r = await s.settleJobs({ settles: [{ ...rescue, jobId: short.id, attempt: c2!.attempt }], now: T0 });
    expect(r[0]).toMatchObject({ kind: 'settled', job: { status: 'dead_letter' } });
  });

  it('the event tail never skips an event whose transaction commits after a later one, and delivers around it meanwhile', async () => {
    const s = await fresh();
    const job = await insertOne(s);
    const start = (await s.readEvents({ after: null, limit: 0 })).cursor;
    // A transaction that takes an event seq and stays open...
    const slow = await adminPool().connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO "${schema}".job_history (job_id, at, to_status, attempt, actor_id) VALUES ($1, $2, 'queued', 0, 'slow')`, [job.id, T0 + 1]);
      // ...while a later one commits.
      await s.cancelJob({ jobId: job.id, orgId: null, actorId: 'fast', now: T0 + 2 });
      // The reader waits for the open one (up to its bound), then delivers what is committed and
      // keeps the open one's seq as a gap in its cursor (review defect 9), never skipping it.
      const kinds = (r: { events: StoreEvent[] }) => r.events.map((e) => (e.kind === 'status' ? `${e.event.from}>${e.event.to}` : e.kind));
      const around = await s.readEvents({ after: start, limit: 10 });
      expect(kinds(around)).toEqual(['queued>canceled']);
      // While it stays open, later reads repeat nothing.
      const still = await s.readEvents({ after: around.cursor, limit: 10 });
      expect(still.events).toEqual([]);
      await slow.query('COMMIT');
      // Once it has ended, the gap is read: its event arrives, once.
      const late = await s.readEvents({ after: still.cursor, limit: 10 });
      expect(kinds(late)).toEqual(['null>queued']);
      expect((await s.readEvents({ after: late.cursor, limit: 10 })).events).toEqual([]);
    } finally {
      await slow.query('ROLLBACK').catch(() => undefined);
      slow.release();
    }
  });

  it('the event tail under concurrent writers from several connections delivers every event once, per job in order', async () => {
    const s = await fresh();
    const writers = [track(open()), track(open()), track(open())];
    let cursor = (await s.readEvents({ after: null, limit: 0 })).cursor;
    const seen: string[] = [];
    let writing = true;
    const work = writers.map(async (w, k) => {
      for (let i = 0; i < 25; i++) {
        const j = await insertOne(w, { type: `t${k}` });
        const [c] = await w.claimJobs({ workerId: `w${k}`, types: [`t${k}`], limit: 1, now: T0, leaseMs: 60_000 });
        await w.recordProgress({ jobId: j.id, attempt: c!.attempt, progress: 50, message: null, now: T0 });
        await w.settleJobs({ settles: [{ jobId: j.id, attempt: c!.attempt, actorId: 'x', outcome: { kind: 'completed', output: 1, outputJson: '1' } }], now: T0 });
      }
    });
    const reader = (async () => {
      while (writing) {
        const r = await s.readEvents({ after: cursor, limit: 7 });
        cursor = r.cursor;
        for (const e of r.events) seen.push(`${e.event.jobId}:${e.kind === 'status' ? e.event.to : 'progress'}`);
      }
    })();
    await Promise.all(work);
    writing = false;
    await reader;
    for (;;) {
      const r = await s.readEvents({ after: cursor, limit: 50 });
      if (r.events.length === 0) break;
      cursor = r.cursor;
      for (const e of r.events) seen.push(`${e.event.jobId}:${e.kind === 'status' ? e.event.to : 'progress'}`);
    }
    expect(seen).toHaveLength(75 * 4);
    expect(new Set(seen).size).toBe(75 * 4);
    const perJob = new Map<string, string[]>();
    for (const x of seen) {
      const [id, what] = x.split(':') as [string, string];
      perJob.set(id, [...(perJob.get(id) ?? []), what]);
    }
    for (const events of perJob.values()) expect(events).toEqual(['queued', 'running', 'progress', 'completed']);
  });

  it('LISTEN/NOTIFY: another store’s submit wakes a subscriber; a killed listener reconnects and hears again', async () => {
    const s = await fresh();
    const other = track(open());
    let notices = 0;
    let waiter: (() => void) | null = null;
    const nextNotice = () => new Promise<void>((resolve) => (waiter = resolve));
    const unsubscribe = await s.subscribe(() => {
      notices++;
      waiter?.();
    });
    expect(s.listenerStatus()).toMatchObject({ connected: true, reconnects: 0 });

    let heard = nextNotice();
    await insertOne(other);
    await heard;

    const pid = s.listenerStatus().backendPid;
    expect(pid).not.toBeNull();
    heard = nextNotice(); // the listener calls subscribers once after reconnecting (notices may be lost)
    await adminPool().query('SELECT pg_terminate_backend($1)', [pid]);
    await heard;
    expect(s.listenerStatus()).toMatchObject({ connected: true, reconnects: 1 });
    expect(s.listenerStatus().backendPid).not.toBe(pid);

    const before = notices;
    heard = nextNotice();
    await insertOne(other, { type: 'report' });
    await heard;
    expect(notices).toBeGreaterThan(before);
    await unsubscribe();
    expect(s.listenerStatus().connected).toBe(false);
  });

  it('dedup holds across connections under concurrency: 100 identical inserts on 4 stores → one job', async () => {
    const stores4 = [await fresh(), track(open()), track(open()), track(open())];
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        stores4[i % 4]!.insertJobs({ jobs: [newJob({ dedupHash: 'same', dedupWindowMs: 60_000 })], actorId: 'a', now: T0, atomic: false }),
      ),
    );
    const kinds = results.map((r) => r[0]!);
    const inserted = kinds.filter((k) => k.kind === 'inserted');
    expect(inserted).toHaveLength(1);
    const id = inserted[0]!.kind === 'inserted' ? inserted[0]!.job.id : '';
    expect(kinds.filter((k) => k.kind === 'duplicate' && k.existingJobId === id)).toHaveLength(99);
  });

  it('a child inserted while its parent completes on another connection is never left waiting', async () => {
    const s = await fresh();
    const peer = track(open());
    for (let i = 0; i < 15; i++) {
      const parent = await insertOne(s, { type: 'report' });
      const [c] = await s.claimJobs({ workerId: 'w', types: ['report'], limit: 1, now: T0, leaseMs: 60_000 });
      const [, [child]] = await Promise.all([
        s.settleJobs({ settles: [{ jobId: parent.id, attempt: c!.attempt, actorId: 'w', outcome: { kind: 'completed', output: 1, outputJson: '1' } }], now: T0 }),
        peer.insertJobs({ jobs: [newJob({ dependsOn: [parent.id] })], actorId: 'a', now: T0, atomic: false }),
      ]);
      if (child?.kind !== 'inserted') throw new Error('child not inserted');
      expect((await s.getJob({ id: child.job.id, orgId: null }))?.status).toBe('queued');
    }
  });

  it('two parents completing at once on two connections release their common child', async () => {
    const s = await fresh();
    const peer = track(open());
    for (let i = 0; i < 10; i++) {
      const p1 = await insertOne(s, { type: 'report' });
      const p2 = await insertOne(s, { type: 'report' });
      const child = await insertOne(s, { dependsOn: [p1.id, p2.id] });
      const [c1, c2] = await s.claimJobs({ workerId: 'w', types: ['report'], limit: 2, now: T0, leaseMs: 60_000 });
      const done = (c: typeof c1) => ({ jobId: c!.job.id, attempt: c!.attempt, actorId: 'w', outcome: { kind: 'completed' as const, output: 1, outputJson: '1' } });
      await Promise.all([s.settleJobs({ settles: [done(c1)], now: T0 }), peer.settleJobs({ settles: [done(c2)], now: T0 })]);
      expect((await s.getJob({ id: child.id, orgId: null }))?.status).toBe('queued');
    }
  });

  it('S6: values with SQL metacharacters are stored verbatim', async () => {
    const s = await fresh();
    const nasty = `x'); DROP TABLE "${schema}".jobs; --"\\`;
    const job = await insertOne(s, { type: nasty, orgId: `o'"`, ownerId: '$1', input: { q: nasty, nul: '\u0000' } });
    expect(await s.getJob({ id: job.id, orgId: `o'"` })).toMatchObject({ type: nasty, ownerId: '$1', input: { q: nasty, nul: '\u0000' } });
    await s.updateJobTypeSettings({ name: nasty, changes: { displayName: nasty }, actorId: nasty, now: T0 });
    expect((await s.loadJobTypeSettings())[nasty]).toEqual({ displayName: nasty });
  });
});
