/**
 * Runs a fault suite once per store: SQLite file always, Postgres when `JOBWING_TEST_PG_URL`
 * is set (otherwise the suite is skipped with the reason in its title). Every cluster made in
 * a test is closed after it; on failure its files are kept and the seed is printed.
 *
 * The store suites of one file run concurrently (most of a fault test is waiting for a lease
 * to expire); the tests inside one suite must be `it.sequential`, so that each test has the
 * machine's attention to itself on its store.
 */
import { afterEach, describe } from 'vitest';
import { Cluster, PG_SKIP_REASON, type ClusterOptions, type StoreKind } from './harness.js';

/** Makes a cluster on the suite's store; closed after the test. */
export type MakeCluster = (o: Omit<ClusterOptions, 'store'>) => Promise<Cluster>;

export function describeOnStores(title: string, body: (store: StoreKind, makeCluster: MakeCluster) => void, stores: StoreKind[] = ['sqlite', 'postgres']): void {
  for (const store of stores) {
    const skip = store === 'postgres' && PG_SKIP_REASON !== null;
    describe.skipIf(skip).concurrent(`${title} — ${store === 'sqlite' ? 'SQLite file' : 'Postgres'}${skip ? ` ${PG_SKIP_REASON}` : ''}`, () => {
      const clusters: Cluster[] = [];
      afterEach(async (ctx) => {
        // (An `it.fails` test is expected to fail: nothing to keep.)
        const failed = !ctx.task.fails && (ctx.task.result?.state === 'fail' || (ctx.task.result?.errors?.length ?? 0) > 0);
        for (const c of clusters.splice(0)) {
          if (failed) console.error(`[faults] "${ctx.task.name}" failed: JOBWING_FAULT_SEED=${c.seed}; files kept in ${c.dir}; workers: ${c.describeWorkers()}`);
          await c.close({ keepFiles: failed });
        }
      });
      body(store, async (o) => {
        const c = await Cluster.create({ ...o, store });
        clusters.push(c);
        return c;
      });
    });
  }
}
