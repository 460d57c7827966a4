/**
 * Writes of a running attempt (heartbeat, progress, checkpoint) and the rescuer's lookup of
 * expired leases. Every write is fenced by `(id, status = 'running', attempts = attempt)`:
 * a writer whose attempt was rescued, settled or canceled changes nothing. Each is a single
 * prepared statement (atomic on its own, one round trip): they run once per heartbeat or
 * progress report of every running job.
 *
 * Leases live on the DATABASE clock: renew sets `lease_expires_at = DB_NOW_MS + leaseMs`,
 * findExpiredLeases compares against DB_NOW_MS, and the `now` passed in is ignored for
 * expiry (R20). Progress, checkpoint and `updated_at` use `now` like every other instant.
 */
import { LEASE_LOST, WRITTEN, type DueBatchRequest, type ExpiredLease, type FencedWriteResult, type RecordProgressRequest, type RenewLeasesRequest, type RenewLeasesResult, type SaveCheckpointRequest } from '../adapter.js';
import { rowToJob, type JobRow } from '../sql/job-row.js';
import { raw, type PgConnection } from './pg-connection.js';
import { DB_NOW_MS, type PgNames } from './pg-names.js';

/**
 * Heartbeat: extends each lease still held (one statement), then, only if some were not
 * renewed, asks which of those were canceled during this attempt. The second read is its own
 * statement so it sees a cancel that committed while the renewal waited on the row lock.
 * A job canceled while running keeps lease_owner and attempts (cancelJob leaves them), so the
 * worker of exactly that attempt learns it must abort.
 */
export async function renewLeases(conn: PgConnection, n: PgNames, req: RenewLeasesRequest): Promise<RenewLeasesResult> {
  const result: RenewLeasesResult = { renewed: [], canceled: [], lost: [] };
  if (req.leases.length === 0) return result;
  const renewed = new Set(
    (
      await conn.query<{ id: string }>(
        // Looked up by id whatever the statistics say (see settleCtes in queries-settle.ts): the
        // status is compared with a column of the materialized request, not a literal that
        // would match the lease index, which holds every running job.
        raw(
          `WITH req AS MATERIALIZED (
             SELECT *, 'running'::text AS expected_status FROM unnest($1::text[], $2::int[]) AS r(job_id, attempt)
           )
           UPDATE ${n.jobs} j SET lease_expires_at = ${DB_NOW_MS} + $3
           FROM req r
           WHERE j.id = r.job_id AND j.id = ANY($1::text[]) AND j.status = r.expected_status AND j.attempts = r.attempt
           RETURNING j.id`,
          req.leases.map((l) => l.jobId),
          req.leases.map((l) => l.attempt),
          req.leaseMs,
        ),
        { prepare: true },
      )
    ).map((r) => r.id),
  );
  const missing = req.leases.filter((l) => !renewed.has(l.jobId));
  const canceled = new Set<string>();
  if (missing.length > 0) {
    const rows = await conn.query<{ id: string }>(
      raw(
        `SELECT j.id FROM ${n.jobs} j JOIN unnest($1::text[], $2::int[]) AS r(job_id, attempt)
           ON j.id = r.job_id AND j.attempts = r.attempt
         WHERE j.status = 'canceled' AND j.lease_owner IS NOT NULL`,
        missing.map((l) => l.jobId),
        missing.map((l) => l.attempt),
      ),
      { prepare: true },
    );
    for (const r of rows) canceled.add(r.id);
  }
  for (const { jobId } of req.leases) {
    if (renewed.has(jobId)) result.renewed.push(jobId);
    else if (canceled.has(jobId)) result.canceled.push(jobId);
    else result.lost.push(jobId);
  }
  return result;
}

/** Stores progress on the job and appends a progress event, fenced, in one statement. */
export async function recordProgress(conn: PgConnection, n: PgNames, req: RecordProgressRequest): Promise<FencedWriteResult> {
  const rows = await conn.query<{ seq: number }>(
    raw(
      `WITH updated AS (
         UPDATE ${n.jobs} SET progress = $3, progress_message = $4, updated_at = $5
         WHERE id = $1 AND status = 'running' AND attempts = $2
         RETURNING id
       )
       INSERT INTO ${n.progress} (job_id, progress, message, at)
       SELECT id, $3, $4, $5 FROM updated
       RETURNING seq`,
      req.jobId,
      req.attempt,
      req.progress,
      req.message,
      req.now,
    ),
    { prepare: true },
  );
  return rows.length === 0 ? LEASE_LOST : WRITTEN;
}

/** Stores the checkpoint, fenced. Durable on return (committed with the server's synchronous_commit). */
export async function saveCheckpoint(conn: PgConnection, n: PgNames, req: SaveCheckpointRequest): Promise<FencedWriteResult> {
  const rows = await conn.query<{ id: string }>(
    raw(
      `UPDATE ${n.jobs} SET checkpoint = $3::json, updated_at = $4 WHERE id = $1 AND status = 'running' AND attempts = $2 RETURNING id`,
      req.jobId,
      req.attempt,
      req.checkpointJson,
      req.now,
    ),
    { prepare: true },
  );
  return rows.length === 0 ? LEASE_LOST : WRITTEN;
}

/** Running attempts whose lease expired by the database clock, oldest expiry first. `now` is not used. */
export async function findExpiredLeases(conn: PgConnection, n: PgNames, req: DueBatchRequest): Promise<ExpiredLease[]> {
  if (req.limit <= 0) return [];
  const rows = await conn.query<JobRow & { attempts: number }>(
    raw(`SELECT * FROM ${n.jobs} WHERE status = 'running' AND lease_expires_at < ${DB_NOW_MS} ORDER BY lease_expires_at, seq LIMIT $1`, req.limit),
    { prepare: true },
  );
  return rows.map((row) => ({ job: rowToJob(row), attempt: row.attempts }));
}
