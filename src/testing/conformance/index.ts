/**
 * jobwing/testing/conformance: THE store conformance kit. The checks every store must pass,
 * written once against the {@link StorageAdapter} contract only, branching only on
 * capabilities, and run by the built-in stores (SQLite file, SQLite `:memory:`, Postgres) and
 * by any third-party store the same way:
 *
 * ```ts
 * import { describeStorageConformance } from 'jobwing/testing/conformance';
 * describeStorageConformance({ name: 'my store', create: async () => myStore(), destroy: async (s) => wipe(s) });
 * ```
 *
 * Needs vitest (an optional peer dependency): the kit registers its checks with it.
 * Time in every check is the `now` passed in (base {@link T0}); no sleeps, no timings.
 * @module jobwing/testing/conformance
 */
import { describe, it } from 'vitest';
import { atomicityChecks } from './atomicity.js';
import { cancelRetryChecks } from './cancel-retry.js';
import { claimFlowControlChecks } from './claim-flow-control.js';
import { claimJobsChecks } from './claim-jobs.js';
import { dependencyChecks } from './dependencies.js';
import { eventChecks } from './events.js';
import { fencingChecks } from './fencing.js';
import { insertAndClaimChecks } from './insert-and-claim.js';
import { insertJobsChecks } from './insert-jobs.js';
import { jobTypeChecks } from './job-types.js';
import { leadershipChecks } from './leadership.js';
import { leaseChecks } from './leases.js';
import { metricsChecks } from './metrics.js';
import { pruneDeleteChecks } from './prune-delete.js';
import { readChecks } from './reads.js';
import { scheduleChecks } from './schedules.js';
import { schemaChecks } from './schema.js';
import { settleJobsChecks } from './settle-jobs.js';
import { ConformanceSuite, type CheckGroup, type CheckResult, type ConformanceCheck, type StorageConformanceOptions } from './suite.js';

export { ALL_STATUSES, completedOutcome, failedOutcome, LEASE_MS, listAll, newJob, PROMOTE_DUE, T0, transientError } from './fixtures.js';
export type { CheckContext, CheckGroup, CheckResult, ConformanceCheck, StorageConformanceOptions } from './suite.js';

/** Every group of checks, one per seam method or group of methods, in the order they run. */
const GROUPS: ((s: ConformanceSuite) => void)[] = [
  schemaChecks,
  insertJobsChecks,
  atomicityChecks,
  dependencyChecks,
  claimJobsChecks,
  claimFlowControlChecks,
  insertAndClaimChecks,
  settleJobsChecks,
  scheduleChecks,
  fencingChecks,
  leaseChecks,
  cancelRetryChecks,
  readChecks,
  metricsChecks,
  pruneDeleteChecks,
  eventChecks,
  jobTypeChecks,
  leadershipChecks,
];

function buildSuite(options: StorageConformanceOptions): ConformanceSuite {
  const suite = new ConformanceSuite(options);
  for (const group of GROUPS) group(suite);
  return suite;
}

/**
 * Registers the whole store conformance suite with vitest, as
 * `storage conformance: <name>`. Each check gets a fresh store from `create()` (the kit calls
 * `migrate()` on it, and `close()` then `destroy()` after it).
 */
export function describeStorageConformance(options: StorageConformanceOptions): void {
  const suite = buildSuite(options);
  const register = (group: CheckGroup): void => {
    for (const child of group.children) {
      if ('children' in child) describe(child.title, () => register(child));
      else it(child.title, (ctx) => suite.run(child, (note) => ctx.skip(note) as never));
    }
  };
  describe(`storage conformance: ${options.name}`, () => register(suite.root));
}

/** Every check of the kit for one store, to run one by one (see {@link runConformanceChecks}). */
export function listConformanceChecks(options: StorageConformanceOptions): ConformanceCheck[] {
  return buildSuite(options).checks();
}

/**
 * Runs checks of the kit without registering tests, and reports each one's outcome instead of
 * failing: how a test shows that a deliberately broken store FAILS a check. `filter` picks
 * checks (e.g. by `fullTitle`); all by default.
 */
export function runConformanceChecks(options: StorageConformanceOptions, filter?: (check: ConformanceCheck) => boolean): Promise<CheckResult[]> {
  return buildSuite(options).runAll(filter);
}
