/**
 * `settleJobs`: ends attempts, one immediate transaction per batch, each settle fenced on
 * its own. Hand-written SQL (hot path: one per finished attempt).
 *
 * Why exactly one terminal transition per attempt (R8): every settle is a single
 * `UPDATE … WHERE id = ? AND status = 'running' AND attempts = ?`. The first settle of an
 * attempt (worker or rescuer) moves the job out of `running`; any later one matches no row
 * and reports `lease_lost`. SQLite serializes writers, so the two can never both match.
 */
import type { JobStatus } from '../../states.js';
import type { SettleJobsRequest, SettleOutcome, SettleRequest } from '../adapter.js';
import { rowToJob, type JobRow } from '../sql/job-row.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';
import { appendHistory, cancelDependents, releaseDependents } from './transitions.js';

const LEASE_CLEARED = `updated_at = ?, lease_owner = NULL, lease_expires_at = NULL`;
const FENCE = `WHERE id = ? AND status = 'running' AND attempts = ?`;
const FENCE_EXPIRED = `${FENCE} AND lease_expires_at < ?`;

function fenced(setClause: string): { live: string; expired: string } {
  return {
    live: `UPDATE jobs SET ${setClause}, ${LEASE_CLEARED} ${FENCE} RETURNING *`,
    expired: `UPDATE jobs SET ${setClause}, ${LEASE_CLEARED} ${FENCE_EXPIRED} RETURNING *`,
  };
}

// nextRetryAt means "while retrying": every exit from running but a retry clears it.
const COMPLETE = fenced(`status = 'completed', output = ?, error = NULL, next_retry_at = NULL, completed_at = ?`);
const RETRY = fenced(`status = 'retrying', retry_count = retry_count + 1, next_retry_at = ?, run_at = ?, error = ?`);
const DEAD = fenced(`status = 'dead_letter', error = ?, next_retry_at = NULL, completed_at = ?`);
const RELEASE = fenced(`status = 'queued', next_retry_at = NULL`);
// Snooze: no retry used; checkpoint, progress and error stay as they are.
const SNOOZE = fenced(`status = 'scheduled', run_at = ?, next_retry_at = NULL`);

function settleOne(conn: SqliteConnection, s: SettleRequest, now: number): SettleOutcome {
  const fence = [now, s.jobId, s.attempt, ...(s.onlyIfLeaseExpired === true ? [now] : [])];
  const pick = (sqls: { live: string; expired: string }) => (s.onlyIfLeaseExpired === true ? sqls.expired : sqls.live);
  const o = s.outcome;
  let row: JobRow | undefined;
  let message: string | null = null;
  switch (o.kind) {
    case 'completed':
      row = conn.get<JobRow>(raw(pick(COMPLETE), o.outputJson, now, ...fence));
      break;
    case 'failed':
      row =
        o.retryAt !== null
          ? conn.get<JobRow>(raw(pick(RETRY), o.retryAt, o.retryAt, JSON.stringify(o.error), ...fence))
          : conn.get<JobRow>(raw(pick(DEAD), JSON.stringify(o.error), now, ...fence));
      break;
    case 'released':
      row = conn.get<JobRow>(raw(pick(RELEASE), ...fence));
      message = o.message;
      break;
    case 'snoozed':
      row = conn.get<JobRow>(raw(pick(SNOOZE), o.runAt, ...fence));
      message = o.message;
      break;
  }
  if (row === undefined) return { kind: 'lease_lost' };

  const job = rowToJob(row);
  appendHistory(conn, {
    jobId: job.id,
    at: now,
    from: 'running',
    to: job.status,
    attempt: s.attempt,
    actorId: s.actorId,
    message,
    error: o.kind === 'failed' ? o.error : null,
  });
  let transitions = 1;
  if (job.status === 'completed') transitions += releaseDependents(conn, job.id, now);
  else if (job.status === 'dead_letter') transitions += cancelDependents(conn, job.id, 'dead_letter' satisfies JobStatus, now);
  return { kind: 'settled', job, transitions };
}

/** Settles a batch inside the caller's write transaction; results in request order. */
export function settleInTransaction(conn: SqliteConnection, settles: SettleRequest[], now: number): SettleOutcome[] {
  return settles.map((s) => settleOne(conn, s, now));
}

/** Settles a batch in one transaction; results in request order. */
export function settleJobs(conn: SqliteConnection, req: SettleJobsRequest): SettleOutcome[] {
  if (req.settles.length === 0) return [];
  return conn.write(() => settleInTransaction(conn, req.settles, req.now));
}
