/**
 * Recurring jobs (issue 11) on both stores, with the fake clock: one job per tick (also with
 * two engines on one store), catch-up rules, enable/disable, a DST transition, bad input.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, PermissionDeniedError, ValidationError, type ScheduleDefinition, type StorageAdapter } from '../../src/index.js';
import { createTestEngine, drain, FakeClock } from '../../src/testing/index.js';
import { dedupHash } from '../../src/payload.js';
import { storeKinds } from '../helpers/stores.js';

const report = defineJobType({
  name: 'send-report',
  input: z.object({ reportId: z.string() }),
  dedupWindowMs: 0, // the schedule's own dedup must hold even with dedup off
  async handler(input) {
    return { sent: input.reportId };
  },
});

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1, 0, 30); // 00:30 UTC: the first hourly tick is 01:00
const hourly = (over: Partial<ScheduleDefinition> = {}): ScheduleDefinition => ({
  name: 'hourly',
  cron: '0 * * * *',
  type: 'send-report',
  input: { reportId: 'daily' },
  orgId: 'acme',
  ...over,
});

describe('schedule definitions are validated at new JobEngine', () => {
  const make = (schedules: unknown[]) => () => new JobEngine({ jobTypes: [report], worker: false, schedules: schedules as ScheduleDefinition[] });
  it.each([
    ['a bad cron', { cron: '61 * * * *' }, /schedules\[0\]\.cron/],
    ['a 7-field cron', { cron: '0 0 0 * * * 2026' }, /7 fields/],
    ['a bad timezone', { timezone: 'Mars/Olympus' }, /schedules\[0\]\.timezone.*IANA/],
    ['an unknown type', { type: 'nope' }, /schedules\[0\]\.type/],
    ['a bad catchUp', { catchUp: 'some' }, /catchUp/],
  ])('%s → ValidationError naming the field', (_what, over, message) => {
    expect(make([hourly(over as Partial<ScheduleDefinition>)])).toThrow(ValidationError);
    expect(make([hourly(over as Partial<ScheduleDefinition>)])).toThrow(message);
  });
  it('duplicate names → ValidationError', () => {
    expect(make([hourly(), hourly()])).toThrow(/schedules\[1\]\.name.*unique/);
  });
  it('schedules() and updateSchedule() are admin only', async () => {
    const { engine } = await createTestEngine({ jobTypes: [report], schedules: [hourly()] });
    try {
      const alice = engine.as({ userId: 'alice', orgId: 'acme' });
      await expect(alice.schedules()).rejects.toThrow(PermissionDeniedError);
      await expect(alice.updateSchedule('hourly', { enabled: false })).rejects.toThrow(PermissionDeniedError);
      await expect(engine.system.updateSchedule('nope', { enabled: false })).rejects.toThrow(/Unknown schedule "nope"/);
      await expect(engine.system.updateSchedule('hourly', { enabled: 'no' } as never)).rejects.toThrow(ValidationError);
    } finally {
      await engine.stop();
    }
  });

  it('a refused tick (type disabled) is skipped and reported as engine:error; the next one fires', async () => {
    const clock = new FakeClock(START);
    const { engine } = await createTestEngine({ jobTypes: [report], clock, pollIntervalMs: 60_000, schedules: [hourly()] });
    try {
      const errors: string[] = [];
      engine.on('engine:error', (e) => errors.push(`${e.source}: ${(e.error as Error).message}`));
      await clock.advanceTo(START);
      await drain(engine);
      await engine.system.updateJobType('send-report', { enabled: false });
      await clock.advanceTo(START + HOUR / 2);
      await drain(engine);
      expect(errors).toEqual(['schedule:hourly: Job type "send-report" is disabled']);
      await engine.system.updateJobType('send-report', { enabled: true });
      await clock.advanceTo(START + 1.5 * HOUR);
      await drain(engine);
      const jobs = (await engine.system.list({ ownerId: 'schedule:hourly' })).items;
      expect(jobs.map((j) => j.createdAt.getTime())).toEqual([START + 1.5 * HOUR]);
    } finally {
      await engine.stop();
    }
  });
});

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`recurring jobs on ${kind.name}${kind.skip}`, () => {
    const engines: JobEngine[] = [];
    afterEach(async () => {
      for (const e of engines.splice(0)) await e.stop({ graceMs: 0 });
    });

    async function start(clock: FakeClock, schedules: ScheduleDefinition[], extra: { workerId?: string; storage?: StorageAdapter; slow?: boolean } = {}): Promise<JobEngine> {
      // Long poll and lease: the fake clock crosses hours and days, and every timer it passes fires.
      const engine = new JobEngine({ jobTypes: [report], storage: extra.storage ?? kind.open(), clock, pollIntervalMs: extra.slow ? 3_600_000 : 60_000, leaseMs: extra.slow ? 86_400_000 : 600_000, schedules, ...(extra.workerId ? { workerId: extra.workerId } : {}) });
      engines.push(engine);
      await engine.start();
      await stepTo(clock, clock.now()); // the schedules' first pass runs at start
      return engine;
    }
    /** Waits for every engine's tick in progress and the jobs it submitted. */
    async function settle(): Promise<void> {
      for (const e of engines) await drain(e);
    }
    /** Moves to `at` and lets every pass that came due finish (twice: a pass may re-arm at `at`). */
    async function stepTo(clock: FakeClock, at: number): Promise<void> {
      for (let i = 0; i < 2; i++) {
        await clock.advanceTo(at);
        await settle();
      }
    }
    /** Fire times (epoch ms) of the schedule's jobs, oldest first, read from each job's dedup hash. */
    async function firedTicks(engine: JobEngine, name = 'hourly', candidates: number[] = []): Promise<number[]> {
      const page = await engine.system.list({ ownerId: `schedule:${name}`, limit: 500 });
      const byHash = new Map(candidates.map((t) => [dedupHash('send-report', 'acme', { reportId: 'daily' }, `schedule:${name}:${new Date(t).toISOString()}`), t]));
      return page.items.map((j) => byHash.get(j.dedupHash ?? '') ?? -1).sort((a, b) => a - b);
    }
    async function scheduledJobs(engine: JobEngine, name = 'hourly') {
      const page = await engine.system.list({ ownerId: `schedule:${name}`, limit: 500 });
      return page.items.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    }
    const minutes = (from: number, to: number, step: number) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

    it('fires one job per tick as schedule:<name>, and schedules() shows next/last run', async () => {
      kind.fresh();
      const clock = new FakeClock(START);
      const engine = await start(clock, [hourly()]);
      let [info] = await engine.system.schedules();
      expect(info).toMatchObject({ name: 'hourly', cron: '0 * * * *', timezone: 'UTC', type: 'send-report', orgId: 'acme', enabled: true, catchUp: 'latest', nextRunAt: new Date(START + HOUR / 2), lastRunAt: null, lastJobId: null });
      await stepTo(clock, START + HOUR / 2 - 1);
      expect(await scheduledJobs(engine)).toHaveLength(0);
      await stepTo(clock, START + HOUR / 2);
      const [job] = await scheduledJobs(engine);
      expect(job).toMatchObject({ type: 'send-report', orgId: 'acme', ownerId: 'schedule:hourly', input: { reportId: 'daily' }, status: 'completed', createdAt: new Date(START + HOUR / 2) });
      [info] = await engine.system.schedules();
      expect(info).toMatchObject({ lastRunAt: new Date(START + HOUR / 2), lastJobId: job!.id, nextRunAt: new Date(START + 1.5 * HOUR) });
      await stepTo(clock, START + 1.5 * HOUR);
      await stepTo(clock, START + 2.5 * HOUR);
      expect(await firedTicks(engine, 'hourly', minutes(START, START + 3 * HOUR, HOUR / 2))).toEqual([START + 0.5 * HOUR, START + 1.5 * HOUR, START + 2.5 * HOUR]);
    });

    it('two engines on one store make exactly one job per tick, even when both fire it', async () => {
      kind.fresh();
      const clock = new FakeClock(START);
      const a = await start(clock, [hourly({ cron: '*/10 * * * *' })]);
      await start(clock, [hourly({ cron: '*/10 * * * *' })]);
      // Same workerId: both hold the `schedules` lease, so both submit every tick; dedup decides.
      await start(clock, [hourly({ cron: '*/10 * * * *' })], { workerId: a.workerId });
      for (let t = START + 10 * 60_000; t <= START + 60 * 60_000; t += 10 * 60_000) await stepTo(clock, t);
      const fired = await firedTicks(a, 'hourly', minutes(START, START + HOUR, 60_000));
      expect(fired.map((t) => t - START)).toEqual([10, 20, 30, 40, 50, 60].map((m) => m * 60_000));
    });

    it.each([
      ['latest', [4 * HOUR + HOUR / 2]],
      ['none', []],
      ['all', [1, 2, 3, 4].map((h) => h * HOUR + HOUR / 2).concat([HOUR / 2])],
    ] as const)('catchUp %s after 4 h of downtime', async (catchUp, expected) => {
      kind.fresh();
      const clock = new FakeClock(START);
      const first = await start(clock, [hourly({ catchUp })]);
      await first.stop();
      engines.splice(engines.indexOf(first), 1);
      await clock.advanceTo(START + 4 * HOUR + HOUR / 2 + 20 * 60_000); // 05:20: ticks 01:00 … 05:00 missed, 05:00 beyond the grace
      const second = await start(clock, [hourly({ catchUp })]);
      const fired = await firedTicks(second, 'hourly', minutes(START, START + 6 * HOUR, HOUR / 2));
      expect(fired).toEqual([...expected].map((t) => START + t).sort((a, b) => a - b));
      const [info] = await second.system.schedules();
      if (expected.length === 0) expect(info!.lastRunAt).toBeNull();
      else expect(info!.lastRunAt).toEqual(new Date(START + Math.max(...expected)));
      // Whatever was caught up, the next tick fires normally.
      await stepTo(clock, START + 5.5 * HOUR);
      expect(await scheduledJobs(second)).toHaveLength(expected.length + 1);
    });

    it("catchUp 'all' fires at most the 100 most recent missed ticks", async () => {
      kind.fresh();
      const clock = new FakeClock(START);
      const def = hourly({ cron: '* * * * *', catchUp: 'all' });
      const first = await start(clock, [def]);
      await first.stop();
      engines.splice(engines.indexOf(first), 1);
      await clock.advanceTo(START + 3 * HOUR + 30_000); // 180 minute ticks missed
      const second = await start(clock, [def]);
      const fired = await firedTicks(second, 'hourly', minutes(START, START + 3 * HOUR, 60_000));
      expect(fired).toEqual(minutes(START + 81 * 60_000, START + 3 * HOUR, 60_000)); // 00:31 … 03:30: the newest 100
      const [info] = await second.system.schedules();
      expect(info!.lastRunAt).toEqual(new Date(START + 3 * HOUR));
    });

    it('disable skips ticks (audited); re-enable does not catch up the disabled time', async () => {
      kind.fresh();
      const clock = new FakeClock(START);
      const storage = kind.open();
      const engine = await start(clock, [hourly()], { storage });
      expect(await engine.system.updateSchedule('hourly', { enabled: false })).toMatchObject({ enabled: false, nextRunAt: null });
      await stepTo(clock, START + 0.5 * HOUR);
      await stepTo(clock, START + 1.5 * HOUR);
      expect(await scheduledJobs(engine)).toHaveLength(0);
      await clock.advanceTo(START + 1.75 * HOUR);
      expect(await engine.system.updateSchedule('hourly', { enabled: true })).toMatchObject({ enabled: true, nextRunAt: new Date(START + 2.5 * HOUR) });
      await stepTo(clock, START + 2.5 * HOUR - 1);
      expect(await scheduledJobs(engine)).toHaveLength(0);
      await stepTo(clock, START + 2.5 * HOUR);
      expect(await firedTicks(engine, 'hourly', minutes(START, START + 3 * HOUR, HOUR / 2))).toEqual([START + 2.5 * HOUR]);
      const audit = await storage.listScheduleAudit!({ name: 'hourly' });
      expect(audit.map((a) => [a.actorId, a.changes, a.at.getTime()])).toEqual([
        ['system', { enabled: false }, START],
        ['system', { enabled: true }, START + 1.75 * HOUR],
      ]);
    });

    it('Europe/Berlin across both DST transitions: one job per day at 02:30 local time', async () => {
      kind.fresh();
      const def = hourly({ name: 'berlin', cron: '30 2 * * *', timezone: 'Europe/Berlin' });
      // Spring forward (29 March 2026): 02:30 does not exist; it fires once, at 03:30 CEST.
      // Fall back (25 October 2026): 02:30 happens twice; it fires once, at the first (CEST).
      const cases = [
        // (Each case starts an hour before its first tick: the engine re-checks its schedules
        // every simulated minute, and each check is a fake-clock step, so idle days cost seconds.)
        { from: Date.UTC(2026, 2, 28, 0, 30), ticks: ['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'] },
        { from: Date.UTC(2026, 9, 23, 23, 30), ticks: ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'] },
      ];
      for (const c of cases) {
        kind.fresh();
        const clock = new FakeClock(c.from);
        const engine = await start(clock, [def], { slow: true }); // days pass: few maintenance timers
        for (const tick of c.ticks) {
          await stepTo(clock, Date.parse(tick) - 1);
          await stepTo(clock, Date.parse(tick));
        }
        await stepTo(clock, Date.parse(c.ticks[2]!) + 3 * HOUR); // and nothing else after it
        const hours = minutes(c.from, c.from + 5 * 24 * HOUR, HOUR / 2);
        expect((await firedTicks(engine, 'berlin', hours)).map((t) => new Date(t).toISOString())).toEqual(c.ticks);
        await engine.stop();
        engines.splice(engines.indexOf(engine), 1);
      }
    });
  });
}
