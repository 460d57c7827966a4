/**
 * `drain(engine)`: runs everything that is due and waits until nothing runs. With
 * `advanceClock: true` and a {@link FakeClock}, also jumps time to each next due job
 * (delays, retries) until no scheduled or retrying job is left.
 */
import { engineInternals, type JobEngine } from '../engine.js';
import type { AnyJobType } from '../define-job-type.js';
import { FakeClock } from './fake-clock.js';

/** Options of {@link drain}. */
export interface DrainOptions {
  /** Jump a FakeClock forward to each next due time until nothing is left. (Default: false) */
  advanceClock?: boolean;
  /** Safety bound on clock jumps. (Default: 10_000) */
  maxSteps?: number;
}

/**
 * Runs every due job of a started worker engine and resolves when none is left running;
 * all events of those jobs have been delivered when it resolves.
 * @example
 * ```ts
 * await client.submit('send-report', input);
 * await drain(engine);
 * ```
 */
export async function drain<T extends AnyJobType>(engine: JobEngine<T>, options: DrainOptions = {}): Promise<void> {
  const internals = engine[engineInternals];
  const maxSteps = options.maxSteps ?? 10_000;
  for (let step = 0; ; step++) {
    internals.wake();
    await internals.whenIdle();
    await internals.flushEvents();
    if (!options.advanceClock) return;
    const clock = internals.clock;
    if (!(clock instanceof FakeClock)) throw new TypeError('drain({ advanceClock: true }) needs an engine built with a FakeClock');
    const next = await internals.storage.nextDueAt();
    if (next === null) return;
    if (step >= maxSteps) throw new Error(`drain: still not done after ${maxSteps} clock jumps`);
    await clock.advanceTo(Math.max(next, clock.now()));
  }
}
