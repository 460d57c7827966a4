/**
 * `insertJobs`: dedup, parent checks, initial status, job + dependency + history rows, in
 * one immediate transaction per batch.
 */
import { FAILED_PARENT_STATUSES, PRIORITY_RANK, type JobStatus } from '../../states.js';
import type { Job, JobError } from '../../types.js';
import type { InsertJobsRequest, InsertOutcome, NewJob } from '../adapter.js';
import { sqliteQb } from './sqlite-compiler.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { appendHistory, SYSTEM_ACTOR } from './transitions.js';

/** Thrown inside the transaction to roll an atomic batch back. */
const ROLLBACK = Symbol('rollback atomic batch');

/**
 * Inserts a batch. Each job sees the jobs inserted before it in the same batch, so a later
 * identical job is a duplicate of the earlier one and a job may depend on an earlier one.
 * Why dedup holds across processes: the duplicate check and the insert run under the same
 * write lock (BEGIN IMMEDIATE), so no other writer can insert in between.
 */
export function insertJobs(conn: SqliteConnection, req: InsertJobsRequest): InsertOutcome[] {
  let outcomes: InsertOutcome[] = [];
  try {
    conn.write(() => {
      outcomes = req.jobs.map((job) => insertOne(conn, job, req));
      if (req.atomic && outcomes.some((o) => o.kind !== 'inserted')) throw ROLLBACK;
    });
  } catch (err) {
    if (err !== ROLLBACK) throw err;
    return outcomes.map((o) => (o.kind === 'inserted' ? { kind: 'not_written' } : o));
  }
  return outcomes;
}

function findDuplicate(conn: SqliteConnection, job: NewJob, now: number): string | null {
  if (job.dedupHash === null || job.dedupWindowMs <= 0) return null;
  // Scoped to the org as well as the hash: the engine folds the org into the hash, but a
  // caller-supplied dedupKey must never collide across tenants either (S4).
  const row = conn.get<{ id: string }>(
    sqliteQb
      .selectFrom('jobs')
      .select('id')
      .where('dedup_hash', '=', job.dedupHash)
      .where('created_at', '>', now - job.dedupWindowMs)
      .where('org_id', '=', job.orgId)
      .where('status', 'not in', ['canceled', 'dead_letter'])
      .orderBy('seq')
      .limit(1)
      .compile(),
  );
  return row?.id ?? null;
}

type ParentCheck = { kind: 'missing'; parentId: string } | { kind: 'ok'; status: JobStatus; error: JobError | null };

function checkParents(conn: SqliteConnection, job: NewJob, parentIds: string[]): ParentCheck {
  if (parentIds.length === 0) return { kind: 'ok', status: 'queued', error: null };
  const rows = conn.all<{ id: string; status: JobStatus }>(
    sqliteQb.selectFrom('jobs').select(['id', 'status']).where('id', 'in', parentIds).where('org_id', '=', job.orgId).compile(),
  );
  const byId = new Map(rows.map((r) => [r.id, r.status]));
  let failed: { id: string; status: JobStatus } | null = null;
  let pending = false;
  for (const id of parentIds) {
    const status = byId.get(id);
    if (status === undefined) return { kind: 'missing', parentId: id };
    if (failed === null && FAILED_PARENT_STATUSES.includes(status)) failed = { id, status };
    if (status !== 'completed') pending = true;
  }
  if (failed !== null) {
    return { kind: 'ok', status: 'canceled', error: { type: 'dependency_failed', message: `Parent job ${failed.id} ended ${failed.status}` } };
  }
  return { kind: 'ok', status: pending ? 'waiting' : 'queued', error: null };
}

function insertOne(conn: SqliteConnection, job: NewJob, req: InsertJobsRequest): InsertOutcome {
  const { now } = req;
  const existing = findDuplicate(conn, job, now);
  if (existing !== null) return { kind: 'duplicate', existingJobId: existing };

  const parentIds = [...new Set(job.dependsOn)];
  const parents = checkParents(conn, job, parentIds);
  if (parents.kind === 'missing') return { kind: 'parent_not_found', parentId: parents.parentId };

  let status = parents.status;
  if (status === 'queued' && job.runAt > now) status = 'scheduled';
  const canceled = status === 'canceled';

  conn.run(
    sqliteQb
      .insertInto('jobs')
      .values({
        id: job.id,
        type: job.type,
        org_id: job.orgId,
        owner_id: job.ownerId,
        status,
        priority_rank: PRIORITY_RANK[job.priority],
        input: job.inputJson,
        output: null,
        progress: 0,
        progress_message: null,
        checkpoint: null,
        error: parents.error === null ? null : JSON.stringify(parents.error),
        retry_count: 0,
        max_retries: job.maxRetries,
        attempts: 0,
        next_retry_at: null,
        run_at: job.runAt,
        timeout_ms: job.timeoutMs,
        depends_on: JSON.stringify(parentIds),
        dedup_hash: job.dedupHash,
        created_at: now,
        started_at: null,
        completed_at: null,
        canceled_at: canceled ? now : null,
        canceled_by: canceled ? SYSTEM_ACTOR : null,
        updated_at: now,
        lease_owner: null,
        lease_expires_at: null,
      })
      .compile(),
  );
  if (parentIds.length > 0) {
    conn.run(
      sqliteQb
        .insertInto('job_dependencies')
        .values(parentIds.map((parentId) => ({ job_id: job.id, parent_id: parentId })))
        .compile(),
    );
  }
  appendHistory(conn, {
    jobId: job.id,
    at: now,
    from: null,
    to: status,
    attempt: 0,
    actorId: req.actorId,
    message: parents.error?.message ?? null,
    error: parents.error,
  });

  const inserted: Job = {
    id: job.id,
    type: job.type,
    orgId: job.orgId,
    ownerId: job.ownerId,
    status,
    priority: job.priority,
    input: job.input,
    output: null,
    progress: 0,
    progressMessage: null,
    checkpoint: null,
    error: parents.error,
    retryCount: 0,
    maxRetries: job.maxRetries,
    nextRetryAt: null,
    runAt: new Date(job.runAt),
    timeoutMs: job.timeoutMs,
    dependsOn: parentIds,
    dedupHash: job.dedupHash,
    createdAt: new Date(now),
    startedAt: null,
    completedAt: null,
    canceledAt: canceled ? new Date(now) : null,
    canceledBy: canceled ? SYSTEM_ACTOR : null,
    updatedAt: new Date(now),
  };
  return { kind: 'inserted', job: inserted };
}
