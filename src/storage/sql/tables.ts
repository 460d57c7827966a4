/**
 * Table shapes of the SQL stores, as Kysely database types. Dialect-neutral: both the SQLite
 * and the Postgres store build their queries against these names. Instants are epoch-ms
 * integers, JSON payloads are text, ids are text; `seq` columns are auto-incremented.
 */
import type { Generated } from 'kysely';

/** One job. `attempts` is the monotonic attempt counter (the fencing token). */
export interface JobsTable {
  seq: Generated<number>;
  id: string;
  type: string;
  org_id: string;
  owner_id: string;
  status: string;
  /** 0 = critical … 3 = low. */
  priority_rank: number;
  input: string;
  output: string | null;
  progress: number;
  progress_message: string | null;
  checkpoint: string | null;
  /** JSON `{ type, message, name? }`. */
  error: string | null;
  retry_count: number;
  max_retries: number;
  attempts: number;
  next_retry_at: number | null;
  run_at: number;
  timeout_ms: number;
  /** JSON array of parent ids. */
  depends_on: string;
  dedup_hash: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  canceled_at: number | null;
  canceled_by: string | null;
  updated_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** W3C trace context of the submit (jobwing/otel), or null. */
  trace_context: string | null;
}

/** `job_id` waits on `parent_id`. */
export interface JobDependenciesTable {
  parent_id: string;
  job_id: string;
}

/** One status transition. `from_status` is null for the creation entry. */
export interface JobHistoryTable {
  seq: Generated<number>;
  job_id: string;
  at: number;
  from_status: string | null;
  to_status: string;
  attempt: number;
  actor_id: string;
  message: string | null;
  error: string | null;
}

/** One progress report, kept for the cross-process event tail only. */
export interface JobProgressEventsTable {
  seq: Generated<number>;
  job_id: string;
  progress: number;
  message: string | null;
  at: number;
}

/** Admin overrides of one job type (JSON object of `Partial<JobTypeSettings>`). */
export interface JobTypeSettingsTable {
  name: string;
  settings: string;
  updated_at: number;
}

/** Audit trail of job type changes. */
export interface JobTypeAuditTable {
  seq: Generated<number>;
  name: string;
  actor_id: string;
  at: number;
  changes: string;
}

/** Named maintenance leases. */
export interface LeadershipTable {
  name: string;
  owner_id: string;
  expires_at: number;
}

/** Applied schema migrations. */
export interface MigrationsTable {
  version: number;
  name: string;
}

/** Every table of a jobwing SQL store. */
export interface JobwingDatabase {
  jobs: JobsTable;
  job_dependencies: JobDependenciesTable;
  job_history: JobHistoryTable;
  job_progress_events: JobProgressEventsTable;
  job_type_settings: JobTypeSettingsTable;
  job_type_audit: JobTypeAuditTable;
  jobwing_leadership: LeadershipTable;
  jobwing_migrations: MigrationsTable;
}
