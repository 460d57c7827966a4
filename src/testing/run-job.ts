/**
 * `runJob(jobType, input)`: runs one handler through the real runner (context, timeout,
 * output validation, error classification, backoff) without a store or an engine.
 */
import { randomUUID } from 'node:crypto';
import { isImplemented, type AnyImplementedJobType, type CheckpointOf, type InputOf, type OutputOf } from '../define-job-type.js';
import { systemClock, type Clock } from '../clock.js';
import { Instrumentation } from '../instrumentation.js';
import { DEFAULT_PAYLOAD_LIMIT_BYTES, serializePayload } from '../payload.js';
import { JobRunner } from '../scheduler/job-runner.js';
import type { AttemptOutcome, StorageAdapter } from '../storage/adapter.js';
import type { Job, JobError } from '../types.js';
import { zodValidationError } from '../validation.js';

/** Options of {@link runJob}. */
export interface RunJobOptions<Checkpoint> {
  /** Attempt number seen by the handler; retryCount is attempt - 1. (Default: 1) */
  attempt?: number;
  /** Checkpoint saved by an earlier attempt. */
  checkpoint?: Checkpoint;
  /** (Default: the type's maxRetries) */
  maxRetries?: number;
  /** (Default: the type's timeoutMs) */
  timeoutMs?: number;
  /** (Default: the system clock) */
  clock?: Clock;
  /** Jitter source. (Default: Math.random) */
  random?: () => number;
  /** Aborts the handler's signal with 'canceled' when this signal aborts. */
  cancelSignal?: AbortSignal;
}

/** What happened in the attempt. */
export interface RunJobResult<Output, Checkpoint> {
  /**
   * `completed`, `retrying` (transient with retries left), `dead_letter`, `canceled`, or
   * `snoozed` (the handler threw `SnoozeError`; `retryAt` is when it would be due again).
   */
  status: 'completed' | 'retrying' | 'dead_letter' | 'canceled' | 'snoozed';
  output: Output | null;
  error: JobError | null;
  /** When the next attempt would be due, for `retrying` and `snoozed`. */
  retryAt: Date | null;
  progress: { progress: number; message: string | null }[];
  checkpoints: Checkpoint[];
}

/**
 * Runs `jobType`'s handler once with `input` (validated like a submit) and reports the outcome.
 * @example
 * ```ts
 * const r = await runJob(sendReport, { reportId: 'r1', email: 'a@b.co' });
 * expect(r.status).toBe('completed');
 * ```
 */
export async function runJob<T extends AnyImplementedJobType>(
  jobType: T,
  input: InputOf<T>,
  options: RunJobOptions<CheckpointOf<T>> = {},
): Promise<RunJobResult<OutputOf<T>, CheckpointOf<T>>> {
  if (!isImplemented(jobType)) throw new TypeError(`runJob: job type "${String((jobType as { name?: unknown })?.name)}" has no handler; pass the result of .implement(handler)`);
  const parsed = await jobType.input.safeParseAsync(input);
  if (!parsed.success) throw zodValidationError(`input for "${jobType.name}"`, parsed.error, ['input']);
  // The same rule as a submit: the handler gets only what a stored job would hand it.
  serializePayload('input', parsed.data, DEFAULT_PAYLOAD_LIMIT_BYTES, { jobType: jobType.name });
  const clock = options.clock ?? systemClock;
  const attempt = options.attempt ?? 1;
  const now = new Date(clock.now());
  const job: Job = {
    id: randomUUID(), type: jobType.name, orgId: 'default', ownerId: 'test', status: 'running',
    priority: jobType.priority, input: parsed.data, output: null, progress: 0, progressMessage: null,
    checkpoint: options.checkpoint ?? null, error: null, retryCount: attempt - 1,
    maxRetries: options.maxRetries ?? jobType.maxRetries, nextRetryAt: null, runAt: now,
    timeoutMs: options.timeoutMs ?? jobType.timeoutMs, dependsOn: [], dedupHash: null, createdAt: now,
    startedAt: now, completedAt: null, canceledAt: null, canceledBy: null, updatedAt: now,
  };
  const progress: { progress: number; message: string | null }[] = [];
  const checkpoints: CheckpointOf<T>[] = [];
  // Only the two writes a runner makes during an attempt are needed.
  const storage = {
    recordProgress: async (r: { progress: number; message: string | null }) => {
      progress.push({ progress: r.progress, message: r.message });
      return 'ok' as const;
    },
    saveCheckpoint: async (r: { checkpointJson: string }) => {
      checkpoints.push(JSON.parse(r.checkpointJson) as CheckpointOf<T>);
      return 'ok' as const;
    },
  } as unknown as StorageAdapter;
  let outcome: AttemptOutcome | null = null;
  const runner = new JobRunner({ job, attempt }, jobType, {
    storage,
    clock,
    workerId: 'runJob',
    payloadLimitBytes: DEFAULT_PAYLOAD_LIMIT_BYTES,
    random: options.random ?? Math.random,
    instrumentation: new Instrumentation(clock),
    settle: async (req) => {
      outcome = req.outcome;
      return { kind: 'settled', job, transitions: 1 };
    },
    reportError: () => undefined,
  });
  options.cancelSignal?.addEventListener('abort', () => runner.abort('canceled'), { once: true });
  await runner.run();
  const o = outcome as AttemptOutcome | null;
  if (!o || o.kind === 'released') return { status: 'canceled', output: null, error: null, retryAt: null, progress, checkpoints };
  if (o.kind === 'snoozed') return { status: 'snoozed', output: null, error: null, retryAt: new Date(o.runAt), progress, checkpoints };
  if (o.kind === 'completed') return { status: 'completed', output: o.output as OutputOf<T>, error: null, retryAt: null, progress, checkpoints };
  return {
    status: o.retryAt === null ? 'dead_letter' : 'retrying',
    output: null,
    error: o.error,
    retryAt: o.retryAt === null ? null : new Date(o.retryAt),
    progress,
    checkpoints,
  };
}
