/** `engine.health()`: store ping, scheduler liveness, last claim/heartbeat, leadership. */
import { describe, expect, it } from 'vitest';
import { JobEngine, sqliteStorage, ValidationError, type StorageAdapter } from '../../src/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';
import { add, gate } from '../helpers/fixtures.js';
import { storeKinds, turns } from '../helpers/stores.js';
import { sharedStore, until } from './shared-store.js';

/** A store whose reads and claims fail while `down` is true (the database went away). */
function flakyStore(inner: StorageAdapter) {
  const state = { down: false };
  const failing = new Set(['nextDueAt', 'claimJobs', 'settleAndClaim', 'acquireLeadership', 'renewLeases', 'readEvents', 'loadJobTypeSettings']);
  const store = new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      const bound = (v as (...a: unknown[]) => unknown).bind(target);
      if (!failing.has(String(prop))) return bound;
      return (...a: unknown[]) => (state.down ? Promise.reject(new Error('connection refused')) : bound(...a));
    },
  });
  return { store, state };
}

describe('engine.health()', () => {
  it('reports not ok before start and after stop, without touching the closed store', async () => {
    const engine = new JobEngine({ jobTypes: [add], storage: sqliteStorage({ path: ':memory:' }), clock: new FakeClock() });
    expect(await engine.health()).toMatchObject({ ok: false, state: 'new', store: { reachable: null } });
    await engine.start();
    await engine.stop();
    expect(await engine.health()).toMatchObject({ ok: false, state: 'stopped', store: { reachable: null }, scheduler: { alive: false } });
    expect(() => engine.health({ timeout: 1 } as never)).toThrow(ValidationError);
  });

  it('a started worker is ok: store reachable, loop alive with its last claim, leader, its job types', async () => {
    const clock = new FakeClock();
    const { store, state } = flakyStore(sqliteStorage({ path: ':memory:' }));
    const engine = new JobEngine({ jobTypes: [add], storage: store, clock, pollIntervalMs: 1000, leaseMs: 30_000, concurrency: 3 });
    engine.on('engine:error', () => undefined); // the outage below is reported here; expected
    await engine.start();
    await engine.system.submit('add', { a: 1, b: 1 });
    await drain(engine);
    await clock.advance(0); // the first maintenance tick
    const h = await engine.health();
    expect(h).toMatchObject({
      ok: true,
      state: 'started',
      store: { reachable: true, error: null },
      scheduler: { alive: true, running: 0, concurrency: 3, staleAfterMs: 30_000, jobTypes: ['add'] },
      maintenance: { leader: true },
    });
    expect(h.scheduler!.lastClaimAt!.getTime()).toBe(clock.now());
    expect(h.checkedAt.getTime()).toBe(clock.now());

    // The database goes away: the ping fails at once; the loop counts as dead once it has not
    // reached the store for staleAfterMs.
    state.down = true;
    const down = await engine.health();
    expect(down).toMatchObject({ ok: false, store: { reachable: false, latencyMs: null, error: 'connection refused' }, scheduler: { alive: true } });
    await clock.advance(30_001);
    await turns(5);
    expect((await engine.health()).scheduler!.alive).toBe(false);
    state.down = false;
    await clock.advance(1000);
    await drain(engine);
    expect(await engine.health()).toMatchObject({ ok: true, scheduler: { alive: true } });
    await engine.stop();
  });

  it('a web engine (worker: false) has no scheduler and is ok while the store answers', async () => {
    const engine = new JobEngine({ jobTypes: [add], worker: false, storage: sqliteStorage({ path: ':memory:' }), clock: new FakeClock() });
    await engine.start();
    expect(await engine.health()).toMatchObject({ ok: true, scheduler: null, store: { reachable: true } });
    await engine.stop();
  });
});

for (const kind of storeKinds()) describe(`health on ${kind.name}${kind.skip}`, () => {
  it.skipIf(kind.skip !== '')('heartbeats are reported while a long job runs; exactly one engine is the maintenance leader', async () => {
    const s = sharedStore(kind);
    const g = gate();
    const a = await s.engine({ jobTypes: [g.type], concurrency: 1 });
    const b = await s.engine({ jobTypes: [g.type], concurrency: 1 });
    const job = await a.system.submit('gated', { key: 'long' });
    await g.nextStart();
    await s.clock.advance(10_000); // one heartbeat period (leaseMs / 3)
    const beat = async () => [await a.health(), await b.health()].some((h) => h.scheduler!.lastHeartbeatAt !== null);
    await until(beat, 'a heartbeat reached the store');
    const [ha, hb] = [await a.health(), await b.health()];
    const runner = ha.scheduler!.running === 1 ? ha : hb;
    expect(runner.scheduler!.running).toBe(1);
    expect(runner.scheduler!.lastHeartbeatAt!.getTime()).toBe(s.clock.now());
    expect(runner.ok).toBe(true);
    const leaders = async () => [await a.health(), await b.health()].filter((h) => h.maintenance.leader).length;
    await until(async () => (await leaders()) > 0, 'a maintenance tick finished');
    expect(await leaders()).toBe(1);
    g.release(job.id);
  });
});
