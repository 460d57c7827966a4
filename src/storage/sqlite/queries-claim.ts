/**
 * Claims and promotion of due jobs. Hand-written SQL: this is the hottest path, and the
 * status literals must appear verbatim for SQLite to pick the partial indexes
 * (`jobs_claim_idx`, `jobs_due_idx`); a bound parameter would hide them from the planner.
 */
import type { JobStatus } from '../../states.js';
import type { ClaimedJob, ClaimJobsRequest, DueBatchRequest } from '../adapter.js';
import { rowToClaimed, type JobRow } from '../sql/job-row.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';
import { appendHistory, SYSTEM_ACTOR } from './transitions.js';
import { needsPlan, planClaimSync, startsToLog, type ClaimPlan, type FairnessCursor } from '../sql/claim-plan.js';
import { logStarts, sqliteClaimReader } from './claim-reader.js';

/** Due scheduled/retrying jobs (uses jobs_due_idx; exported for the query-plan test). */
export const DUE_JOBS_SQL = `SELECT seq, id, status, attempts FROM jobs INDEXED BY jobs_due_idx
  WHERE status IN ('scheduled','retrying') AND run_at <= ?
  ORDER BY run_at, seq LIMIT ?`;
const PROMOTE = `UPDATE jobs SET status = 'queued', next_retry_at = NULL, updated_at = ? WHERE seq = ?`;

/** Promotes up to `limit` due scheduled/retrying jobs to queued, with history. Call inside a write transaction. */
export function promoteDue(conn: SqliteConnection, now: number, limit: number): number {
  const due = conn.all<{ seq: number; id: string; status: JobStatus; attempts: number }>(raw(DUE_JOBS_SQL, now, limit));
  for (const job of due) {
    conn.run(raw(PROMOTE, now, job.seq));
    appendHistory(conn, {
      jobId: job.id,
      at: now,
      from: job.status,
      to: 'queued',
      attempt: job.attempts,
      actorId: SYSTEM_ACTOR,
      message: null,
      error: null,
    });
  }
  return due.length;
}

/** `promoteDueJobs`: promotion alone, in its own transaction. */
export function promoteDueJobs(conn: SqliteConnection, req: DueBatchRequest): number {
  if (req.limit <= 0) return 0;
  return conn.write(() => promoteDue(conn, req.now, req.limit));
}

/**
 * Next queued jobs in claim order (uses jobs_claim_idx; exported for the query-plan test).
 * json_each keeps the SQL text constant whatever the number of types (one cached statement).
 */
// INDEXED BY (here and on every partial-index query of this store): the planner would
// otherwise pick jobs_status_list_idx (status = 'queued' is an equality on its first column)
// and sort every queued job to find the first few.
export const NEXT_QUEUED_SQL = `SELECT seq FROM jobs INDEXED BY jobs_claim_idx
  WHERE status = 'queued' AND type IN (SELECT value FROM json_each(?))
  ORDER BY priority_rank, run_at, seq LIMIT ?`;
// One statement claims the whole batch and one more writes its history: per-statement
// overhead, not b-tree work, was a third of the claim cost with a statement per job.
// NOT INDEXED (the rowid is still used): otherwise the planner read every queued entry of
// jobs_status_list_idx (`status = 'queued'` is an equality on its first column) and checked
// each against the IN-list: O(queued jobs) per claim (drain c16 of 20k queued, NORMAL, 3 runs:
// 3.9-4.4k -> 4.9-5.6k jobs/s, CPU 236-260 -> 181-210 µs per job).
export const CLAIM_BATCH_SQL = `UPDATE jobs NOT INDEXED
  SET status = 'running', attempts = attempts + 1, started_at = ?, lease_owner = ?, lease_expires_at = ?, updated_at = ?
  WHERE seq IN (${NEXT_QUEUED_SQL}) AND status = 'queued'
  RETURNING *`;
