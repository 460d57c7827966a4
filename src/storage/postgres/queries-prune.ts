/** `pruneJobs` and `pruneProgressEvents`: retention of finished jobs and of the progress-event tail. */
import type { PruneJobsRequest, PruneProgressEventsRequest } from '../adapter.js';
import { raw, type PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/** Deletes up to `limit` progress events recorded before `before`, oldest first; returns how many. */
export async function pruneProgressEvents(conn: PgConnection, n: PgNames, req: PruneProgressEventsRequest): Promise<number> {
  if (req.limit <= 0) return 0;
  const [row] = await conn.query<{ deleted: number }>(
    raw(
      `WITH gone AS (DELETE FROM ${n.progress} WHERE seq IN (SELECT seq FROM ${n.progress} WHERE at < $1 ORDER BY at LIMIT $2) RETURNING 1)
       SELECT count(*)::int AS deleted FROM gone`,
      req.before,
      req.limit,
    ),
    { prepare: true },
  );
  return row?.deleted ?? 0;
}

/**
 * Deletes up to `limit` completed/canceled/dead_letter jobs last updated before
 * `finishedBefore`, with their history, dependency rows (as child and as parent) and progress
 * events, in one statement. Also drops progress events older than the cutoff.
 *
 * The victims are locked `FOR UPDATE SKIP LOCKED`: a job an admin is retrying right now is
 * skipped, and a row that changed since the snapshot is re-checked against the (literal,
 * never live) status list before it is deleted.
 */
export async function pruneJobs(conn: PgConnection, n: PgNames, req: PruneJobsRequest): Promise<number> {
  if (req.limit <= 0) return 0;
  const [row] = await conn.query<{ deleted: number }>(
    raw(
      `WITH victims AS MATERIALIZED (
         SELECT seq, id FROM ${n.jobs}
         WHERE status IN ('completed','canceled','dead_letter') AND updated_at < $1
         ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ),
       deleted AS (DELETE FROM ${n.jobs} j USING victims v WHERE j.seq = v.seq RETURNING j.id),
       h AS (DELETE FROM ${n.history} WHERE job_id IN (SELECT id FROM victims)),
       p AS (DELETE FROM ${n.progress} WHERE job_id IN (SELECT id FROM victims)),
       dc AS (DELETE FROM ${n.dependencies} WHERE job_id IN (SELECT id FROM victims)),
       dp AS (DELETE FROM ${n.dependencies} WHERE parent_id IN (SELECT id FROM victims) AND job_id NOT IN (SELECT id FROM victims)),
       old_progress AS (
         DELETE FROM ${n.progress} WHERE seq IN (SELECT seq FROM ${n.progress} WHERE at < $1 ORDER BY at LIMIT 10000)
       )
       SELECT count(*) AS deleted FROM deleted`,
      req.finishedBefore,
      req.limit,
    ),
    { prepare: true },
  );
  return row?.deleted ?? 0;
}
