/**
 * Runs one claimed attempt: builds the handler context, enforces the timeout, turns the
 * handler's result or error into an {@link AttemptOutcome}, and settles it through the
 * engine's settle queue. Every write carries the attempt number (fencing).
 */
import type { AnyImplementedJobType, JobContext } from '../define-job-type.js';
import { InvalidStateError, SnoozeError, ValidationError } from '../errors.js';
import { zodValidationError } from '../validation.js';
import type { Clock, TimerHandle } from '../clock.js';
import { toStorableText } from '../json-faithful.js';
import { MAX_MESSAGE_BYTES, serializePayload, truncate } from '../payload.js';
import { nextRetryAt } from '../retry/retry-decision.js';
import type { AttemptHooks, Instrumentation } from '../instrumentation.js';
import { classifyError } from '../retry/classify.js';
import type { AbortReason } from '../states.js';
import type { AttemptOutcome, ClaimedJob, SettleOutcome, SettleRequest, StorageAdapter } from '../storage/adapter.js';
import type { Job, JobError } from '../types.js';
import type { IsolationPool } from '../isolation/isolation-pool.js';
import { WorkerCrashedError } from '../isolation/worker-crashed-error.js';

/** What a runner needs from the engine. */
export interface RunnerDeps {
  storage: StorageAdapter;
  clock: Clock;
  workerId: string;
  payloadLimitBytes: number;
  /** Random source for backoff jitter. */
  random: () => number;
  instrumentation: Instrumentation;
  settle(req: SettleRequest): Promise<SettleOutcome>;
  reportError(error: unknown, source: string): void;
  /** The engine's worker threads for isolated job types (the type's own pool when absent). */
  isolation?: IsolationPool;
  /**
   * Called once the handler is over (returned, threw, or was abandoned at an abort), before
   * the settle is written: the slot is free from then on. `durationMs` is wall time.
   */
  handlerDone?(durationMs: number): void;
}

type RaceResult =
  | { kind: 'value'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'aborted'; reason: AbortReason };

/** One attempt of one job, from claim to settle. */
export class JobRunner {
  readonly job: Job;
  readonly attempt: number;
  readonly #type: AnyImplementedJobType;
  readonly #deps: RunnerDeps;
  readonly #controller = new AbortController();
  #checkpoint: unknown;
  #latestProgress: { progress: number; message: string | null; at: number } | null = null;
  #progressWrite: Promise<void> | null = null;
  #settled = false;
  readonly #claimed: ClaimedJob;

  constructor(claimed: ClaimedJob, type: AnyImplementedJobType, deps: RunnerDeps) {
    this.#claimed = claimed;
    this.job = claimed.job;
    this.attempt = claimed.attempt;
    this.#type = type;
    this.#deps = deps;
    this.#checkpoint = claimed.job.checkpoint ?? undefined;
  }

