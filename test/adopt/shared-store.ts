/** Engines on one store (a second process's view of the same data), stopped after each test. */
import { onTestFinished } from 'vitest';
import { JobEngine, type AnyJobType, type JobEngineOptions } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import type { StoreKind } from '../helpers/stores.js';

/** A fake clock that also tracks which delays have a live timer, to prove none is left behind. */
export class TrackingClock extends FakeClock {
  readonly #live = new Map<object, number>();
  override setTimeout(fn: () => void, ms: number) {
    const handle: object = super.setTimeout(() => {
      this.#live.delete(handle);
      fn();
    }, ms);
    this.#live.set(handle, ms);
    return handle;
  }
  override clearTimeout(handle: object): void {
    this.#live.delete(handle);
    super.clearTimeout(handle);
  }
  /** Live timers set with exactly `ms`. */
  liveTimers(ms: number): number {
    return [...this.#live.values()].filter((v) => v === ms).length;
  }
}

/** Returns a factory of started engines sharing `kind`'s fresh store and one fake clock. */
export function sharedStore(kind: StoreKind) {
  kind.fresh();
  const clock = new TrackingClock();
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

/** Polls `cond` between macrotasks (no timers) until it holds; fails after `maxTurns`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (await cond()) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}
