/**
 * The one source of truth for job statuses, priorities and error types.
 * Stores, the engine and validation all read these lists.
 */

/** Every status a job can be in. */
export const JOB_STATUSES = [
  'waiting',
  'scheduled',
  'queued',
  'running',
  'retrying',
  'completed',
  'canceled',
  'dead_letter',
] as const;
/** A job's status. See the state diagram in the README. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Priorities, highest first. Higher priority is always claimed first. */
export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
/** A job's priority. */
export type Priority = (typeof PRIORITIES)[number];

/** Rank stored in the database: lower rank is claimed first. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = {
  critical: 0,
  high: 1,
  normal: 2,
  low: 3,
};

/** Statuses a job never leaves on its own (only an admin retry moves canceled/dead_letter). */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'canceled', 'dead_letter'];
/** Statuses from which `cancel()` is allowed. */
export const CANCELABLE_STATUSES: readonly JobStatus[] = [
  'waiting',
  'scheduled',
  'queued',
  'retrying',
  'running',
];
/** Statuses from which an admin `retry()` is allowed. */
export const RETRYABLE_STATUSES: readonly JobStatus[] = ['dead_letter', 'canceled'];
/** Statuses a parent can end in that cancel its waiting dependents. */
export const FAILED_PARENT_STATUSES: readonly JobStatus[] = ['dead_letter', 'canceled'];

/** Why an attempt failed (or why a job was canceled by the engine). */
export const ERROR_TYPES = [
  'transient',
  'permanent',
  'timeout',
  'worker_lost',
  'dependency_failed',
  /** The isolation worker thread died (crash, out of memory, process.exit); transient. */
  'crashed',
] as const;
/** Classification of a job error. */
export type ErrorType = (typeof ERROR_TYPES)[number];

/**
 * Every allowed status change (`from → to`), as the API's state diagram draws it; `null` is
 * the creation of a job. Stores implement these; tests check history entries against them.
 */
export const TRANSITIONS: Readonly<Record<JobStatus | 'null', readonly JobStatus[]>> = {
  null: ['waiting', 'scheduled', 'queued', 'canceled'],
  waiting: ['queued', 'scheduled', 'canceled'],
  scheduled: ['queued', 'canceled'],
  queued: ['running', 'canceled'],
  // 'scheduled': a snooze (SnoozeError), no retry used; 'queued': released at shutdown or rescued.
  running: ['completed', 'retrying', 'dead_letter', 'canceled', 'queued', 'scheduled'],
  retrying: ['queued', 'canceled'],
  completed: [],
  canceled: ['queued', 'waiting'],
  dead_letter: ['queued', 'waiting'],
};

/** True when `from → to` is a transition of the state diagram (`from: null` for creation). */
export function isAllowedTransition(from: JobStatus | null, to: JobStatus): boolean {
  return TRANSITIONS[from ?? 'null'].includes(to);
}

/** Reasons a running handler's `ctx.signal` aborts with. */
export type AbortReason = 'canceled' | 'timeout' | 'shutdown' | 'lease_lost';

/** True when `status` is completed, canceled or dead_letter. */
export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
