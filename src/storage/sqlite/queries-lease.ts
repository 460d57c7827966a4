/**
 * Writes of a running attempt (heartbeat, progress, checkpoint) and the rescuer's lookup of
 * expired leases. Every write is fenced by `(id, status = 'running', attempts = attempt)`:
 * a writer whose attempt was rescued, settled or canceled changes nothing. Hand-written SQL:
 * these run once per heartbeat / progress report of every running job.
 */
import { LEASE_LOST, WRITTEN, type DueBatchRequest, type ExpiredLease, type FencedWriteResult, type RecordProgressRequest, type RenewLeasesRequest, type RenewLeasesResult, type SaveCheckpointRequest } from '../adapter.js';
import { rowToJob, type JobRow } from '../sql/job-row.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';

const RENEW = `UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND status = 'running' AND attempts = ?`;
// A job canceled while running keeps lease_owner and attempts (cancelJob leaves them), so
// the worker of exactly that attempt learns it must abort. A job canceled after it left
// `running` (lease cleared by settle/release) is simply lost to that worker.
const CANCELED_DURING_ATTEMPT = `SELECT 1 FROM jobs
  WHERE id = ? AND status = 'canceled' AND attempts = ? AND lease_owner IS NOT NULL`;

/** Heartbeat: extends each lease still held, reports canceled and lost ones. */
export function renewLeases(conn: SqliteConnection, req: RenewLeasesRequest): RenewLeasesResult {
  const result: RenewLeasesResult = { renewed: [], canceled: [], lost: [] };
  if (req.leases.length === 0) return result;
  const expiresAt = req.now + req.leaseMs;
  conn.write(() => {
    for (const { jobId, attempt } of req.leases) {
      if (conn.run(raw(RENEW, expiresAt, jobId, attempt)) === 1) result.renewed.push(jobId);
      else if (conn.get(raw(CANCELED_DURING_ATTEMPT, jobId, attempt)) !== undefined) result.canceled.push(jobId);
      else result.lost.push(jobId);
    }
  });
  return result;
}

const SET_PROGRESS = `UPDATE jobs SET progress = ?, progress_message = ?, updated_at = ?
  WHERE id = ? AND status = 'running' AND attempts = ?`;
const INSERT_PROGRESS_EVENT = `INSERT INTO job_progress_events (job_id, progress, message, at) VALUES (?, ?, ?, ?)`;

/** Stores progress on the job and appends a progress event, fenced. */
export function recordProgress(conn: SqliteConnection, req: RecordProgressRequest): FencedWriteResult {
  return conn.write(() => {
    if (conn.run(raw(SET_PROGRESS, req.progress, req.message, req.now, req.jobId, req.attempt)) === 0) return LEASE_LOST;
    conn.run(raw(INSERT_PROGRESS_EVENT, req.jobId, req.progress, req.message, req.now));
    return WRITTEN;
  });
}

const SET_CHECKPOINT = `UPDATE jobs SET checkpoint = ?, updated_at = ?
  WHERE id = ? AND status = 'running' AND attempts = ?`;

/** Stores the checkpoint, fenced. Durable on return with synchronous=FULL (the default). */
export function saveCheckpoint(conn: SqliteConnection, req: SaveCheckpointRequest): FencedWriteResult {
  return conn.write(() => (conn.run(raw(SET_CHECKPOINT, req.checkpointJson, req.now, req.jobId, req.attempt)) === 0 ? LEASE_LOST : WRITTEN));
}

/** Expired leases, oldest first (uses jobs_lease_idx; exported for the query-plan test). */
export const EXPIRED_LEASES_SQL = `SELECT * FROM jobs INDEXED BY jobs_lease_idx WHERE status = 'running' AND lease_expires_at < ?
  ORDER BY lease_expires_at, seq LIMIT ?`;

/** Running attempts whose lease expired before `now`, oldest expiry first. */
export function findExpiredLeases(conn: SqliteConnection, req: DueBatchRequest): ExpiredLease[] {
  if (req.limit <= 0) return [];
  return conn.all<JobRow & { attempts: number }>(raw(EXPIRED_LEASES_SQL, req.now, req.limit)).map((row) => ({ job: rowToJob(row), attempt: row.attempts }));
}
