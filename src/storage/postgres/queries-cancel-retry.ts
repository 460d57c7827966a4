/**
 * Admin-style transitions: `cancelJob` and `retryJob`. Each is one transaction that locks the
 * job row (`FOR UPDATE`), checks its status and writes, so a concurrent settle or claim waits
 * for it (or it waits for them) and the status it checked is the status it changes.
 */
import { CANCELABLE_STATUSES, FAILED_PARENT_STATUSES, RETRYABLE_STATUSES, type JobStatus } from '../../states.js';
import type { CancelJobRequest, CancelOutcome, RetryJobRequest, RetryOutcome } from '../adapter.js';
import { rowToJob, type JobRow } from '../sql/job-row.js';
import { raw, type PgConnection, type PgTx } from './pg-connection.js';
import type { PgNames } from './pg-names.js';
import { appendHistory, cancelDependents } from './transitions.js';

type ScopedRow = JobRow & { seq: number; attempts: number; status: JobStatus };

/** The job, locked for this transaction; another org's job (when `orgId` is set) is not found. */
async function lockScoped(tx: PgTx, n: PgNames, id: string, orgId: string | null): Promise<ScopedRow | undefined> {
  let query = n.qb.selectFrom('jobs').selectAll().where('id', '=', id);
  if (orgId !== null) query = query.where('org_id', '=', orgId);
  const [row] = await tx.query<ScopedRow>(query.forUpdate().compile());
  return row;
}

/** Result of a cancel, plus whether anything was written. */
export interface CancelResult {
  outcome: CancelOutcome;
  written: boolean;
}

/**
 * Cancels a live job and, transitively, its waiting dependents. A running job keeps its lease
 * owner and attempt so that its worker's next heartbeat reports it `canceled`.
 */
export async function cancelJob(conn: PgConnection, n: PgNames, req: CancelJobRequest): Promise<CancelResult> {
  return conn.transaction(async (tx): Promise<CancelResult> => {
    const row = await lockScoped(tx, n, req.jobId, req.orgId);
    if (row === undefined) return { outcome: { kind: 'not_found' }, written: false };
    if (!CANCELABLE_STATUSES.includes(row.status)) return { outcome: { kind: 'invalid_state', status: row.status }, written: false };
    const [updated] = await tx.query<JobRow>(
      n.qb
        .updateTable('jobs')
        .set({ status: 'canceled', canceled_at: req.now, canceled_by: req.actorId, updated_at: req.now })
        .where('seq', '=', row.seq)
        .returningAll()
        .compile(),
    );
    if (updated === undefined) throw new Error(`job ${req.jobId} vanished inside its transaction`);
    await appendHistory(tx, n, [
      { jobId: row.id, at: req.now, from: row.status, to: 'canceled', attempt: row.attempts, actorId: req.actorId, message: null, error: null },
    ]);
    await cancelDependents(tx, n, row.id, 'canceled', req.now);
    return { outcome: { kind: 'canceled', job: rowToJob(updated) }, written: true };
  });
}

/** Result of a retry, plus whether the job became claimable. */
export interface RetryResult {
  outcome: RetryOutcome;
  queued: boolean;
}

/**
 * Admin retry: `dead_letter|canceled → queued` (or `waiting` while a parent is not yet
 * completed), with retryCount, error and finish fields reset and runAt = now. A failed parent
 * → `parent_failed`, first such parent in `dependsOn` order; a pruned parent counts as done.
 * The parents are read `FOR SHARE`, so a parent settling at the same moment either finishes
 * first (and is seen completed) or waits and then sees this job `waiting` and releases it.
 */
export async function retryJob(conn: PgConnection, n: PgNames, req: RetryJobRequest): Promise<RetryResult> {
  return conn.transaction(async (tx): Promise<RetryResult> => {
    const row = await lockScoped(tx, n, req.jobId, req.orgId);
    if (row === undefined) return { outcome: { kind: 'not_found' }, queued: false };
    if (!RETRYABLE_STATUSES.includes(row.status)) return { outcome: { kind: 'invalid_state', status: row.status }, queued: false };
    const dependsOn = JSON.parse(row.depends_on) as string[];
    const parents =
      dependsOn.length === 0
        ? []
        : await tx.query<{ id: string; status: JobStatus }>(
            raw(`SELECT id, status FROM ${n.jobs} WHERE id = ANY($1::text[]) ORDER BY id FOR SHARE`, dependsOn),
          );
    const statusById = new Map(parents.map((p) => [p.id, p.status]));
    let pending = false;
    for (const parentId of dependsOn) {
      const status = statusById.get(parentId);
      if (status === undefined) continue;
      if (FAILED_PARENT_STATUSES.includes(status)) return { outcome: { kind: 'parent_failed', parentId }, queued: false };
      if (status !== 'completed') pending = true;
    }
    const to: JobStatus = pending ? 'waiting' : 'queued';
    const [updated] = await tx.query<JobRow>(
      n.qb
        .updateTable('jobs')
        .set({
          status: to,
          retry_count: 0,
          error: null,
          next_retry_at: null,
          canceled_at: null,
          canceled_by: null,
          completed_at: null,
          lease_owner: null,
          lease_expires_at: null,
          run_at: req.now,
          updated_at: req.now,
        })
        .where('seq', '=', row.seq)
        .returningAll()
        .compile(),
    );
    if (updated === undefined) throw new Error(`job ${req.jobId} vanished inside its transaction`);
    await appendHistory(tx, n, [{ jobId: row.id, at: req.now, from: row.status, to, attempt: row.attempts, actorId: req.actorId, message: null, error: null }]);
    return { outcome: { kind: 'requeued', job: rowToJob(updated) }, queued: to === 'queued' };
  });
}
