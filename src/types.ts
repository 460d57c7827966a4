/**
 * Public data shapes: jobs, history, events, metrics, actors and call options.
 * All instants are `Date`s with millisecond precision; durations are `…Ms` numbers.
 */
import type { ErrorType, JobStatus, Priority } from './states.js';

/** A job's recorded error: `null` while none. */
export interface JobError {
  type: ErrorType;
  message: string;
  /** The thrown error's `name`, when it had one. */
  name?: string;
}

/** A job as stored. `Input`/`Output`/`Checkpoint` are inferred from its job type. */
export interface Job<Input = unknown, Output = unknown, Checkpoint = unknown> {
  id: string;
  type: string;
  orgId: string;
  ownerId: string;
  status: JobStatus;
  priority: Priority;
  input: Input;
  /** The handler's validated result once `completed`, else `null`. */
  output: Output | null;
  /** 0..100 as last reported by the handler. */
  progress: number;
  progressMessage: string | null;
  /** Last checkpoint saved by a handler; the next attempt resumes from it. */
  checkpoint: Checkpoint | null;
  error: JobError | null;
  /** Retries used so far (the first attempt is not a retry). */
  retryCount: number;
  maxRetries: number;
  /** When the next attempt becomes due, while `retrying`. */
  nextRetryAt: Date | null;
  /** When the job is (or was) due to run. */
  runAt: Date;
  timeoutMs: number;
  dependsOn: string[];
  dedupHash: string | null;
  createdAt: Date;
  /** Start of the latest attempt. */
  startedAt: Date | null;
  completedAt: Date | null;
  canceledAt: Date | null;
  canceledBy: string | null;
  updatedAt: Date;
}

/** One state transition of a job. Every transition writes exactly one entry. */
export interface JobHistoryEntry {
  jobId: string;
  at: Date;
  from: JobStatus | null;
  to: JobStatus;
  /** The attempt this transition belongs to (1-based; 0 before the first attempt). */
  attempt: number;
  /** Who caused it: a user id, `'system'`, or `'engine:<workerId>'`. */
  actorId: string;
  message: string | null;
  error: JobError | null;
}

/** Emitted on every state transition, in the order of each job's transitions. */
export interface JobStatusEvent {
  jobId: string;
  type: string;
  orgId: string;
  ownerId: string;
  from: JobStatus | null;
  to: JobStatus;
  at: Date;
  attempt: number;
  error: JobError | null;
}

/** Emitted when a running handler reports progress (may be coalesced; the last value always arrives). */
export interface JobProgressEvent {
  jobId: string;
  type: string;
  orgId: string;
  ownerId: string;
  progress: number;
  message: string | null;
  at: Date;
}

/** Who is calling: every user-facing verb runs as an actor. */
export interface Actor {
  userId: string;
  orgId: string;
  /** Permissions held, checked against a job type's `requiresPermission`. */
  permissions?: readonly string[];
  /** Admins read, list, cancel and retry across orgs, and change job types. */
  admin?: boolean;
}

/** Per-job options of `submit`. */
export interface SubmitOptions {
  /** (Default: the type's priority) */
  priority?: Priority;
  /** Run no earlier than this instant; the job is `scheduled` until then. */
  runAt?: Date;
  /** Run no earlier than now + delayMs. Not together with `runAt`. */
  delayMs?: number;
  /** The job is `waiting` until every parent is `completed`. Same org only. */
  dependsOn?: readonly string[];
  /** Per-attempt timeout. (Default: the type's timeoutMs) */
  timeoutMs?: number;
  /** Retries after the first attempt. (Default: the type's maxRetries) */
  maxRetries?: number;
  /** Replaces the computed dedup hash input. */
  dedupKey?: string;
  /** Org of the new job; honoured only for `engine.system` (trusted code). (Default: 'default') */
  orgId?: string;
}

/** Filters of `list`. */
export interface ListOptions {
  status?: JobStatus | readonly JobStatus[];
  type?: string | readonly string[];
  createdAfter?: Date;
  createdBefore?: Date;
  ownerId?: string;
  /** Admin only: restrict to one org (default for admins: all orgs). */
  orgId?: string;
  /** Page size. (Default: 50, max 500) */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** A page of `list`. Newest first; `nextCursor` is `null` on the last page. */
export interface JobPage<J = Job> {
  items: J[];
  nextCursor: string | null;
}

/** Count, mean and 95th percentile of processing times. */
export interface ProcessingTime {
  count: number;
  avgMs: number;
  p95Ms: number;
}

/** Operational figures, computed by the store in SQL. */
export interface Metrics {
  countsByStatus: Record<JobStatus, number>;
  queueDepthByPriority: Record<Priority, number>;
  processingTime: ProcessingTime;
  processingTimeByType: Record<string, ProcessingTime>;
  failureRateByType: Record<string, { completed: number; failed: number; rate: number }>;
  /** Age of the oldest `queued` job, or `null` when none is queued. */
  oldestQueuedAgeMs: number | null;
}

/** Options of `metrics`. */
export interface MetricsOptions {
  /** Start of the window for processing times and failure rates. (Default: 24 h ago) */
  since?: Date;
  /** Admin only: one org (default for admins: all orgs). */
  orgId?: string;
}

/** A job type's settings in force (code defaults merged with admin overrides). */
export interface JobTypeInfo {
  name: string;
  displayName: string;
  priority: Priority;
  timeoutMs: number;
  maxRetries: number;
  enabled: boolean;
  requiresPermission: string | null;
  dedupWindowMs: number;
  /** Attempts of this type running at once across the store, or null (unlimited). */
  concurrency: number | null;
  /** Attempts of this type running at once per org across the store, or null (unlimited). */
  concurrencyPerOrg: number | null;
  /** Nothing new of this type is claimed while true; submits are still accepted. */
  paused: boolean;
  /** At most `max` attempts start in any `perMs` (sliding window), for the type or per org; null: no limit. */
  rateLimit: { max: number; perMs: number; scope: 'type' | 'org' } | null;
}

/** Settings an admin can change at run time. */
export type JobTypeSettings = Omit<JobTypeInfo, 'name'>;

/** A change of {@link JobTypeSettings} as `updateJobType` takes it (`rateLimit.scope` defaults to 'type'). */
export type JobTypeSettingsChange = Partial<Omit<JobTypeSettings, 'rateLimit'>> & {
  rateLimit?: { max: number; perMs: number; scope?: 'type' | 'org' } | null;
};

/** One event read from the store's event tail by `readEvents`, with its position. */
export type JobEventRecord =
  | { name: 'job:status'; event: JobStatusEvent; cursor: string }
  | { name: 'job:progress'; event: JobProgressEvent; cursor: string };

/** Options of `readEvents`. */
export interface ReadEventsOptions {
  /** A `cursor` from an earlier read or record; `null`/omitted: the current end (nothing older). */
  after?: string | null;
  /** Most events scanned in this read, before scoping. (Default: 500, max 1000) */
  limit?: number;
  /** Only events of this job. */
  jobId?: string;
}

/** A page of `readEvents`. */
export interface JobEventPage {
  /** The events this actor may see, in commit order. */
  items: JobEventRecord[];
  /** Where the next read continues (past events this actor may not see, too). */
  cursor: string;
  /** True when the read reached the end of the tail as of now. */
  done: boolean;
}
