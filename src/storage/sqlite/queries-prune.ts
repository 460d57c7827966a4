/** `pruneJobs` and `pruneProgressEvents`: retention of finished jobs and of the progress-event tail. */
import type { PruneJobsRequest, PruneProgressEventsRequest } from '../adapter.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';

/** Oldest progress events first (uses job_progress_events_at_idx). */
const OLD_PROGRESS_EVENTS = `DELETE FROM job_progress_events WHERE seq IN (
  SELECT seq FROM job_progress_events WHERE at < ? ORDER BY at LIMIT ?)`;

/** Deletes up to `limit` progress events recorded before `before`; returns how many. */
export function pruneProgressEvents(conn: SqliteConnection, req: PruneProgressEventsRequest): number {
  if (req.limit <= 0) return 0;
  return conn.write(() => conn.run(raw(OLD_PROGRESS_EVENTS, req.before, req.limit)));
}

/**
 * Finished jobs older than the cutoff. Literal statuses: they match the partial index
 * jobs_prune_idx, and a live job can never be selected, whatever its updated_at.
 * Exported for the query-plan test.
 */
export const PRUNABLE_SQL = `SELECT id FROM jobs INDEXED BY jobs_prune_idx
  WHERE status IN ('completed','canceled','dead_letter') AND updated_at < ?
  ORDER BY updated_at LIMIT ?`;

/**
 * Deletes up to `limit` completed/canceled/dead_letter jobs last updated before
 * `finishedBefore`, with their history, dependency rows (as child and as parent) and progress
 * events, in one transaction. Also drops progress events older than the cutoff.
 */
export function pruneJobs(conn: SqliteConnection, req: PruneJobsRequest): number {
  if (req.limit <= 0) return 0;
  return conn.write(() => {
    const ids = conn.all<{ id: string }>(raw(PRUNABLE_SQL, req.finishedBefore, req.limit)).map((r) => r.id);
    conn.run(raw(`DELETE FROM job_progress_events WHERE seq IN (SELECT seq FROM job_progress_events WHERE at < ? LIMIT 10000)`, req.finishedBefore));
    if (ids.length === 0) return 0;
    // json_each keeps one statement text whatever the batch size.
    const list = JSON.stringify(ids);
    conn.run(raw(`DELETE FROM job_history WHERE job_id IN (SELECT value FROM json_each(?))`, list));
    conn.run(raw(`DELETE FROM job_progress_events WHERE job_id IN (SELECT value FROM json_each(?))`, list));
    conn.run(raw(`DELETE FROM job_dependencies WHERE job_id IN (SELECT value FROM json_each(?))`, list));
    conn.run(raw(`DELETE FROM job_dependencies WHERE parent_id IN (SELECT value FROM json_each(?))`, list));
    return conn.run(raw(`DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))`, list));
  });
}