const CLAIM_HISTORY = `INSERT INTO job_history (job_id, at, from_status, to_status, attempt, actor_id, message, error)
  SELECT id, ?, 'queued', 'running', attempts, ?, NULL, NULL FROM jobs
  WHERE seq IN (SELECT value FROM json_each(?))
  ORDER BY priority_rank, run_at, seq`;

// The flow-control path: claims exactly the jobs the plan picked (still queued: the plan ran
// under the same write lock, so they are). NOT INDEXED: as CLAIM_BATCH_SQL.
export const CLAIM_SEQS_SQL = `UPDATE jobs NOT INDEXED
  SET status = 'running', attempts = attempts + 1, started_at = ?, lease_owner = ?, lease_expires_at = ?, updated_at = ?
  WHERE seq IN (SELECT value FROM json_each(?)) AND status = 'queued'
  RETURNING *`;

/** Fairness rotation per connection (one store instance): the org served last per level. */
const cursors = new WeakMap<SqliteConnection, FairnessCursor>();

type ClaimedRow = JobRow & { seq: number; attempts: number; priority_rank: number; run_at: number };

/** Promotes due jobs when asked (`promoteDue`), then claims, inside the caller's write transaction. */
export function claimInTransaction(conn: SqliteConnection, req: ClaimJobsRequest): ClaimedJob[] {
  const promoteLimit = req.promoteDue ?? 0;
  if (promoteLimit > 0) promoteDue(conn, req.now, promoteLimit);
  if (req.limit <= 0 || req.types.length === 0) return [];
  let rows: ClaimedRow[];
  const plan: ClaimPlan = needsPlan(req) ? planClaimSync(sqliteClaimReader(conn), req, cursorOf(conn)) : { kind: 'fast', types: req.types };
  if (plan.kind === 'none') return [];
  if (plan.kind === 'fast') {
    rows = conn.all<ClaimedRow>(raw(CLAIM_BATCH_SQL, req.now, req.workerId, req.now + req.leaseMs, req.now, JSON.stringify(plan.types), req.limit));
    // RETURNING has no defined order: restore claim order (priority, runAt, submission).
    rows.sort((a, b) => a.priority_rank - b.priority_rank || Number(a.run_at) - Number(b.run_at) || Number(a.seq) - Number(b.seq));
  } else {
    rows = conn.all<ClaimedRow>(raw(CLAIM_SEQS_SQL, req.now, req.workerId, req.now + req.leaseMs, req.now, JSON.stringify(plan.seqs)));
    const order = new Map(plan.seqs.map((seq, i) => [seq, i]));
    rows.sort((a, b) => order.get(Number(a.seq))! - order.get(Number(b.seq))!);
  }
  if (rows.length === 0) return [];
  conn.run(raw(CLAIM_HISTORY, req.now, `engine:${req.workerId}`, JSON.stringify(rows.map((r) => r.seq))));
  const claimed = rows.map(rowToClaimed);
  logStarts(conn, startsToLog(req, claimed));
  return claimed;
}

function cursorOf(conn: SqliteConnection): FairnessCursor {
  let c = cursors.get(conn);
  if (!c) cursors.set(conn, (c = new Map()));
  return c;
}

/**
 * Promotes due jobs when asked, then claims up to `limit` queued jobs of `types` in claim order.
 * Why no job is claimed twice: selection and update run under one write lock (BEGIN
 * IMMEDIATE), so two claimers, in this process or another, are serialized by SQLite.
 */
export function claimJobs(conn: SqliteConnection, req: ClaimJobsRequest): ClaimedJob[] {
  return conn.write(() => claimInTransaction(conn, req));
}

/** Earliest runAt of a scheduled/retrying job, or null. Uses the due index (MIN on its first column). */
export function nextDueAt(conn: SqliteConnection): number | null {
  const row = conn.get<{ due: number | null }>(raw(`SELECT MIN(run_at) AS due FROM jobs INDEXED BY jobs_due_idx WHERE status IN ('scheduled','retrying')`));
  return row?.due ?? null;
}
