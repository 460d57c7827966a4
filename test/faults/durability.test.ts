/**
 * Shutdown and durability: R6 graceful stop on SIGTERM, R7 ack after commit (SIGKILL the
 * submitter), R9 store errors at settle time (SQLite locked past busy_timeout; Postgres
 * backends terminated) are retried and no job stays running.
 */
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { waitFor, work } from './harness.js';
import { describeOnStores } from './fault-suite.js';

describeOnStores('shutdown and durability', (store, makeCluster) => {
  it.sequential('R6 graceful stop: SIGTERM → engine.stop(): no new claims, finished attempts complete, unfinished are released to queued, none left running', async () => {
    const c = await makeCluster({ name: 'r6', leaseMs: 1000, graceMs: 800 });
    const a = await c.spawn({ concurrency: 3 });
    const finish = `${c.dir}/short-may-finish`;
    const [short, long1, long2] = await c.submit(
      [
        { input: { tag: 'short', run: { ms: 20, waitFile: finish } } },
        { input: { tag: 'long1', run: { ms: 20 }, byAttempt: { '1': { ms: 60_000 } } } },
        { input: { tag: 'long2', run: { ms: 20 }, byAttempt: { '1': { ms: 60_000 } } } },
      ],
      a,
    );
    for (const id of [short, long1, long2]) await c.waitForEffect(`${id} to start`, (e) => e.k === 'start' && e.job === id);
    // Every slot of A is taken: these stay queued, and must not be claimed once A is stopping.
    const queued = await c.submit(Array.from({ length: 3 }, (_, i) => ({ input: work(20, {}, `q${i}`) })), a);
    a.term();
    await c.waitForEffect('A to begin its graceful stop', (e) => e.k === 'sigterm' && e.w === a.id);
    writeFileSync(finish, ''); // the short job finishes inside the grace period, freeing a slot
    const exit = await a.exited;
    expect(exit).toEqual({ code: 0, signal: null });

    expect((await c.job(short!)).status).toBe('completed');
    for (const id of [long1!, long2!]) {
      const job = await c.job(id);
      expect(job.status).toBe('queued');
      expect(job.retryCount).toBe(0);
      const h = await c.history(id);
      expect(h.map((e) => `${e.from}→${e.to}#${e.attempt}`)).toEqual(['null→queued#0', 'queued→running#1', 'running→queued#1']);
      expect(c.refreshEffects().of(id, 'signal')[0]?.reason).toBe('shutdown');
    }
    for (const id of queued) {
      expect((await c.job(id)).status).toBe('queued');
      expect(c.effects.of(id, 'start')).toEqual([]);
    }
    expect(await c.allJobs(['running'])).toEqual([]);

    // A new worker finishes everything; released attempts were not counted as retries.
    await c.spawn();
    await c.waitAllTerminal();
    for (const id of [long1!, long2!]) expect(await c.job(id)).toMatchObject({ status: 'completed', retryCount: 0, output: { attempt: 2 } });
    await c.assertInvariants();
  }, 60_000);

  it.sequential('R7 ack after commit: SIGKILL the submitting process right after many submits; every acknowledged job is there' + (store === 'sqlite' ? ' and PRAGMA integrity_check is ok' : ''), async () => {
    const c = await makeCluster({ name: 'r7', leaseMs: 1000 });
    const submitter = await c.spawn({ worker: false, submitLoop: { total: null, inFlight: 16, input: work(5) } });
    const target = c.rng.int(200, 400);
    await waitFor(`${target} acknowledged submits`, () => (c.refreshEffects(), c.acked.size >= target), { everyMs: 5 });
    await submitter.kill(); // submits still in flight
    c.refreshEffects();
    const acked = [...c.acked];
    expect(acked.length).toBeGreaterThanOrEqual(target);
    if (store === 'sqlite') expect(c.integrityCheck()).toBe('ok');
    for (const id of acked) expect((await c.observer.getJob({ id, orgId: null }))?.id, `acknowledged job ${id}`).toBe(id);

    // And the store, recovered after the crash, runs them all.
    await c.spawn({ concurrency: 8 });
    await c.waitAllTerminal();
    await c.assertInvariants();
  }, 60_000);

  it.sequential(
    store === 'sqlite'
      ? 'R9 store errors at settle time: SQLite locked by another connection past busy_timeout → settles fail, are retried, jobs complete; none stays running'
      : 'R9 store errors at settle time: the workers\' Postgres backends terminated → settles are retried, jobs complete; none stays running',
    async () => {
      // A long lease: the fault must hit the settles, well before any lease could expire (and,
      // on Postgres, before the first heartbeat, which would also wait on the row locks).
      const c = await makeCluster({ name: 'r9', leaseMs: store === 'sqlite' ? 2000 : 10_000, ...(store === 'sqlite' ? { busyTimeoutMs: 100 } : {}) });
      const a = await c.spawn({ concurrency: 4 });
      const go = `${c.dir}/finish-now`;
      const ids = await c.submit(Array.from({ length: 4 }, (_, i) => ({ input: { tag: `j${i}`, run: { ms: 20, waitFile: go } } })), a);
      for (const id of ids) await c.waitForEffect(`${id} to wait`, (e) => e.k === 'waiting' && e.job === id);

      if (store === 'sqlite') {
        // Hold the write lock for ~5× busy_timeout (well under the lease); the jobs finish meanwhile.
        await c.holdSqliteLock(600, () => writeFileSync(go, ''));
      } else {
        // Another session locks the job rows; the jobs finish and A's settle waits on the locks;
        // then A's connections are terminated (the settle in flight fails), and the locks go.
        await c.withPostgresRowLocks(ids, async () => {
          writeFileSync(go, '');
          for (const id of ids) await c.waitForEffect(`${id} to finish its work`, (e) => e.k === 'end' && e.job === id);
          await waitFor('A\'s settle to wait on the row locks', () => c.lockWaiters(a), { everyMs: 20 });
          expect(await c.terminateBackends([a]), 'backends terminated').toBeGreaterThan(0);
        });
      }
      await c.waitAllTerminal({ ids });
      expect(a.alive).toBe(true);
      for (const id of ids) {
        const job = await c.job(id);
        expect(job.status).toBe('completed');
        expect(job.output).toMatchObject({ by: a.id });
      }
      expect(await c.allJobs(['running'])).toEqual([]);
      // The fault really hit the settles: they failed (SQLITE_BUSY / connection lost) and were retried.
      const settleErrors = c.refreshEffects().all.filter((e) => e.k === 'engine_error' && e.source === 'settle');
      expect(settleErrors.length).toBeGreaterThan(0);
      expect(String(settleErrors[0]!.message)).toMatch(store === 'sqlite' ? /SQLITE_BUSY|locked/ : /connection|terminat/i);
      await c.assertInvariants();
    },
    60_000,
  );

  if (store === 'postgres') {
    // KNOWN BUG (reported; marked it.fails until the Postgres store is fixed): terminating the
    // backends of a process that runs store transactions kills it within about a second with
    // an unhandled 'error' event (FATAL 57P01) on a pg Client that has no query in flight.
    // Only the transaction path (PgConnection.transaction/withClient: settleJobs,
    // settleAndClaim, insertJobs, cancel, retry) does it; claimJobs (pool.query) survives.
    // Most likely the gap between pg-pool removing its idle 'error' listener on checkout and
    // withClient adding its own after `await pool.connect()`. A permanent listener added in
    // pool.on('connect') makes the same loop survive.
    it.sequential.fails('R9 process survives: settling through postgresStorage while its backends are terminated over and over never kills the process (today: unhandled pg \'error\' event, exit 1)', async () => {
      const c = await makeCluster({ name: 'r9storm' });
      const p = await c.spawn({ settleLoop: { concurrency: 4 } });
      const until = Date.now() + 5_000;
      let terminated = 0;
      while (Date.now() < until && p.alive) {
        terminated += await c.terminateBackends([p]);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      expect(terminated).toBeGreaterThan(0);
      expect(p.alive, `the settling process died:\n${p.output}`).toBe(true);
      c.refreshEffects();
      expect(c.effects.all.some((e) => e.k === 'settle_loop' && Number(e.errors) > 0)).toBe(true);
    }, 30_000);
  }
});
