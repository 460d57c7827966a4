/** explain(id): every reason, with the detail that makes it actionable, on every store. */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, JobEngine, SnoozeError, TransientError } from '../../src/index.js';
import { drain, FakeClock } from '../../src/testing/index.js';
import { storeKinds } from '../helpers/stores.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

let release: () => void = () => {};
let gate = new Promise<void>((r) => (release = r));
const gateOpen = () => gate;
const held = defineJobType({ name: 'held', input: z.object({ n: z.number() }), dedupWindowMs: 0, concurrency: 1, async handler() { await gateOpen(); return {}; } });
const failing = defineJobType({
  name: 'failing', input: z.object({}), dedupWindowMs: 0, maxRetries: 2, backoff: { baseMs: 60_000, jitter: 'none' },
  async handler() { throw new TransientError('upstream down'); },
});
const quick = defineJobType({ name: 'quick', input: z.object({ n: z.number() }), dedupWindowMs: 0, async handler() { return {}; } });
const elsewhere = defineJobType({ name: 'elsewhere', input: z.object({}), dedupWindowMs: 0 });
const parked = defineJobType({ name: 'parked', input: z.object({}), dedupWindowMs: 0, async handler() { return {}; } });
const sleepy = defineJobType({ name: 'sleepy', input: z.object({}), dedupWindowMs: 0, async handler() { throw new SnoozeError(60_000, 'Retry-After 60'); } });

