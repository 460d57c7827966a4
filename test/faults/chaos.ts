/**
 * The chaos loop shared by the fast chaos tests and `npm run soak`: worker processes under a
 * supervisor, continuous submits of randomly behaving jobs (crashing, slow, checkpointing,
 * dependent, canceled), and random faults: SIGKILL, SIGSTOP…SIGCONT, SIGTERM (graceful
 * restart), and a store fault (SQLite: an exclusive lock past busy_timeout; Postgres: the
 * workers' backends terminated). After each round it quiesces (no new submits or faults,
 * every worker continued), waits until every job is terminal and checks the invariants.
 */
import type { WorkInput, Behavior } from './fixtures/job-types.js';
import { sleep, type Cluster, type Rng, type SpawnOptions, type Violation } from './harness.js';

export type FaultKind = 'kill' | 'stop' | 'term' | 'store';

/** Options of {@link chaosRound}. */
export interface ChaosOptions {
  durationMs: number;
  /** Worker processes kept alive. */
  workers: number;
  faults: FaultKind[];
  /** Pause between two faults, drawn uniformly. */
  faultGapMs: [number, number];
  /** Pause between two submits, drawn uniformly. */
  submitGapMs: [number, number];
  /** Jobs per submit, drawn uniformly. */
  batch: [number, number];
  /** Options of every worker. */
  spawn?: SpawnOptions;
  /** Bound of the final wait for every job to end. (Default: 120_000) */
  settleTimeoutMs?: number;
  /** Share of jobs whose handler kills its own process (see {@link randomWork}). (Default: 0.05) */
  crashRate?: number;
}

/** What one round did and found. */
export interface ChaosStats {
  jobs: number;
  faults: Record<FaultKind, number>;
  violations: Violation[];
  /** How long the quiesce phase took (every job ending after the faults stopped). */
  settleMs: number;
}

/**
 * A random behaviour for one job. `crashRate`: share of jobs whose handler kills its own
 * process on an early attempt (a tenth of those on every attempt: poison pills). Every crash
 * costs the cluster a lease and a restart, so it is kept low enough for rounds to drain.
 */
export function randomWork(rng: Rng, leaseMs: number, crashRate = 0.05): { input: WorkInput; maxRetries?: number } {
  const behavior = (): Behavior => {
    const b: Behavior = { ms: rng.chance(0.05) ? rng.int(leaseMs, 3 * leaseMs) : rng.int(0, 300) };
    if (rng.chance(0.4)) b.progress = true;
    if (rng.chance(0.25)) b.checkpoint = true;
    return b;
  };
  const input: WorkInput = { run: behavior() };
  const r = rng.next();
  if (r < crashRate / 10) {
    // A poison pill: kills its process on every attempt.
    input.run = { ...input.run, crash: 'start' };
    return { input, maxRetries: 1 };
  }
  if (r < crashRate) {
    input.byAttempt = { '1': { ...behavior(), crash: rng.pick(['start', 'mid', 'after-effect'] as const) } };
    if (rng.chance(0.2)) input.byAttempt['2'] = { ...behavior(), crash: rng.pick(['mid', 'after-effect'] as const) };
  }
  return { input };
}

