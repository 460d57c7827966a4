/**
 * `client.waitFor(id)`: resolves once a job is finished (completed, dead_letter, canceled),
 * whichever process runs it. Listens to status events first and then re-reads the job, so a
 * job that finishes between the caller's last read and the subscription is never missed.
 */
import { z } from 'zod';
import type { Clock, TimerHandle } from './clock.js';
import { EngineStoppedError, TimeoutError } from './errors.js';
import type { SafeEmitter } from './events.js';
import { isTerminal } from './states.js';
import type { Job, JobStatusEvent } from './types.js';

/** Options of `client.waitFor`. */
export interface WaitForOptions {
  /** Rejects with `TimeoutError` (code TIMEOUT) after this long. (Default: no limit) */
  timeoutMs?: number;
  /** Rejects with `signal.reason` when it aborts. */
  signal?: AbortSignal;
}

export const waitForOptionsSchema = z
  .object({
    timeoutMs: z.number().int().min(0).max(2_147_483_647).optional(),
    signal: z.custom<AbortSignal>((s) => s instanceof AbortSignal, 'must be an AbortSignal').optional(),
  })
  .strict();

/** What a wait needs from the engine. */
export interface WaitDeps {
  emitter: SafeEmitter;
  clock: Clock;
  /** Reads the job in the caller's scope (throws JobNotFoundError like `get`). */
  load(): Promise<Job>;
  /** Calls `fn` when the engine stops; returns an unsubscribe function. */
  onStop(fn: () => void): () => void;
}

/** Waits for `jobId` to finish. Every listener and timer is removed when it settles. */
export function waitForJob(deps: WaitDeps, jobId: string, options: z.output<typeof waitForOptionsSchema>): Promise<Job> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<Job>((resolve, reject) => {
    let done = false;
    let lastStatus: Job['status'] = 'queued';
    let timer: TimerHandle | null = null;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      deps.emitter.off('job:status', onStatus);
      signal?.removeEventListener('abort', onAbort);
      offStop();
      if (timer) deps.clock.clearTimeout(timer);
      fn();
    };
    const check = () => {
      deps.load().then(
        (job) => {
          lastStatus = job.status;
          if (isTerminal(job.status)) finish(() => resolve(job));
        },
        (error: unknown) => finish(() => reject(error)),
      );
    };
    // A terminal event triggers a fresh read: the event may be older than a later admin retry.
    const onStatus = (e: JobStatusEvent) => {
      if (e.jobId !== jobId || done) return;
      lastStatus = e.to;
      if (isTerminal(e.to)) check();
    };
    const onAbort = () => finish(() => reject(signal!.reason));
    const offStop = deps.onStop(() => finish(() => reject(new EngineStoppedError(`The engine stopped while waiting for job ${JSON.stringify(jobId)}`))));
    deps.emitter.on('job:status', onStatus);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = deps.clock.setTimeout(() => finish(() => reject(new TimeoutError(jobId, timeoutMs, lastStatus))), timeoutMs);
    check();
  });
}
