/**
 * R20 (Postgres): lease expiry is judged by the database clock, so an engine whose Node clock
 * is skewed rescues nothing early, and a worker whose clock runs behind does not write leases
 * that look expired.
 */
import { describe, expect, it } from 'vitest';
import { work } from './harness.js';
import { describeOnStores } from './fault-suite.js';

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

      const [long] = await c.submit([{ input: work(5 * leaseMs, { progress: true }, 'long') }], a);
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
