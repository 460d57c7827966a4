/**
 * Fencing and racing writers: R4 (a worker SIGSTOPped past its lease comes back and writes
 * late) and R8 (the rescuer racing finishing workers: one terminal transition per attempt);
 * and, in a second suite run concurrently, a short run of the chaos loop that `npm run soak`
 * runs for minutes.
 */
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { chaosRound } from './chaos.js';
import { formatViolations, sleep, waitFor } from './harness.js';
import { describeOnStores } from './fault-suite.js';

describeOnStores('fencing', (_store, makeCluster) => {
  it.sequential('R4 fencing: SIGSTOP a worker past its lease, another finishes the job, SIGCONT: late completion, progress and checkpoint are rejected; the final state is the second worker\'s', async () => {
    const c = await makeCluster({ name: 'r4', leaseMs: 800 });
    const a = await c.spawn({ concurrency: 3 });
    const release = `${c.dir}/a-may-continue`;
    // Attempt 1 (on A): checkpoint and progress, then block until released and write late.
    // Later attempts (on B): checkpoint and progress to 100, complete.
    const late = (what: 'complete' | 'progress' | 'checkpoint') => ({
      tag: `late-${what}`,
      run: { ms: 60, progress: true, checkpoint: true },
      byAttempt: { '1': { ms: 40, progress: true, checkpoint: true, waitFile: release, late: what, ignoreSignal: true } },
    });
    const ids = await c.submit([{ input: late('complete') }, { input: late('progress') }, { input: late('checkpoint') }], a);
    for (const id of ids) await c.waitForEffect(`${id} to block on A`, (e) => e.k === 'waiting' && e.job === id);

    a.stop();
    const b = await c.spawn({ concurrency: 3 });
    await c.waitAllTerminal({ ids });
    writeFileSync(release, '');
    a.cont();
    // A learns, for each job, that its lease is gone (heartbeat or refused settle).
    for (const id of ids) await c.waitForEffect(`A to be told ${id} is lost`, (e) => e.k === 'signal' && e.job === id && e.w === a.id);
    for (const id of ids) await c.waitForEffect(`A's late write of ${id}`, (e) => e.k === 'late' && e.job === id);

    const byTag = new Map<string, string>();
    for (const id of ids) byTag.set(((await c.job(id)).input as { tag: string }).tag, id);
    for (const id of ids) {
      const job = await c.job(id);
      expect(job.status).toBe('completed');
      expect(job.output).toMatchObject({ by: b.id, attempt: 2 });
      expect(job.checkpoint).toMatchObject({ by: b.id });
      expect(job.progress).toBe(100);
      const h = await c.history(id);
      const exits = h.filter((e) => e.from === 'running').map((e) => `${e.to}#${e.attempt}:${e.error?.type ?? ''}:${e.actorId}`);
      expect(exits).toEqual([`retrying#1:worker_lost:engine:${b.id}`, `completed#2::engine:${b.id}`]);
      const aborted = c.effects.of(id, 'signal').find((e) => e.w === a.id);
      expect(aborted?.reason).toBe('lease_lost');
    }
    const cpLate = c.effects.of(byTag.get('late-checkpoint')!, 'late')[0]!;
    expect(cpLate.result).toBe('rejected');
    await c.assertInvariants();
  }, 60_000);

  it.sequential('R8 one terminal transition: workers SIGSTOPped around their lease expiry race the rescuer; never two terminal states or two exits of one attempt', async () => {
    const c = await makeCluster({ name: 'r8', leaseMs: 600 });
    const stats = await chaosRound(c, {
      durationMs: 2_000,
      workers: 3,
      faults: ['stop'],
      faultGapMs: [100, 400],
      submitGapMs: [20, 80],
      batch: [1, 4],
      spawn: { concurrency: 6 },
      crashRate: 0,
      settleTimeoutMs: 45_000,
    });
    expect(stats.faults.stop).toBeGreaterThan(0);
    expect(stats.jobs).toBeGreaterThan(0);
    if (stats.violations.length > 0) throw new Error(formatViolations(stats.violations, c.seed));
    // And a targeted race: stop a worker exactly for its lease, so that it resumes and settles
    // while the rescuer is taking the same attempts.
    const [w] = c.available();
    const ids = await c.submit(Array.from({ length: 6 }, () => ({ input: { run: { ms: 300 } } })), w);
    await waitFor('the jobs to start', () => ids.every((id) => c.refreshEffects().of(id, 'start').length > 0));
    const owners = new Set(ids.map((id) => c.effects.of(id, 'start')[0]!.w));
    const victims = c.workers.filter((x) => owners.has(x.id) && x.alive);
    for (const v of victims) v.stop();
    await sleep(c.leaseMs + c.rng.int(0, 300)); // the fault: stopped for about one lease
    for (const v of victims) v.cont();
    await c.waitAllTerminal();
    await c.assertInvariants();
  }, 90_000);
});

// Random SIGKILL, SIGSTOP…SIGCONT, SIGTERM and store faults, crashing and poison handlers,
// dependencies and cancels, continuous submits; then every invariant over every job.
describeOnStores('chaos', (store, makeCluster) => {
  it.sequential('mixed faults: every acknowledged job ends terminal, one exit per attempt, extra effects only after a rescue, no lease left to a dead worker', async () => {
    const c = await makeCluster({ name: 'chaos', leaseMs: 800, ...(store === 'sqlite' ? { busyTimeoutMs: 250 } : {}) });
    const stats = await chaosRound(c, {
      durationMs: 2_500,
      workers: 3,
      faults: ['kill', 'stop', 'term', 'store'],
      faultGapMs: [150, 500],
      submitGapMs: [40, 120],
      batch: [1, 3],
      spawn: { concurrency: 6 },
      settleTimeoutMs: 60_000,
    });
    expect(stats.jobs).toBeGreaterThan(0);
    if (stats.violations.length > 0) throw new Error(formatViolations(stats.violations, c.seed));
  }, 90_000);
});
