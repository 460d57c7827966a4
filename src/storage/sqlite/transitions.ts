/**
 * Status-transition writes shared by several store methods: the history entry every
 * transition appends, and the release / cascade-cancel of waiting dependents. All of these
 * run inside the caller's immediate transaction, so a transition and its history entry (and
 * its dependents' transitions) commit together or not at all.
 */
import { dependencyFailedError } from '../sql/new-job-rules.js';
import type { JobStatus } from '../../states.js';
import { SYSTEM_ACTOR, type HistoryInsert } from '../sql/history-insert.js';
import type { JobError } from '../../types.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';

export { SYSTEM_ACTOR, type HistoryInsert } from '../sql/history-insert.js';

// Hand-written: runs once per transition on every hot path (claim, settle).
const INSERT_HISTORY = `INSERT INTO job_history (job_id, at, from_status, to_status, attempt, actor_id, message, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

/** Appends one history entry. Call it in the transaction that makes the transition. */
export function appendHistory(conn: SqliteConnection, h: HistoryInsert): void {
  conn.run(
    raw(INSERT_HISTORY, h.jobId, h.at, h.from, h.to, h.attempt, h.actorId, h.message, h.error === null ? null : JSON.stringify(h.error)),
  );
}

const WAITING_CHILDREN = `SELECT j.seq, j.id, j.run_at, j.attempts FROM job_dependencies d
  JOIN jobs j ON j.id = d.job_id
  WHERE d.parent_id = ? AND j.status = 'waiting'
  ORDER BY j.seq`;

// A parent row that no longer exists was pruned, which only happens to finished jobs; a
// pruned failed parent would already have canceled its children, so missing parents count as done.
const HAS_UNFINISHED_PARENT = `SELECT 1 FROM job_dependencies d
  JOIN jobs p ON p.id = d.parent_id
  WHERE d.job_id = ? AND p.status <> 'completed'
  LIMIT 1`;

/**
 * After `parentId` completed: moves each `waiting` child whose parents are now all completed
 * to `scheduled` (runAt later than `now`) or `queued`. Returns the number of transitions.
 */
export function releaseDependents(conn: SqliteConnection, parentId: string, now: number): number {
  const children = conn.all<{ seq: number; id: string; run_at: number; attempts: number }>(raw(WAITING_CHILDREN, parentId));
  let transitions = 0;
  for (const child of children) {
    if (conn.get(raw(HAS_UNFINISHED_PARENT, child.id)) !== undefined) continue;
    const to: JobStatus = child.run_at > now ? 'scheduled' : 'queued';
    const changed = conn.run(raw(`UPDATE jobs SET status = ?, updated_at = ? WHERE seq = ? AND status = 'waiting'`, to, now, child.seq));
    if (changed === 0) continue;
    appendHistory(conn, {
      jobId: child.id,
      at: now,
      from: 'waiting',
      to,
      attempt: child.attempts,
      actorId: SYSTEM_ACTOR,
      message: 'all parents completed',
      error: null,
    });
    transitions++;
  }
  return transitions;
}

/**
 * After `parentId` ended `dead_letter` or `canceled`: cancels its `waiting` children with a
 * `dependency_failed` error, and theirs, transitively. Returns the number of transitions.
 */
export function cancelDependents(conn: SqliteConnection, parentId: string, parentStatus: JobStatus, now: number): number {
  const queue: { id: string; status: JobStatus }[] = [{ id: parentId, status: parentStatus }];
  const seen = new Set<string>([parentId]);
  let transitions = 0;
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    const children = conn.all<{ seq: number; id: string; attempts: number }>(raw(WAITING_CHILDREN, parent.id));
    for (const child of children) {
      if (seen.has(child.id)) continue;
      seen.add(child.id);
      const error: JobError = dependencyFailedError(parent.id, parent.status);
      const changed = conn.run(
        raw(
          `UPDATE jobs SET status = 'canceled', error = ?, canceled_at = ?, canceled_by = ?, updated_at = ?
           WHERE seq = ? AND status = 'waiting'`,
          JSON.stringify(error),
          now,
          SYSTEM_ACTOR,
          now,
          child.seq,
        ),
      );
      if (changed === 0) continue;
      appendHistory(conn, {
        jobId: child.id,
        at: now,
        from: 'waiting',
        to: 'canceled',
        attempt: child.attempts,
        actorId: SYSTEM_ACTOR,
        message: error.message,
        error,
      });
      transitions++;
      queue.push({ id: child.id, status: 'canceled' });
    }
  }
  return transitions;
}
