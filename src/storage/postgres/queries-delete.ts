/** `deleteJob`: removes one finished job and everything that refers to it. */
import { isTerminal, type JobStatus } from '../../states.js';
import type { DeleteJobOutcome, DeleteJobRequest } from '../adapter.js';
import { raw, type PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/**
 * One transaction that locks the job row (`FOR UPDATE`) before checking its status, so a
 * concurrent admin retry waits for the delete (then finds nothing) or the delete waits for the
 * retry (then sees a live job and refuses).
 */
export async function deleteJob(conn: PgConnection, n: PgNames, req: DeleteJobRequest): Promise<DeleteJobOutcome> {
  return conn.transaction(async (tx): Promise<DeleteJobOutcome> => {
    const [row] = await tx.query<{ seq: number; status: JobStatus }>(
      req.orgId === null
        ? raw(`SELECT seq, status FROM ${n.jobs} WHERE id = $1 FOR UPDATE`, req.jobId)
        : raw(`SELECT seq, status FROM ${n.jobs} WHERE id = $1 AND org_id = $2 FOR UPDATE`, req.jobId, req.orgId),
    );
    if (!row) return { kind: 'not_found' };
    if (!isTerminal(row.status)) return { kind: 'invalid_state', status: row.status };
    await tx.query(raw(`DELETE FROM ${n.history} WHERE job_id = $1`, req.jobId));
    await tx.query(raw(`DELETE FROM ${n.progress} WHERE job_id = $1`, req.jobId));
    await tx.query(raw(`DELETE FROM ${n.dependencies} WHERE job_id = $1 OR parent_id = $1`, req.jobId));
    await tx.query(raw(`DELETE FROM ${n.jobs} WHERE seq = $1`, row.seq));
    return { kind: 'deleted' };
  });
}