for (const kind of storeKinds()) {
  describe.skipIf(kind.skip !== '')(`explain on ${kind.name}${kind.skip}`, () => {
    it('names the reason of every state', async () => {
      kind.fresh();
      gate = new Promise<void>((r) => (release = r));
      const clock = new FakeClock();
      const engine = new JobEngine({ jobTypes: [held, failing, quick, elsewhere, sleepy], storage: kind.open(), clock, pollIntervalMs: 1000, leaseMs: 30_000 });
      await engine.start();
      stops.push(() => engine.stop({ graceMs: 0 }));
      const sys = engine.system;

      const first = await sys.submit('held', { n: 1 });
      const second = await sys.submit('held', { n: 2 });
      for (let i = 0; i < 1000 && (await sys.get(first.id)).status !== 'running'; i++) await new Promise<void>((r) => setImmediate(r));
      const running = await sys.explain(first.id);
      expect(running).toMatchObject({ reason: 'running', status: 'running' });
      expect(running.detail).toContain(engine.workerId);
      expect(running.detail).toMatch(/last heartbeat at \d{4}-/);
      const capped = await sys.explain(second.id);
      expect(capped).toMatchObject({ reason: 'concurrency_limit', status: 'queued' });
      expect(capped.detail).toContain(first.id);

      await sys.updateJobType('held', { paused: true });
      expect((await sys.explain(second.id)).reason).toBe('type_paused');
      await sys.updateJobType('held', { paused: false, concurrency: null });

      const later = await sys.submit('quick', { n: 1 }, { delayMs: 60_000 });
      expect(await sys.explain(later.id)).toMatchObject({ reason: 'scheduled' });
      expect((await sys.explain(later.id)).detail).toContain(new Date(clock.now() + 60_000).toISOString());

      const parent = await sys.submit('quick', { n: 2 }, { delayMs: 120_000 });
      const child = await sys.submit('quick', { n: 3 }, { dependsOn: [parent.id] });
      expect(await sys.explain(child.id)).toMatchObject({ reason: 'waiting_on_parent' });
      expect((await sys.explain(child.id)).detail).toContain(parent.id);

      await sys.updateJobType('quick', { rateLimit: { max: 1, perMs: 10_000 } });
      const r1 = await sys.submit('quick', { n: 20 });
      const r2 = await sys.submit('quick', { n: 21 });
      const statuses = async () => (await Promise.all([r1, r2].map((j) => sys.get(j.id)))).map((j) => j.status).sort();
      for (let i = 0; i < 2000 && !(await statuses()).includes('completed'); i++) await new Promise<void>((r) => setImmediate(r));
      for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r)); // a second claim would have run by now
      const starts = await statuses();
      expect(starts).toEqual(['completed', 'queued']);
      const heldBack = (await sys.get(r1.id)).status === 'queued' ? r1 : r2;
      const rated = await sys.explain(heldBack.id);
      expect(rated).toMatchObject({ reason: 'rate_limited', status: 'queued' });
      expect(rated.detail).toContain(new Date(clock.now() + 10_000).toISOString());
      await sys.updateJobType('quick', { rateLimit: null });

      const orphan = await sys.submit('elsewhere', {});
      expect(await sys.explain(orphan.id)).toMatchObject({ reason: 'no_worker_for_type', status: 'queued' });

      const fails = await sys.submit('failing', {});
      for (let i = 0; i < 2000 && (await sys.get(fails.id)).status !== 'retrying'; i++) await new Promise<void>((r) => setImmediate(r));
      const backoff = await sys.explain(fails.id);
      expect(backoff).toMatchObject({ reason: 'retry_backoff' });
      expect(backoff.detail).toContain('upstream down');

      const snoozed = await sys.submit('sleepy', {});
      for (let i = 0; i < 2000 && (await sys.get(snoozed.id)).status !== 'scheduled'; i++) await new Promise<void>((r) => setImmediate(r));
      const nap = await sys.explain(snoozed.id);
      expect(nap).toMatchObject({ reason: 'snoozed', status: 'scheduled' });
      expect(nap.detail).toContain('Retry-After 60');

      release();
      await drain(engine);
      const done = await sys.explain(first.id);
      expect(done).toMatchObject({ reason: 'finished', status: 'completed' });
      expect(done.since).toBeInstanceOf(Date);

      const alice = engine.as({ userId: 'alice', orgId: 'other' });
      await expect(alice.explain(first.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const ready = await alice.submit('quick', { n: 9 });
      // (the engine may claim it at once; either answer is right, but never another reason)
      expect(['ready', 'running', 'finished']).toContain((await alice.explain(ready.id)).reason);
    });

    it("'type_disabled' for a queued job of a disabled type that nothing else holds back, and the job still runs", async () => {
      kind.fresh();
      gate = new Promise<void>((r) => (release = r));
      const clock = new FakeClock();
      // One slot, taken by `held`: a `quick` job then waits queued with nothing of its own holding it back.
      const engine = new JobEngine({ jobTypes: [held, quick, elsewhere, parked], storage: kind.open(), clock, pollIntervalMs: 1000, concurrency: 1 });
      await engine.start();
      stops.push(() => engine.stop({ graceMs: 0 }));
      const sys = engine.system;
      const blocker = await sys.submit('held', { n: 1 });
      for (let i = 0; i < 1000 && (await sys.get(blocker.id)).status !== 'running'; i++) await new Promise<void>((r) => setImmediate(r));
      const job = await sys.submit('quick', { n: 1 });
      const later = await sys.submit('quick', { n: 2 }, { delayMs: 60_000 });
      const orphan = await sys.submit('elsewhere', {});
      const parkedJob = await sys.submit('parked', {});
      expect((await sys.explain(job.id)).reason).toBe('ready');

      await sys.updateJobType('quick', { enabled: false });
      await sys.updateJobType('elsewhere', { enabled: false });
      await sys.updateJobType('parked', { enabled: false });
      await expect(sys.submit('quick', { n: 3 })).rejects.toMatchObject({ code: 'JOB_TYPE_DISABLED' });
      const disabled = await sys.explain(job.id);
      expect(disabled).toMatchObject({ reason: 'type_disabled', status: 'queued' });
      // Truthful: disabling refuses new submits only, so the sentence says the job still runs, and how to re-enable.
      expect(disabled.detail).toContain('"quick" is disabled');
      expect(disabled.detail).toContain('still runs');
      expect(disabled.detail).toContain('enabled: true');
      expect(disabled.detail.split('. ')).toHaveLength(1);
      // Only when it is the real reason: a pause, a missing worker or the run time come first.
      // (A type of its own, paused for good: resuming races the engine's periodic settings reload.)
      await sys.updateJobType('parked', { paused: true });
      expect((await sys.explain(parkedJob.id)).reason).toBe('type_paused');
      expect((await sys.explain(orphan.id)).reason).toBe('no_worker_for_type');
      expect((await sys.explain(later.id)).reason).toBe('scheduled');

      // What the detail promised: the queued job (and the scheduled one, when due) run while the type is disabled.
      release();
      await drain(engine, { advanceClock: true });
      expect((await sys.get(job.id)).status).toBe('completed');
      expect((await sys.get(later.id)).status).toBe('completed');
      expect((await sys.get(parkedJob.id)).status).toBe('queued'); // paused, unlike disabled, holds it
      expect((await sys.jobTypes()).find((t) => t.name === 'quick')?.enabled).toBe(false);
      expect((await sys.explain(job.id)).reason).toBe('finished');
    });
  });
}