  /** Aborts the handler's signal with `reason` (first reason wins; never after the attempt settled). */
  abort(reason: AbortReason): void {
    if (!this.#settled && !this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Why the attempt was aborted, if it was. */
  get abortReason(): AbortReason | undefined {
    return this.#controller.signal.aborted ? (this.#controller.signal.reason as AbortReason) : undefined;
  }

  /** Runs the handler and settles the attempt. Never rejects. */
  async run(): Promise<void> {
    const { clock } = this.#deps;
    const hooks: AttemptHooks = this.#deps.instrumentation.startAttempt(this.#claimed);
    const timer: TimerHandle = clock.setTimeout(() => this.abort('timeout'), this.job.timeoutMs);
    let result: RaceResult;
    const startedAt = performance.now();
    try {
      result = await hooks.run(() => this.#race());
    } finally {
      clock.clearTimeout(timer);
      this.#deps.handlerDone?.(performance.now() - startedAt);
    }
    const outcome = this.#safeOutcome(result);
    hooks.end({ outcome, abortReason: this.abortReason, thrown: result.kind === 'error' ? result.error : undefined });
    if (!outcome) return; // canceled or lease lost: the store already moved on; drop the result
    await this.#progressWrite; // the last progress value lands before the final state
    try {
      const settled = await this.#deps.settle({
        jobId: this.job.id,
        attempt: this.attempt,
        outcome,
        actorId: `engine:${this.#deps.workerId}`,
      });
      if (settled.kind === 'lease_lost') {
        this.abort('lease_lost');
        // Fencing refused this attempt's result. A cancel that won the race is normal and
        // not reported; anything else (a rescue by another engine) is worth an engine:error.
        if (!(await this.#wasCanceled())) {
          this.#deps.reportError(new Error(`Attempt ${this.attempt} of job ${this.job.id} lost its lease; its result was discarded`), 'lease_lost');
        }
      } else this.#settled = true;
    } catch (error) {
      // The settle queue retries store errors itself; reaching here means the engine stopped
      // before it could write. The lease expires and the rescuer takes over.
      this.#deps.reportError(error, 'settle');
    }
  }

  /** True when the job was canceled (the usual reason a finished attempt's settle is refused). */
  async #wasCanceled(): Promise<boolean> {
    try {
      const job = await this.#deps.storage.getJob({ id: this.job.id, orgId: null });
      return job?.status === 'canceled';
    } catch {
      return false;
    }
  }

  #race(): Promise<RaceResult> {
    const signal = this.#controller.signal;
    const aborted = new Promise<RaceResult>((resolve) => {
      if (signal.aborted) resolve({ kind: 'aborted', reason: signal.reason as AbortReason });
      else signal.addEventListener('abort', () => resolve({ kind: 'aborted', reason: signal.reason as AbortReason }), { once: true });
    });
    // isolation: an isolated type runs on the engine's thread pool (closed on stop).
    const iso = this.#type.isolation;
    const pool = this.#deps.isolation;
    const handler = iso && pool ? (input: unknown, ctx: JobContext<unknown>) => pool.run(iso, input, ctx) : this.#type.handler;
    const handled = Promise.resolve()
      .then(() => handler(this.job.input, this.#context()))
      .then(
        (value): RaceResult => ({ kind: 'value', value }),
        (error: unknown): RaceResult => ({ kind: 'error', error }),
      );
    // A handler that ignores its signal keeps running, but its late result is discarded.
    return Promise.race([handled, aborted]);
  }

  /**
   * {@link #toOutcome}, guarded: whatever the handler threw or returned (a null-prototype
   * object, an error whose `message` getter throws, an output schema whose refine throws),
   * the attempt ends as a recorded failure instead of an unhandled rejection in the host.
   */
  #safeOutcome(result: RaceResult): AttemptOutcome | null {
    try {
      return this.#toOutcome(result);
    } catch (error) {
      return this.#failure('permanent', { name: 'JobwingError', message: `The attempt's result could not be processed: ${describeThrown(error)}` });
    }
  }

  #toOutcome(result: RaceResult): AttemptOutcome | null {
    if (result.kind === 'aborted') {
      switch (result.reason) {
        case 'timeout':
          return this.#failure('timeout', { name: 'TimeoutError', message: `Attempt timed out after ${this.job.timeoutMs} ms` });
        case 'shutdown':
          return { kind: 'released', message: 'Released: the worker shut down before the attempt finished' };
        default:
          return null;
      }
    }
    if (result.kind === 'error') {
      const snooze = asSnooze(result.error);
      if (snooze) return { kind: 'snoozed', runAt: this.#deps.clock.now() + snooze.delayMs, message: truncate(snooze.message) };
      if (result.error instanceof WorkerCrashedError) return this.#failure('crashed', result.error); // isolation
      const cls = classifyError(result.error, this.#type.classifyError);
      return this.#failure(cls, result.error);
    }
    return this.#completion(result.value);
  }

  #completion(value: unknown): AttemptOutcome {
    let output = value === undefined ? null : value;
    if (this.#type.output) {
      const parsed = this.#type.output.safeParse(value);
      if (!parsed.success) {
        const detail = zodValidationError('output', parsed.error).message;
        return this.#failure('permanent', { name: 'ValidationError', message: detail });
      }
      output = parsed.data === undefined ? null : parsed.data;
    }
    try {
      const outputJson = serializePayload('output', output, this.#deps.payloadLimitBytes, { jobType: this.#type.name });
      return { kind: 'completed', output, outputJson };
    } catch (error) {
      return this.#failure('permanent', error);
    }
  }

  #failure(cls: 'transient' | 'permanent' | 'timeout' | 'crashed', thrown: unknown): AttemptOutcome {
    const error = toJobError(cls, thrown);
    const retryAt = nextRetryAt({
      classification: cls === 'permanent' ? 'permanent' : 'transient',
      retryCount: this.job.retryCount,
      maxRetries: this.job.maxRetries,
      backoff: this.#type.backoff,
      now: this.#deps.clock.now(),
      random: this.#deps.random,
    });
    return { kind: 'failed', error, retryAt };
  }

  #context(): JobContext<unknown> {
    const job = this.job;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const runner = this;
    return {
      job: {
        id: job.id,
        type: job.type,
        orgId: job.orgId,
        ownerId: job.ownerId,
        attempt: this.attempt,
        retryCount: job.retryCount,
        maxRetries: job.maxRetries,
      },
      get checkpoint() {
        return runner.#checkpoint;
      },
      progress: (percent, message) => this.#progress(percent, message),
      saveCheckpoint: (cp) => this.#saveCheckpoint(cp),
      signal: this.#controller.signal,
    };
  }

