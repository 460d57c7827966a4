/**
 * Admin-style transitions: `cancelJob` and `retryJob`, each one immediate transaction that
 * reads the job, checks its status and writes, so a concurrent settle cannot slip between
 * the check and the write.
 */
import { CANCELABLE_STATUSES, FAILED_PARENT_STATUSES, RETRYABLE_STATUSES, type JobStatus } from '../../states.js';
import type { CancelJobRequest, CancelOutcome, RetryJobRequest, RetryOutcome } from '../adapter.js';
import { rowToJob, type JobRow } from '../sql/job-row.js';
import { sqliteQb } from './sqlite-compiler.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';
import { appendHistory, cancelDependents } from './transitions.js';

type ScopedRow = JobRow & { seq: number; attempts: number; status: JobStatus };

function findScoped(conn: SqliteConnection, id: string, orgId: string | null): ScopedRow | undefined {
  let query = sqliteQb.selectFrom('jobs').selectAll().where('id', '=', id);
  if (orgId !== null) query = query.where('org_id', '=', orgId);
  return conn.get<ScopedRow>(query.compile());
}

/**
 * Cancels a live job and, transitively, its waiting dependents. A running job keeps its
 * lease owner and attempt so that its worker's next heartbeat reports it `canceled`.
 * Another org's job (when `orgId` is set) is `not_found` and untouched.
 */
export function cancelJob(conn: SqliteConnection, req: CancelJobRequest): CancelOutcome {
  return conn.write((): CancelOutcome => {
    const row = findScoped(conn, req.jobId, req.orgId);
    if (row === undefined) return { kind: 'not_found' };
    if (!CANCELABLE_STATUSES.includes(row.status)) return { kind: 'invalid_state', status: row.status };
    const updated = conn.get<JobRow>(
      raw(
        `UPDATE jobs SET status = 'canceled', canceled_at = ?, canceled_by = ?, updated_at = ? WHERE seq = ? RETURNING *`,
        req.now,
        req.actorId,
        req.now,
        row.seq,
      ),
    );
    if (updated === undefined) throw new Error(`job ${req.jobId} vanished inside its transaction`);
    appendHistory(conn, {
      jobId: row.id,
      at: req.now,
      from: row.status,
      to: 'canceled',
      attempt: row.attempts,
      actorId: req.actorId,
      message: null,
      error: null,
    });
    cancelDependents(conn, row.id, 'canceled', req.now);
    return { kind: 'canceled', job: rowToJob(updated) };
  });
}

/**
 * Admin retry: `dead_letter|canceled → queued` (or `waiting` while a parent is not yet
 * completed), with retryCount, error and finish fields reset and runAt = now (the job is due
 * now; an old runAt would also inflate `oldestQueuedAgeMs`). A failed parent →
 * `parent_failed`, first such parent in `dependsOn` order. A pruned parent counts as done.
 */
export function retryJob(conn: SqliteConnection, req: RetryJobRequest): RetryOutcome {
  return conn.write((): RetryOutcome => {
    const row = findScoped(conn, req.jobId, req.orgId);
    if (row === undefined) return { kind: 'not_found' };
    if (!RETRYABLE_STATUSES.includes(row.status)) return { kind: 'invalid_state', status: row.status };

    const parents = conn.all<{ id: string; status: JobStatus }>(
      raw(`SELECT p.id, p.status FROM job_dependencies d JOIN jobs p ON p.id = d.parent_id WHERE d.job_id = ?`, row.id),
    );
    const statusById = new Map(parents.map((p) => [p.id, p.status]));
    let pending = false;
    for (const parentId of JSON.parse(row.depends_on) as string[]) {
      const status = statusById.get(parentId);
      if (status === undefined) continue;
      if (FAILED_PARENT_STATUSES.includes(status)) return { kind: 'parent_failed', parentId };
      if (status !== 'completed') pending = true;
    }
    const to: JobStatus = pending ? 'waiting' : 'queued';
    const updated = conn.get<JobRow>(
      raw(
        `UPDATE jobs SET status = ?, retry_count = 0, error = NULL, next_retry_at = NULL, canceled_at = NULL,
           canceled_by = NULL, completed_at = NULL, lease_owner = NULL, lease_expires_at = NULL, run_at = ?, updated_at = ?
         WHERE seq = ? RETURNING *`,
        to,
        req.now,
        req.now,
        row.seq,
      ),
    );
    if (updated === undefined) throw new Error(`job ${req.jobId} vanished inside its transaction`);
    appendHistory(conn, {
      jobId: row.id,
      at: req.now,
      from: row.status,
      to,
      attempt: row.attempts,
      actorId: req.actorId,
      message: null,
      error: null,
    });
    return { kind: 'requeued', job: rowToJob(updated) };
  });
}
