/** `deleteJob`: removes one finished job and everything that refers to it. */
import { isTerminal, type JobStatus } from '../../states.js';
import type { DeleteJobOutcome, DeleteJobRequest } from '../adapter.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';

/**
 * One write transaction: SQLite serializes writers, so the status checked is the status at
 * the delete, and a concurrent retry either runs before (the job is live: refused) or after
 * (the job is gone: not found).
 */
export function deleteJob(conn: SqliteConnection, req: DeleteJobRequest): DeleteJobOutcome {
  return conn.write((): DeleteJobOutcome => {
    const row = conn.get<{ status: JobStatus }>(
      req.orgId === null ? raw(`SELECT status FROM jobs WHERE id = ?`, req.jobId) : raw(`SELECT status FROM jobs WHERE id = ? AND org_id = ?`, req.jobId, req.orgId),
    );
    if (!row) return { kind: 'not_found' };
    if (!isTerminal(row.status)) return { kind: 'invalid_state', status: row.status };
    conn.run(raw(`DELETE FROM job_history WHERE job_id = ?`, req.jobId));
    conn.run(raw(`DELETE FROM job_progress_events WHERE job_id = ?`, req.jobId));
    conn.run(raw(`DELETE FROM job_dependencies WHERE job_id = ? OR parent_id = ?`, req.jobId, req.jobId));
    conn.run(raw(`DELETE FROM jobs WHERE id = ?`, req.jobId));
    return { kind: 'deleted' };
  });
}
