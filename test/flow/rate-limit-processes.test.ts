/**
 * A rate limit holds across 4 real worker processes on one store, on every store: the starts
 * in any window never exceed `max` (per type, and per org with scope 'org'), and every job
 * completes. Each child runs on a FakeClock the test moves in steps, so the start times in
 * the history are instants the test chose, and four processes claim at the same instant.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JobEngine } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';
import { startChild, storeArgs, type Child } from './fixtures/children.js';
import { ORG_MAX, PER_MS, peakStartsPerWindow, rated, ratedPerOrg, TYPE_MAX } from './fixtures/rated.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

const PROCESSES = 4;
// 333 = (PER_MS - 1) / 3: every start is at a step, and the third step after it is 1 ms before
// its window ends (the claim must still count it), the fourth just after (it must not).
const STEP_MS = 333;
const JOBS = 18;

// The worker processes serve the tests of both stores (each test opens its store in them).
let children: Child[] | null = null;
const kills: (() => void)[] = [];
afterAll(async () => {
  if (children) await Promise.all(children.map((c) => c.stop()));
  for (const k of kills) k();
});
async function workers(): Promise<Child[]> {
  children ??= Array.from({ length: PROCESSES }, () => startChild('./rated-worker.ts', [], (k) => kills.push(k)));
  await Promise.all(children.map((c) => c.ready));
  return children;
}

/** Sends `msg` to `child` and resolves on its answer (the first message `isAnswer` accepts). */
function ask(child: Child, msg: unknown, isAnswer: (m: unknown) => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const onMessage = (m: unknown) => {
      if (!isAnswer(m)) return;
      child.process.off('message', onMessage);
      resolve();
    };
    child.process.on('message', onMessage);
    child.process.send(msg as object);
  });
}

/** Moves every child's clock to `at` and waits until each has run what was due. */
async function advanceAll(all: Child[], at: number, step: number): Promise<void> {
  // Which child hears first varies from one window opening to the next (they open every 4th step).
  const first = step + Math.floor(step / 4);
  const order = all.map((_, i) => all[(i + first) % all.length]!);
  await Promise.all(order.map((c) => ask(c, { advanceTo: at }, (m) => (m as { idle?: number } | null)?.idle === at)));
}

it('peakStartsPerWindow counts the fullest window (t - perMs, t]', () => {
  expect(peakStartsPerWindow([0, 0, 999, 1000], 1000)).toBe(3);
  expect(peakStartsPerWindow([0, 1000, 2000, 2000], 1000)).toBe(2);
  expect(peakStartsPerWindow([], 1000)).toBe(0);
});

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`rate limits across worker processes on ${kind.name}${kind.skip}`, () => {
    it(`never more starts per window than the limit with ${PROCESSES} worker PROCESSES; every job completes`, async () => {
      kind.fresh();
      const clock = new FakeClock(); // the children's clocks start at the same instant
      const web = new JobEngine({ jobTypes: [rated, ratedPerOrg], storage: kind.open(), worker: false, clock, pollIntervalMs: 100 });
      await web.start();
      stops.push(() => web.stop({ graceMs: 0 }));
      const procs = await workers();
      await Promise.all(procs.map((c) => ask(c, { open: storeArgs(kind) }, (m) => m === 'opened')));
      stops.push(() => Promise.all(procs.map((c) => ask(c, 'close', (m) => m === 'closed'))).then(() => undefined));
      const jobs = await web.system.submitMany([
        ...Array.from({ length: JOBS }, (_, n) => ({ type: 'rated' as const, input: { n } })),
        ...Array.from({ length: JOBS }, (_, n) => ({ type: 'rated-org' as const, input: { n }, options: { orgId: n % 2 === 0 ? 'acme' : 'globex' } })),
      ]);
      // Enough fake time for every job at the limit's pace, twice over.
      const maxSteps = 2 * Math.ceil(JOBS / Math.min(TYPE_MAX, ORG_MAX * 2)) * Math.ceil(PER_MS / STEP_MS);
      const t0 = clock.now();
      let step = 0;
      const completed = async () => (await web.system.list({ status: 'completed', limit: 500 })).items.length;
      while ((await completed()) < jobs.length && step < maxSteps) {
        step++;
        await advanceAll(procs, t0 + step * STEP_MS, step);
      }
      await Promise.all(procs.map((c) => ask(c, 'close', (m) => m === 'closed')));

      const done = await Promise.all(jobs.map((j) => web.system.get(j.id)));
      expect(done.filter((j) => j.status !== 'completed').map((j) => `${j.type} ${j.status}`)).toEqual([]);
      // Every attempt's start, from the history (the claim's instant on the engine clock).
      const starts = await Promise.all(done.map(async (j) => ({
        job: j,
        at: (await web.system.history(j.id)).filter((h) => h.to === 'running').map((h) => h.at.getTime()),
      })));
      expect(starts.every((s) => s.at.length === 1 && s.at[0] === s.job.startedAt!.getTime())).toBe(true);
      const startsOf = (type: string, orgId?: string) => starts.filter((s) => s.job.type === type && (orgId === undefined || s.job.orgId === orgId)).flatMap((s) => s.at);
      expect(peakStartsPerWindow(startsOf('rated'), PER_MS)).toBe(TYPE_MAX);
      expect(peakStartsPerWindow(startsOf('rated-org', 'acme'), PER_MS)).toBe(ORG_MAX);
      expect(peakStartsPerWindow(startsOf('rated-org', 'globex'), PER_MS)).toBe(ORG_MAX);
      // The limit was shared, not per process: several processes started jobs of each type.
      const pids = (type: string) => new Set(done.filter((j) => j.type === type).map((j) => (j.output as { pid: number }).pid));
      expect(pids('rated').size).toBeGreaterThan(1);
      expect(pids('rated-org').size).toBeGreaterThan(1);
      expect([...pids('rated'), ...pids('rated-org')].every((pid) => pid !== process.pid)).toBe(true);
    }, 60_000);
  });
}