/** Runs one chaos round on `c` and checks the invariants over its jobs. */
export async function chaosRound(c: Cluster, o: ChaosOptions): Promise<ChaosStats> {
  const rng = c.rng;
  const faults: Record<FaultKind, number> = { kill: 0, stop: 0, term: 0, store: 0 };
  const spawnOptions: SpawnOptions = o.spawn ?? {};
  const live = () => c.workers.filter((w) => w.alive);
  // Top up to the target number of workers, then keep it there.
  const missing = o.workers - live().length;
  if (missing > 0) await c.spawnMany(missing, spawnOptions);
  const unsupervise = c.supervise(spawnOptions, () => rng.int(0, c.leaseMs));
  c.startLeaseSampler(150);

  const end = Date.now() + o.durationMs;
  const inFlight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p.catch(() => undefined).finally(() => inFlight.delete(q));
    inFlight.add(q);
  };
  const recent: string[] = [];

  const submitter = (async () => {
    while (Date.now() < end) {
      await sleep(rng.int(...o.submitGapMs));
      const via = c.available();
      if (via.length === 0 || inFlight.size > 8) continue;
      const n = rng.int(...o.batch);
      const entries = Array.from({ length: n }, () => {
        const { input, maxRetries } = randomWork(rng, c.leaseMs, o.crashRate ?? 0.05);
        const options: Record<string, unknown> = {};
        if (maxRetries !== undefined) options.maxRetries = maxRetries;
        if (rng.chance(0.25)) options.priority = rng.pick(['critical', 'high', 'normal', 'low']);
        if (recent.length > 0 && rng.chance(0.08)) options.dependsOn = [rng.pick(recent)];
        if (rng.chance(0.05)) options.delayMs = rng.int(0, 500);
        return { input, options };
      });
      const cancelLater = rng.chance(0.1);
      const cancelAfterMs = rng.int(0, 600);
      track(
        c.submit(entries, rng.pick(via)).then(async (ids) => {
          recent.push(...ids);
          if (recent.length > 50) recent.splice(0, recent.length - 50);
          if (cancelLater) {
            await sleep(cancelAfterMs);
            const by = c.available();
            if (by.length > 0) await rng.pick(by).cancel(rng.pick(ids)).catch(() => undefined);
          }
        }),
      );
    }
  })();

  let storeFaultBusy = false;
  const injector = (async () => {
    while (Date.now() < end) {
      await sleep(rng.int(...o.faultGapMs));
      if (Date.now() >= end) break;
      const kind = rng.pick(o.faults);
      const avail = c.available();
      switch (kind) {
        case 'kill': {
          const alive = live();
          if (alive.length === 0) break;
          faults.kill++;
          const w = rng.pick(alive);
          c.note({ k: 'kill', w: w.id });
          track(w.kill());
          break;
        }
        case 'stop': {
          // Keep at least one worker running, so the cluster can still rescue.
          if (avail.length < 2) break;
          const w = rng.pick(avail);
          const ms = rng.int(Math.round(0.3 * c.leaseMs), 2 * c.leaseMs);
          faults.stop++;
          c.note({ k: 'stop', w: w.id, ms });
          w.stop();
          track(sleep(ms).then(() => (c.note({ k: 'cont', w: w.id }), w.cont())));
          break;
        }
        case 'term': {
          if (avail.length < 2) break;
          faults.term++;
          const w = rng.pick(avail);
          c.note({ k: 'term', w: w.id });
          w.term();
          break;
        }
        case 'store': {
          if (storeFaultBusy) break;
          storeFaultBusy = true;
          faults.store++;
          if (c.spec.kind === 'sqlite') {
            const busy = c.spec.busyTimeoutMs ?? 5000;
            const ms = rng.int(Math.round(busy * 1.5), Math.max(Math.round(busy * 1.5) + 1, Math.round(0.9 * c.leaseMs)));
            track(c.holdSqliteLock(ms).finally(() => (storeFaultBusy = false)));
          } else {
            const targets = live().filter(() => rng.chance(0.6));
            track(c.terminateBackends(targets.length > 0 ? targets : live()).finally(() => (storeFaultBusy = false)));
          }
          break;
        }
      }
    }
  })();

  await Promise.all([submitter, injector]);
  const quiesceAt = Date.now();
  // Quiesce: continue everyone, let every submit, cancel and fault finish, keep workers up.
  for (const w of c.workers) w.cont();
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  for (const w of c.workers) w.cont();
  // The supervisor stays on until every job ended: crashing handlers still kill workers.
  await c.waitAllTerminal({ timeoutMs: o.settleTimeoutMs ?? 120_000 });
  const settleMs = Date.now() - quiesceAt;
  unsupervise();
  await c.stopLeaseSampler();
  c.refreshEffects();
  // Every job not checked before: the acknowledged ones and those whose submit was cut short.
  const roundJobs = (await c.allJobs()).map((j) => j.id).filter((id) => !c.checked.has(id));
  const violations = await c.checkInvariants({ jobIds: roundJobs });
  for (const id of roundJobs) c.checked.add(id);
  c.violations.length = 0;
  return { jobs: roundJobs.length, faults, violations, settleMs };
}
