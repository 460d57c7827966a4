/**
 * Status-transition writes shared by several store methods: history entries, and the
 * release / cascade-cancel of waiting dependents. All run inside the caller's transaction, so
 * a transition, its history entry and its dependents' transitions commit together or not at all.
 *
 * Why dependents are never stranded across processes: a job is inserted with its parents
 * locked `FOR SHARE` (queries-insert.ts), so a parent's settle or cancel waits for that insert
 * to commit, and the dependents are looked up in a later statement (a fresh READ COMMITTED
 * snapshot) that sees the new child. A child with several parents is locked (`FOR UPDATE`)
 * before its parents are checked, so two parents completing at once are serialized on the
 * child and the second sees the first completed.
 */
import { dependencyFailedError } from '../sql/new-job-rules.js';
import type { JobStatus } from '../../states.js';
import { SYSTEM_ACTOR, type HistoryInsert } from '../sql/history-insert.js';
import type { JobError } from '../../types.js';
import { raw, type PgTx } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

export { SYSTEM_ACTOR, type HistoryInsert } from '../sql/history-insert.js';

/** Appends history entries in the given order (their seqs follow it). */
export async function appendHistory(tx: PgTx, n: PgNames, entries: readonly HistoryInsert[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    raw(
      `INSERT INTO ${n.history} (job_id, at, from_status, to_status, attempt, actor_id, message, error)
       SELECT job_id, at, from_status, to_status, attempt, actor_id, message, error::json
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[])
         WITH ORDINALITY AS e(job_id, at, from_status, to_status, attempt, actor_id, message, error, ord)
       ORDER BY ord`,
      entries.map((e) => e.jobId),
      entries.map((e) => e.at),
      entries.map((e) => e.from),
      entries.map((e) => e.to),
      entries.map((e) => e.attempt),
      entries.map((e) => e.actorId),
      entries.map((e) => e.message),
      entries.map((e) => (e.error === null ? null : JSON.stringify(e.error))),
    ),
    { prepare: true },
  );
}

/** What a dependents pass changed. */
export interface DependentsResult {
  transitions: number;
  /** Some dependent became `queued` (claimable now): wake workers. */
  queued: boolean;
}

/**
 * After the `parentIds` completed: moves each `waiting` child whose parents are now all
 * completed to `scheduled` (runAt later than `now`) or `queued`. A parent row that no longer
 * exists was pruned, which only happens to finished jobs, so it counts as done.
 */
export async function releaseDependents(tx: PgTx, n: PgNames, parentIds: readonly string[], now: number): Promise<DependentsResult> {
  if (parentIds.length === 0) return { transitions: 0, queued: false };
  const children = await tx.query<{ seq: number; id: string }>(
    raw(
      `SELECT seq, id FROM ${n.jobs}
       WHERE id IN (SELECT job_id FROM ${n.dependencies} WHERE parent_id = ANY($1::text[])) AND status = 'waiting'
       ORDER BY seq FOR UPDATE`,
      parentIds,
    ),
  );
  if (children.length === 0) return { transitions: 0, queued: false };
  const blocked = new Set(
    (
      await tx.query<{ job_id: string }>(
        raw(
          `SELECT DISTINCT d.job_id FROM ${n.dependencies} d JOIN ${n.jobs} p ON p.id = d.parent_id
           WHERE d.job_id = ANY($1::text[]) AND p.status <> 'completed'`,
          children.map((c) => c.id),
        ),
      )
    ).map((r) => r.job_id),
  );
  const ready = children.filter((c) => !blocked.has(c.id)).map((c) => c.seq);
  if (ready.length === 0) return { transitions: 0, queued: false };
  const moved = await tx.query<{ seq: number; id: string; status: JobStatus; attempts: number }>(
    raw(
      `UPDATE ${n.jobs} SET status = CASE WHEN run_at > $2 THEN 'scheduled' ELSE 'queued' END, updated_at = $2
       WHERE seq = ANY($1::bigint[]) AND status = 'waiting'
       RETURNING seq, id, status, attempts`,
      ready,
      now,
    ),
  );
  moved.sort((a, b) => a.seq - b.seq);
  await appendHistory(
    tx,
    n,
    moved.map((c) => ({ jobId: c.id, at: now, from: 'waiting', to: c.status, attempt: c.attempts, actorId: SYSTEM_ACTOR, message: 'all parents completed', error: null })),
  );
  return { transitions: moved.length, queued: moved.some((c) => c.status === 'queued') };
}

/**
 * After `parentId` ended `dead_letter` or `canceled`: cancels its `waiting` children with a
 * `dependency_failed` error naming the parent, and theirs, transitively, level by level.
 * Returns the number of transitions.
 */
export async function cancelDependents(tx: PgTx, n: PgNames, parentId: string, parentStatus: JobStatus, now: number): Promise<number> {
  let level: { id: string; status: JobStatus }[] = [{ id: parentId, status: parentStatus }];
  const seen = new Set<string>([parentId]);
  let transitions = 0;
  while (level.length > 0) {
    const rows = await tx.query<{ seq: number; id: string; parent_id: string }>(
      raw(
        `SELECT j.seq, j.id, d.parent_id FROM ${n.jobs} j JOIN ${n.dependencies} d ON d.job_id = j.id
         WHERE d.parent_id = ANY($1::text[]) AND j.status = 'waiting'
         ORDER BY j.seq FOR UPDATE OF j`,
        level.map((p) => p.id),
      ),
    );
    // Each child is canceled on behalf of its first failed parent in this level's order.
    const order = new Map(level.map((p, i) => [p.id, i]));
    rows.sort((a, b) => order.get(a.parent_id)! - order.get(b.parent_id)! || a.seq - b.seq);
    const targets: { seq: number; error: JobError }[] = [];
    for (const r of rows) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      const parent = level[order.get(r.parent_id)!]!;
      targets.push({ seq: r.seq, error: dependencyFailedError(parent.id, parent.status) });
    }
    if (targets.length === 0) break;
    const canceled = await tx.query<{ seq: number; id: string; attempts: number; error: string }>(
      raw(
        `UPDATE ${n.jobs} j SET status = 'canceled', error = t.error::json, canceled_at = $3, canceled_by = $4, updated_at = $3
         FROM unnest($1::bigint[], $2::text[]) AS t(seq, error)
         WHERE j.seq = t.seq AND j.status = 'waiting'
         RETURNING j.seq, j.id, j.attempts, t.error`,
        targets.map((t) => t.seq),
        targets.map((t) => JSON.stringify(t.error)),
        now,
        SYSTEM_ACTOR,
      ),
    );
    const bySeq = new Map(canceled.map((c) => [c.seq, c]));
    const entries: HistoryInsert[] = [];
    for (const t of targets) {
      const c = bySeq.get(t.seq);
      if (c === undefined) continue;
      entries.push({ jobId: c.id, at: now, from: 'waiting', to: 'canceled', attempt: c.attempts, actorId: SYSTEM_ACTOR, message: t.error.message, error: t.error });
    }
    await appendHistory(tx, n, entries);
    transitions += entries.length;
    level = entries.map((e) => ({ id: e.jobId, status: 'canceled' as JobStatus }));
  }
  return transitions;
}