  #progress(percent: number, message?: string): Promise<void> {
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      return Promise.reject(new ValidationError(`progress must be a number from 0 to 100, got ${String(percent)}`, [{ path: ['progress'], message: 'must be 0..100' }]));
    }
    if (message !== undefined && (typeof message !== 'string' || Buffer.byteLength(message) > MAX_MESSAGE_BYTES)) {
      return Promise.reject(new ValidationError(`progress message must be a string of at most ${MAX_MESSAGE_BYTES} bytes`, [{ path: ['message'], message: 'too long or not a string' }]));
    }
    const stored = message === undefined ? null : toStorableText(message);
    this.#latestProgress = { progress: percent, message: stored, at: this.#deps.clock.now() };
    // Coalesce: at most one write in flight; later calls fold into the next write.
    this.#progressWrite ??= this.#writeProgress();
    return this.#progressWrite;
  }

  async #writeProgress(): Promise<void> {
    try {
      while (this.#latestProgress && !this.abortReason) {
        const p = this.#latestProgress;
        this.#latestProgress = null;
        try {
          const r = await this.#deps.storage.recordProgress({ jobId: this.job.id, attempt: this.attempt, progress: p.progress, message: p.message, now: p.at });
          if (r.kind === 'lease_lost') this.abort('lease_lost');
        } catch (error) {
          this.#deps.reportError(error, 'progress');
        }
      }
    } finally {
      this.#progressWrite = null;
    }
  }

  async #saveCheckpoint(checkpoint: unknown): Promise<void> {
    let value = checkpoint;
    if (this.#type.checkpoint) {
      const parsed = this.#type.checkpoint.safeParse(checkpoint);
      if (!parsed.success) throw zodValidationError('checkpoint', parsed.error, ['checkpoint']);
      value = parsed.data;
    }
    const checkpointJson = serializePayload('checkpoint', value, this.#deps.payloadLimitBytes, { jobType: this.#type.name });
    const r = await this.#deps.storage.saveCheckpoint({ jobId: this.job.id, attempt: this.attempt, checkpointJson, now: this.#deps.clock.now() });
    if (r.kind === 'lease_lost') {
      this.abort('lease_lost');
      throw new InvalidStateError('The lease of this attempt was lost; the checkpoint was not saved', 'running');
    }
    this.#checkpoint = value;
  }
}

/**
 * A thrown {@link SnoozeError}, also one from another realm (a worker thread's copy of the
 * class), recognised by name and a valid `delayMs`; else null.
 */
function asSnooze(thrown: unknown): { delayMs: number; message: string } | null {
  if (thrown instanceof SnoozeError) return { delayMs: thrown.delayMs, message: thrown.message };
  if (readSafely(thrown, 'name') !== 'SnoozeError') return null;
  const delayMs = (thrown as { delayMs?: unknown }).delayMs;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) return null;
  return { delayMs: Math.round(delayMs), message: describeThrown(thrown) };
}

/**
 * Turns anything thrown into a stored error record (message truncated). Never throws: a
 * value whose `message`/`name` getters or `toString` throw is described best-effort.
 */
export function toJobError(type: JobError['type'], thrown: unknown): JobError {
  const error: JobError = { type, message: truncate(describeThrown(thrown)) };
  const name = readSafely(thrown, 'name');
  if (typeof name === 'string' && name) error.name = truncate(name, 200);
  return error;
}

/** The message of an error-like value, else its string form, else a placeholder. */
function describeThrown(thrown: unknown): string {
  const message = readSafely(thrown, 'message');
  if (message !== undefined && message !== null) {
    try {
      return String(message);
    } catch {
      // fall through to the value itself
    }
  }
  try {
    return String(thrown);
  } catch {
    return `(a thrown ${thrown === null ? 'null' : typeof thrown} that cannot be turned into a string)`;
  }
}

function readSafely(value: unknown, key: 'message' | 'name'): unknown {
  if (!value || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}
