/** Engines on one store (a second process's view of the same data), stopped after each test. */
import { onTestFinished } from 'vitest';
import { JobEngine, type AnyJobType, type JobEngineOptions } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import type { StoreKind } from '../helpers/stores.js';

/** Returns a factory of started engines sharing `kind`'s fresh store and one fake clock. */
export function sharedStore(kind: StoreKind) {
  kind.fresh();
  const clock = new FakeClock();
  return {
    clock,
    async engine<T extends AnyJobType>(options: Partial<JobEngineOptions<T>> & { jobTypes: readonly T[] }): Promise<JobEngine<T>> {
      const engine = new JobEngine<T>({ storage: kind.open(), clock, pollIntervalMs: 1000, leaseMs: 30_000, ...options });
      await engine.start();
      onTestFinished(() => engine.stop({ graceMs: 0 }));
      return engine;
    },
  };
}
