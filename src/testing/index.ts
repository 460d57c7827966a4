/**
 * jobwing/testing: helpers for users' own tests (and ours).
 * - {@link createTestEngine}: a started engine on in-memory SQLite with a {@link FakeClock}
 * - {@link drain}: run everything due and wait
 * - {@link runJob}: run one handler through the real runner, no store
 * - {@link EventRecorder}: wait on events instead of sleeping
 * @module jobwing/testing
 */
import type { AnyJobType } from '../define-job-type.js';
import { JobEngine, type JobEngineOptions } from '../engine.js';
import { sqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { FakeClock } from './fake-clock.js';

export { FakeClock } from './fake-clock.js';
export { drain, type DrainOptions } from './drain.js';
export { runJob, type RunJobOptions, type RunJobResult } from './run-job.js';
export { EventRecorder } from './event-recorder.js';

/**
 * A started engine on in-memory SQLite with a FakeClock. Stop it with `engine.stop()`.
 * @example
 * ```ts
 * const { engine, clock } = await createTestEngine({ jobTypes: [sendReport] });
 * await engine.system.submit('send-report', input);
 * await drain(engine);
 * ```
 */
export async function createTestEngine<T extends AnyJobType>(
  options: JobEngineOptions<T> & { clock?: FakeClock },
): Promise<{ engine: JobEngine<T>; clock: FakeClock }> {
  const clock = options.clock ?? new FakeClock();
  const engine = new JobEngine<T>({ storage: sqliteStorage({ path: ':memory:' }), ...options, clock });
  await engine.start();
  return { engine, clock };
}
