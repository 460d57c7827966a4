/**
 * Error classes with stable `code`s. Every error a caller can receive from jobwing
 * extends {@link JobwingError}, so `err instanceof JobwingError` and `err.code` are enough
 * to branch on.
 */
import type { JobStatus } from './states.js';

/** Stable machine-readable codes of jobwing errors. */
export type JobwingErrorCode =
  | 'VALIDATION'
  | 'UNKNOWN_JOB_TYPE'
  | 'JOB_TYPE_DISABLED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'DUPLICATE'
  | 'INVALID_STATE'
  | 'PAYLOAD_TOO_LARGE'
  | 'TIMEOUT'
  | 'ENGINE_STOPPED'
  | 'STORAGE';

/** Base class of every error jobwing throws. */
export class JobwingError extends Error {
  /** Stable code, safe to switch on. */
  readonly code: JobwingErrorCode;
  constructor(code: JobwingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found by validation: where (`path`) and what. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

/** Input, output, checkpoint or an option failed validation. `issues` names each path. */
export class ValidationError extends JobwingError {
  readonly issues: ValidationIssue[];
  constructor(message: string, issues: ValidationIssue[] = []) {
    super('VALIDATION', message);
    this.issues = issues;
  }
}

/** No job type of that name is registered on this engine. */
export class UnknownJobTypeError extends JobwingError {
  readonly jobType: string;
  constructor(jobType: string) {
    // Names can be hostile (S5): quote a bounded, JSON-escaped prefix only.
    super('UNKNOWN_JOB_TYPE', `Unknown job type ${JSON.stringify(jobType.slice(0, 100))}`);
    this.jobType = jobType.slice(0, 100);
  }
}

/** The job type exists but an administrator disabled it. */
export class JobTypeDisabledError extends JobwingError {
  readonly jobType: string;
  constructor(jobType: string) {
    super('JOB_TYPE_DISABLED', `Job type "${jobType}" is disabled`);
    this.jobType = jobType;
  }
}

/** The actor may not do this (missing permission, not the owner, not an admin). */
export class PermissionDeniedError extends JobwingError {
  constructor(message: string) {
    super('PERMISSION_DENIED', message);
  }
}

/** No job with that id exists in the actor's view (other orgs' jobs look exactly like this). */
export class JobNotFoundError extends JobwingError {
  readonly jobId: string;
  constructor(jobId: string) {
    super('NOT_FOUND', `Job ${JSON.stringify(String(jobId).slice(0, 100))} not found`);
    this.jobId = String(jobId).slice(0, 100);
  }
}

/**
 * A job with the same dedup hash was created within the type's dedup window and is not
 * canceled or dead_letter (a completed one counts too). Dedup is on by default (5 minutes).
 */
export class DuplicateJobError extends JobwingError {
  readonly existingJobId: string;
  constructor(existingJobId: string, jobType: string) {
    super(
      'DUPLICATE',
      `A job of type "${jobType}" with the same input was submitted within its dedup window and is not canceled or dead_letter: ${existingJobId}. ` +
        'Pass a distinct dedupKey to submit it anyway, or set dedupWindowMs: 0 on the job type (or with admin.updateJobType) to turn dedup off',
    );
    this.existingJobId = existingJobId;
  }
}

/** The job is not in a status that allows this verb (e.g. cancel of a completed job). */
export class InvalidStateError extends JobwingError {
  readonly status: JobStatus;
  constructor(message: string, status: JobStatus) {
    super('INVALID_STATE', message);
    this.status = status;
  }
}

/** Input, output, checkpoint or message exceeds its size limit. */
export class PayloadTooLargeError extends JobwingError {
  readonly field: string;
  readonly bytes: number;
  readonly limitBytes: number;
  /** The job type whose payload it was, when known. */
  readonly jobType: string | null;
  constructor(field: string, bytes: number, limitBytes: number, jobType: string | null = null) {
    const of = jobType === null ? field : `${field} of job type "${jobType}"`;
    super('PAYLOAD_TOO_LARGE', `${of} is ${bytes} bytes; the limit is ${limitBytes} bytes (raise it with the JobEngine option limits.payloadBytes)`);
    this.field = field;
    this.bytes = bytes;
    this.limitBytes = limitBytes;
    this.jobType = jobType;
  }
}

/** A wait (e.g. `client.waitFor`) ran out of time. The job itself is unaffected. */
export class TimeoutError extends JobwingError {
  readonly jobId: string;
  readonly timeoutMs: number;
  /** The job's status the last time the waiter read it. */
  readonly lastStatus: JobStatus;
  constructor(jobId: string, timeoutMs: number, lastStatus: JobStatus) {
    super('TIMEOUT', `Job ${JSON.stringify(jobId)} did not finish within ${timeoutMs} ms (last seen ${lastStatus}); the job itself is unaffected`);
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
    this.lastStatus = lastStatus;
  }
}

/** The engine was not started, or has been stopped. */
export class EngineStoppedError extends JobwingError {
  constructor(message = 'The engine is stopped; call engine.start() first') {
    super('ENGINE_STOPPED', message);
  }
}

/** Thrown by a handler to request a retry with backoff (when retries are left). */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** Thrown by a handler to send the job to `dead_letter` at once, without retries. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/**
 * Thrown by a handler to try again later without using a retry (e.g. a `Retry-After` header):
 * the attempt ends `running → scheduled` with `runAt = now + delayMs`; `retryCount` is
 * unchanged and the checkpoint is kept.
 * @example
 * ```ts
 * if (res.status === 429) throw new SnoozeError(Number(res.headers.get('retry-after')) * 1000, 'rate limited');
 * ```
 */
export class SnoozeError extends Error {
  /** How long to wait before the job is due again (ms). */
  readonly delayMs: number;
  /** Why; recorded as the history entry's message. */
  readonly reason: string | null;
  /** @throws RangeError when `delayMs` is not a finite number from 0 to one year */
  constructor(delayMs: number, reason?: string) {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_SNOOZE_MS) {
      throw new RangeError(`SnoozeError: delayMs must be a finite number of milliseconds from 0 to ${MAX_SNOOZE_MS} (one year), got ${String(delayMs)}`);
    }
    super(reason === undefined ? `Snoozed for ${Math.round(delayMs)} ms` : `Snoozed for ${Math.round(delayMs)} ms: ${String(reason)}`);
    this.name = 'SnoozeError';
    this.delayMs = Math.round(delayMs);
    this.reason = reason === undefined ? null : String(reason);
  }
}

/** Longest snooze: one year. */
export const MAX_SNOOZE_MS = 365 * 86_400_000;
