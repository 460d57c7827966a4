/**
 * Mapping of SQL rows to the public shapes. Dialect-neutral: SQLite returns integers as
 * numbers, Postgres returns `bigint` columns as strings, so every integer column accepts both.
 * JSON columns must arrive as text (a Postgres store selecting `jsonb` casts it to `::text`),
 * because a JSON string payload cannot be told apart from text otherwise.
 */
import { PRIORITIES, type JobStatus, type Priority } from '../../states.js';
import type { Job, JobError, JobHistoryEntry } from '../../types.js';
import type { ClaimedJob } from '../adapter.js';

/** An integer as a driver may return it. */
export type SqlInt = number | string | bigint;

/** A `jobs` row as read from any SQL driver (snake_case, epoch-ms integers, JSON text). */
export interface JobRow {
  seq?: SqlInt;
  id: string;
  type: string;
  org_id: string;
  owner_id: string;
  status: string;
  priority_rank: SqlInt;
  input: string;
  output: string | null;
  progress: SqlInt;
  progress_message: string | null;
  checkpoint: string | null;
  error: string | null;
  retry_count: SqlInt;
  max_retries: SqlInt;
  attempts: SqlInt;
  next_retry_at: SqlInt | null;
  run_at: SqlInt;
  timeout_ms: SqlInt;
  depends_on: string;
  dedup_hash: string | null;
  created_at: SqlInt;
  started_at: SqlInt | null;
  completed_at: SqlInt | null;
  canceled_at: SqlInt | null;
  canceled_by: string | null;
  updated_at: SqlInt;
  lease_owner?: string | null;
  lease_expires_at?: SqlInt | null;
  trace_context?: string | null;
}

/** A `job_history` row as read from any SQL driver. */
export interface HistoryRow {
  seq?: SqlInt;
  job_id: string;
  at: SqlInt;
  from_status: string | null;
  to_status: string;
  attempt: SqlInt;
  actor_id: string;
  message: string | null;
  error: string | null;
}

/** An integer column as a JS number (`Number('12')`, `Number(12n)`). */
export function toNumber(value: SqlInt): number {
  return typeof value === 'number' ? value : Number(value);
}

/** A nullable epoch-ms column as a `Date`. */
export function toDate(value: SqlInt | null): Date | null {
  return value === null ? null : new Date(toNumber(value));
}

/** A nullable JSON text column, parsed. */
function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** Parses a stored `{ type, message, name? }` error. */
export function parseJobError(text: string | null): JobError | null {
  return text === null ? null : (JSON.parse(text) as JobError);
}

/** `0..3` → `'critical'..'low'`. */
export function rankToPriority(rank: SqlInt): Priority {
  const p = PRIORITIES[toNumber(rank)];
  if (p === undefined) throw new RangeError(`Unknown priority rank ${String(rank)}`);
  return p;
}

/**
 * Maps a `jobs` row to the public {@link Job}: Dates for instants, parsed JSON payloads,
 * priority from its rank. Lease columns and `seq` are store-internal and not exposed.
 */
export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    orgId: row.org_id,
    ownerId: row.owner_id,
    status: row.status as JobStatus,
    priority: rankToPriority(row.priority_rank),
    input: JSON.parse(row.input) as unknown,
    output: parseJson(row.output),
    progress: toNumber(row.progress),
    progressMessage: row.progress_message,
    checkpoint: parseJson(row.checkpoint),
    error: parseJobError(row.error),
    retryCount: toNumber(row.retry_count),
    maxRetries: toNumber(row.max_retries),
    nextRetryAt: toDate(row.next_retry_at),
    runAt: new Date(toNumber(row.run_at)),
    timeoutMs: toNumber(row.timeout_ms),
    dependsOn: JSON.parse(row.depends_on) as string[],
    dedupHash: row.dedup_hash,
    createdAt: new Date(toNumber(row.created_at)),
    startedAt: toDate(row.started_at),
    completedAt: toDate(row.completed_at),
    canceledAt: toDate(row.canceled_at),
    canceledBy: row.canceled_by,
    updatedAt: new Date(toNumber(row.updated_at)),
  };
}

/** A claimed `jobs` row as a {@link ClaimedJob}: the job, its attempt (fencing token) and trace context. */
export function rowToClaimed(row: JobRow): ClaimedJob {
  return { job: rowToJob(row), attempt: toNumber(row.attempts), traceContext: row.trace_context ?? null };
}

/** Maps a `job_history` row to the public {@link JobHistoryEntry}. */
export function historyRowToEntry(row: HistoryRow): JobHistoryEntry {
  return {
    jobId: row.job_id,
    at: new Date(toNumber(row.at)),
    from: row.from_status as JobStatus | null,
    to: row.to_status as JobStatus,
    attempt: toNumber(row.attempt),
    actorId: row.actor_id,
    message: row.message,
    error: parseJobError(row.error),
  };
}
