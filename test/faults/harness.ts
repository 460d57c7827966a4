/**
 * The fault harness: real worker processes on a shared store, real faults, and invariant
 * checks that compare the store's record (jobs, history, leases) with the side effects the
 * handlers logged. One file per part, under harness/:
 *
 * - harness/cluster.ts: {@link Cluster}, the store with its worker processes; `create`, `spawn`,
 *   `submit`, the reads, the faults and the checks, as one object (always `close()` it).
 * - harness/store.ts: store setup (a SQLite file in a temp dir, or a Postgres schema of its
 *   own), migrated, with an observer adapter for reads (no engine: the test process never
 *   rescues, claims or runs anything); `PG_URL` and the visible skip reason.
 * - harness/worker-handle.ts and worker-bundle.ts: process spawning. {@link WorkerHandle} kills,
 *   stops, continues and terminates a worker and sends it submits and cancels over IPC.
 * - harness/faults.ts: the store faults: a SQLite lock held past busy_timeout, terminated
 *   Postgres backends, Postgres row locks (SIGKILL, SIGSTOP/SIGCONT, SIGTERM are WorkerHandle's).
 * - harness/invariants.ts: every acknowledged job present and terminal; one exit from
 *   `running` per attempt and at most one terminal transition; no attempt run twice; more than
 *   one successful effect only where history shows a rescue (`worker_lost`).
 * - harness/leases.ts: the lease sampler: no lease held by a dead process after lease + rescue
 *   interval.
 * - harness/effects.ts, random.ts, wait.ts: the effect logs, the seed, bounded waits.
 *
 * Waiting is always a bounded poll of the store; the only sleeps are fault durations.
 * Randomness comes from one seed (`JOBWING_FAULT_SEED` or random), printed on failure.
 * The chaos driver is chaos.ts; the suites import from here.
 */
export { Cluster, work, type ClusterOptions } from './harness/cluster.js';
export { EffectIndex } from './harness/effects.js';
export { clientPortsOf } from './harness/faults.js';
export { checkJob, formatViolations, type CheckOptions, type Violation } from './harness/invariants.js';
export { REPO_ROOT } from './harness/paths.js';
export { Rng, resolveSeed } from './harness/random.js';
export { loadPostgresModule, PG_SKIP_REASON, PG_URL, type StoreKind } from './harness/store.js';
export { sleep, waitFor } from './harness/wait.js';
export { workerArgs } from './harness/worker-bundle.js';
export { WorkerHandle, type SpawnOptions } from './harness/worker-handle.js';
