/**
 * Store-specific properties with real processes. SQLite: R16 four processes submitting,
 * claiming and completing on one file, R17 pragmas and a bounded WAL (Postgres has neither
 * busy errors nor a WAL file of ours). Postgres: R20 lease expiry by the database clock
 * (SQLite judges leases by the engines' `now` by design). The two suites run concurrently.
 */
import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor, work } from './harness.js';
import { describeOnStores } from './fault-suite.js';

const BUSY = /SQLITE_BUSY|database is locked/i;

describeOnStores(
  'SQLite multi-process',
  (_store, makeCluster) => {
    it.sequential('R16 four processes submit, claim and complete on one file: no SQLITE_BUSY reaches a caller; the database stays consistent', async () => {
      const c = await makeCluster({ name: 'r16', leaseMs: 1500 });
      const perProcess = 80;
      const procs = await c.spawnMany(4, { concurrency: 4, submitLoop: { total: perProcess, inFlight: 6, input: work(5, { progress: true }) } });
      const results = await Promise.all(procs.map((p) => p.submitted()));
      await c.waitAllTerminal();
      c.refreshEffects();

      const errors = c.effects.all.filter((e) => e.k === 'submit_error' || e.k === 'engine_error' || e.k === 'fatal');
      expect(errors.filter((e) => BUSY.test(String(e.message))), 'SQLITE_BUSY reaching a caller').toEqual([]);
      expect(results.map((r) => r.errors)).toEqual([0, 0, 0, 0]);
      expect(results.map((r) => r.count)).toEqual([perProcess, perProcess, perProcess, perProcess]);
      expect(c.acked.size).toBe(4 * perProcess);
      const jobs = await c.allJobs();
      expect(jobs).toHaveLength(4 * perProcess);
      expect(jobs.every((j) => j.status === 'completed')).toBe(true);
      // Work really was shared: every process ran jobs.
      const runners = new Set(c.effects.all.filter((e) => e.k === 'end').map((e) => e.w));
      expect(runners.size).toBeGreaterThan(1);
      expect(c.integrityCheck()).toBe('ok');
      await c.assertInvariants();
    }, 90_000);

    it.sequential('R17 pragmas: WAL, busy_timeout and synchronous as documented in every process; the WAL file stays bounded under load', async () => {
      const c = await makeCluster({ name: 'r17', leaseMs: 1500 });
      const [def] = await c.spawnMany(1, { concurrency: 8 });
      const tuned = await c.spawn({ concurrency: 8, synchronous: 'NORMAL', busyTimeoutMs: 3000 });
      const dp = (await def!.ready).pragmas!;
      const tp = (await tuned.ready).pragmas!;
      expect(dp).toMatchObject({ journalMode: 'wal', busyTimeoutMs: 5000, synchronous: 'FULL' });
      expect(tp).toMatchObject({ journalMode: 'wal', busyTimeoutMs: 3000, synchronous: 'NORMAL' });
      const limit = Number(dp.journalSizeLimitBytes);
      expect(limit).toBeGreaterThan(0);

      // Load: many small transactions from both processes (claims, progress, checkpoints, settles).
      const wal = `${(c.spec as { path: string }).path}-wal`;
      let maxWal = 0;
      const sample = () => {
        if (existsSync(wal)) maxWal = Math.max(maxWal, statSync(wal).size);
      };
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push(...(await c.submit(Array.from({ length: 100 }, () => ({ input: work(5, { progress: true, checkpoint: true }) })))));
        sample();
      }
      await waitFor('the load to finish', async () => {
        sample();
        return (await c.allJobs(['queued', 'running', 'retrying'])).length === 0;
      }, { everyMs: 20, timeoutMs: 60_000 });
      sample();
      expect(maxWal).toBeGreaterThan(0);
      expect(maxWal, `WAL peaked at ${maxWal} bytes`).toBeLessThanOrEqual(limit);
      await c.assertInvariants();
    }, 90_000);
  },
  ['sqlite'],
);

const TEN_MINUTES = 10 * 60_000;

describeOnStores(
  'database clock',
  (_store, makeCluster) => {
    it.sequential('R20 lease expiry uses the database clock: a rescuer 10 min fast and a worker 10 min slow rescue nothing early; a dead worker is still rescued', async () => {
      const leaseMs = 1000;
      const c = await makeCluster({ name: 'r20', leaseMs });
      // B: the only other engine, clock 10 minutes fast, runs no fx.work jobs: it is started
      // first so it holds maintenance leadership, i.e. it is the rescuer.
      const b = await c.spawn({ clockSkewMs: TEN_MINUTES, types: ['fx.noop'] });
      expect((await b.ready).capabilities.databaseClock).toBe(true);
      // A: runs the jobs, clock 10 minutes slow.
      const a = await c.spawn({ clockSkewMs: -TEN_MINUTES, types: ['fx.work'] });

      const [long] = await c.submit([{ input: work(5 * leaseMs, {}, 'long') }], a);
      await c.waitAllTerminal({ ids: [long!] });
      const h = await c.history(long!);
      expect(h.map((e) => `${e.from}→${e.to}`)).toEqual(['null→queued', 'queued→running', 'running→completed']);
      expect(c.refreshEffects().of(long!, 'signal')).toEqual([]);

      // The rescuer works: kill A mid-job; B rescues the attempt (after the real lease expiry).
      const [orphan] = await c.submit([{ input: { tag: 'orphan', run: { ms: 20 }, byAttempt: { '1': { ms: 60_000 } } } }], a);
      await c.waitForEffect('the orphan to start', (e) => e.k === 'start' && e.job === orphan);
      await a.kill();
      await c.spawn({ types: ['fx.work'] });
      await c.waitAllTerminal({ ids: [orphan!] });
      const oh = await c.history(orphan!);
      expect(oh.find((e) => e.error?.type === 'worker_lost')?.actorId).toBe(`engine:${b.id}`);
      expect((await c.job(orphan!)).status).toBe('completed');
      await c.assertInvariants();
    }, 60_000);
  },
  ['postgres'],
);

describe('database clock — SQLite file', () => {
  it.skip('R20 (not applicable to SQLite: capabilities.databaseClock is false, lease expiry follows the engines\' `now` by design; multi-host only on Postgres)', () => {});
});
