/**
 * `insertJobs`: dedup, parent checks, initial status, then every job, dependency and history
 * row of the batch in one statement. Set-based: a batch of 500 costs the same few round trips
 * as a batch of one.
 *
 * Why dedup holds across processes and hosts (R14): before checking for a live duplicate, the
 * transaction takes `pg_advisory_xact_lock` on the bucket of every (org, hash) it inserts, in
 * bucket order (no deadlock between two batches). Two transactions inserting the same hash
 * are thereby serialized: the second waits until the first commits, and only then runs the
 * duplicate check, as a new statement whose READ COMMITTED snapshot sees the first one's job.
 * The lock is released at commit. A unique index cannot express the rule (it depends on the
 * window and on the existing job's status), and a serializable transaction would abort and
 * retry under contention instead of waiting.
 *
 * The (org, hash) pairs are folded into {@link DEDUP_LOCK_BUCKETS} lock keys, under one lock
 * class per schema. Postgres keeps advisory locks in its shared lock table (about
 * max_locks_per_transaction × max_connections entries): a batch of 10,000 deduplicated jobs
 * takes at most 256 locks, not 10,000. Two different hashes sharing a bucket only wait for
 * each other briefly; correctness never depends on the bucketing.
 */
import { initialStatus, insertedJob } from '../sql/new-job-rules.js';
import { PRIORITY_RANK, type JobStatus } from '../../states.js';
import type { Job, JobError } from '../../types.js';
import type { InsertJobsRequest, InsertOutcome, NewJob } from '../adapter.js';
import { raw, type PgConnection, type PgTx } from './pg-connection.js';
import type { PgNames } from './pg-names.js';
import { SYSTEM_ACTOR } from './transitions.js';

/** Advisory lock keys the dedup hashes are folded into. */
export const DEDUP_LOCK_BUCKETS = 256;

/** The NOTIFY an insert of claimable jobs sends in its own transaction. */
export interface InsertNotice {
  channel: string;
  payload: string;
}

/** Result of an insert, plus what to NOTIFY. */
export interface InsertResult {
  outcomes: InsertOutcome[];
  /** Some job was inserted `queued` (claimable now); the NOTIFY went out with the commit. */
  queued: boolean;
  /** Something was written. */
  written: boolean;
}

interface Accepted {
  job: NewJob;
  parentIds: string[];
  status: JobStatus;
  error: JobError | null;
}

type ParentRow = { id: string; org_id: string; status: JobStatus };

function needsDedupCheck(job: NewJob): boolean {
  return job.dedupHash !== null && job.dedupWindowMs > 0;
}

/** Inserts a batch; each job sees the accepted jobs before it in the batch (dedup, parents). */
export async function insertJobs(conn: PgConnection, n: PgNames, req: InsertJobsRequest, notice: InsertNotice): Promise<InsertResult> {
  if (req.jobs.length === 0) return { outcomes: [], queued: false, written: false };
  const hasDedup = req.jobs.some(needsDedupCheck);
  const parentIds = [...new Set(req.jobs.flatMap((j) => j.dependsOn))];
  if (!hasDedup && parentIds.length === 0) {
    // Nothing to check: one statement, atomic on its own.
    const accepted = req.jobs.map((job): Accepted => ({ job, parentIds: [], ...initialStatus([], job.runAt, req.now) }));
    await conn.query(insertStatement(n, accepted, req, notice), { prepare: true });
    return finish(accepted.map((a) => ({ kind: 'inserted', job: toJob(a, req.now) })), accepted);
  }
  return conn.transaction(async (tx) => {
    const duplicates = hasDedup ? await lockAndFindDuplicates(tx, n, req) : new Map<number, string>();
    const parents = parentIds.length > 0 ? await lockParents(tx, n, parentIds) : new Map<string, ParentRow>();
    const { outcomes, accepted } = decide(req, duplicates, parents);
    if (accepted.length === 0 || (req.atomic && outcomes.some((o) => o.kind !== 'inserted'))) {
      const rejected = outcomes.map((o): InsertOutcome => (o.kind === 'inserted' ? { kind: 'not_written' } : o));
      return { outcomes: req.atomic ? rejected : outcomes, queued: false, written: false };
    }
    await tx.query(insertStatement(n, accepted, req, notice), { prepare: true });
    return finish(outcomes, accepted);
  });
}

function finish(outcomes: InsertOutcome[], accepted: Accepted[]): InsertResult {
  return { outcomes, queued: accepted.some((a) => a.status === 'queued'), written: accepted.length > 0 };
}

/** Takes the dedup locks, then returns, per batch index, the oldest live duplicate already stored. */
async function lockAndFindDuplicates(tx: PgTx, n: PgNames, req: InsertJobsRequest): Promise<Map<number, string>> {
  const candidates = req.jobs.map((job, idx) => ({ job, idx })).filter((c) => needsDedupCheck(c.job));
  // Every job with a hash is locked, also the ones whose own window is 0: a later job of the
  // batch with a window may count them as its duplicate.
  const keys = [...new Set(req.jobs.filter((j) => j.dedupHash !== null).map((j) => `${j.orgId}\u001f${j.dedupHash}`))];
  await tx.query(
    raw(
      `SELECT pg_advisory_xact_lock(hashtext($2), b) FROM (
         SELECT DISTINCT (hashtextextended(k, 0) & ${DEDUP_LOCK_BUCKETS - 1})::int AS b FROM unnest($1::text[]) AS k ORDER BY 1
       ) AS buckets`,
      keys,
      `jobwing:dedup:${n.schemaName}`,
    ),
    { prepare: true },
  );
  // A separate statement after the locks: its snapshot sees what the lock holders committed.
  const rows = await tx.query<{ idx: number; id: string }>(
    raw(
      dedupProbeSql(n),
      candidates.map((c) => c.job.orgId),
      candidates.map((c) => c.job.dedupHash),
      candidates.map((c) => req.now - c.job.dedupWindowMs),
      candidates.map((c) => c.idx),
    ),
    { prepare: true },
  );
  return new Map(rows.map((r) => [r.idx, r.id]));
}

/**
 * The duplicate check: one probe of jobs_dedup_idx per candidate (LATERAL … LIMIT 1). The
 * prepared statement's generic plan otherwise walked jobs_org_list_idx over the org's whole
 * dedup window for each candidate: 1,000-job batches grew from 118 ms to 2.2 s over the first
 * 12,000 jobs (flat at ~45 ms now). Exported for the plan test.
 */
export function dedupProbeSql(n: Pick<PgNames, 'jobs'>): string {
  return `SELECT c.idx, d.id
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) AS c(org_id, hash, cutoff, idx)
       CROSS JOIN LATERAL (
         SELECT j.id FROM ${n.jobs} j
         WHERE j.dedup_hash IS NOT NULL -- lets the partial jobs_dedup_idx serve a generic plan
           AND j.dedup_hash = c.hash AND j.created_at > c.cutoff
           AND (j.org_id || '') = c.org_id -- not an index condition: jobs_org_list_idx would scan the org's window
           AND j.status NOT IN ('canceled','dead_letter')
         ORDER BY j.created_at, j.seq LIMIT 1 -- the index's own order: never a walk of the primary key
       ) AS d`;
}

/**
 * Locks the stored parents (`FOR NO KEY UPDATE`, in id order) and reads them: until this
 * transaction ends, a parent cannot change status, so its settle or cancel waits and then sees
 * the child (see transitions.ts). The lock is the one the insert statement needs anyway to set
 * the parents' `has_dependents`; taking it up front (not FOR SHARE, then upgrading) keeps two
 * inserts of children of one parent from deadlocking.
 */
async function lockParents(tx: PgTx, n: PgNames, parentIds: string[]): Promise<Map<string, ParentRow>> {
  const rows = await tx.query<ParentRow>(
    raw(`SELECT id, org_id, status FROM ${n.jobs} WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`, parentIds),
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The SQLite store's per-job rules, applied in batch order in memory. */
function decide(req: InsertJobsRequest, duplicates: Map<number, string>, stored: Map<string, ParentRow>): { outcomes: InsertOutcome[]; accepted: Accepted[] } {
  const outcomes: InsertOutcome[] = [];
  const accepted: Accepted[] = [];
  const batchById = new Map<string, Accepted>();
  const batchByHash = new Map<string, string>();
  req.jobs.forEach((job, idx) => {
    const key = `${job.orgId}\u001f${job.dedupHash}`;
    if (needsDedupCheck(job)) {
      const existing = duplicates.get(idx) ?? batchByHash.get(key);
      if (existing !== undefined) return void outcomes.push({ kind: 'duplicate', existingJobId: existing });
    }
    const parentIds = [...new Set(job.dependsOn)];
    const parents: { id: string; status: JobStatus }[] = [];
    for (const id of parentIds) {
      const inBatch = batchById.get(id);
      const row = stored.get(id);
      const status = inBatch !== undefined && inBatch.job.orgId === job.orgId ? inBatch.status : row !== undefined && row.org_id === job.orgId ? row.status : undefined;
      if (status === undefined) return void outcomes.push({ kind: 'parent_not_found', parentId: id });
      parents.push({ id, status });
    }
    const { status, error } = initialStatus(parents, job.runAt, req.now);
    const a: Accepted = { job, parentIds, status, error };
    accepted.push(a);
    batchById.set(job.id, a);
    if (job.dedupHash !== null && status !== 'canceled' && !batchByHash.has(key)) batchByHash.set(key, job.id);
    outcomes.push({ kind: 'inserted', job: toJob(a, req.now) });
  });
  return { outcomes, accepted };
}

/**
 * One statement writing the jobs, their dependency rows and their creation history entries,
 * and, when a job is claimable now, NOTIFYing in the same transaction: workers everywhere hear
 * of it the moment it commits, one round trip sooner than a notify sent after the commit (the
 * submit-to-start latency). Only inserts do this; see notifier.ts for why the others do not.
 */
function insertStatement(n: PgNames, accepted: Accepted[], req: InsertJobsRequest, notice: InsertNotice) {
  const { now } = req;
  const deps = accepted.flatMap((a) => a.parentIds.map((parentId) => [a.job.id, parentId] as const));
  const parents = new Set(deps.map((d) => d[1]));
  return raw(
    `WITH new_jobs AS (
       INSERT INTO ${n.jobs} (id, type, org_id, owner_id, status, priority_rank, input, max_retries, run_at, timeout_ms,
                              depends_on, dedup_hash, error, created_at, canceled_at, canceled_by, updated_at, has_dependents,
                              trace_context)
       SELECT id, type, org_id, owner_id, status, priority_rank, input::json, max_retries, run_at, timeout_ms,
              depends_on::json, dedup_hash, error::json, $13::bigint, CASE WHEN status = 'canceled' THEN $13::bigint END,
              CASE WHEN status = 'canceled' THEN '${SYSTEM_ACTOR}' END, $13::bigint, id = ANY($15::text[]), trace_context
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::text[], $8::int[],
                   $9::bigint[], $10::int[], $11::text[], $12::text[], $14::text[], $22::text[])
         WITH ORDINALITY AS j(id, type, org_id, owner_id, status, priority_rank, input, max_retries, run_at, timeout_ms,
                              depends_on, dedup_hash, error, trace_context, ord)
       ORDER BY ord
       RETURNING id
     ),
     new_dependencies AS (
       INSERT INTO ${n.dependencies} (job_id, parent_id) SELECT * FROM unnest($16::text[], $17::text[])
     ),
     stored_parents AS (
       UPDATE ${n.jobs} SET has_dependents = true WHERE id = ANY($15::text[]) AND NOT has_dependents
     ),
     creation_history AS (
       INSERT INTO ${n.history} (job_id, at, from_status, to_status, attempt, actor_id, message, error)
       SELECT j.id, $13::bigint, NULL, j.status, 0, $18::text, j.error::json ->> 'message', j.error::json
       FROM unnest($1::text[], $5::text[], $14::text[]) WITH ORDINALITY AS j(id, status, error, ord)
       WHERE j.id IN (SELECT id FROM new_jobs)
       ORDER BY j.ord
     )
     SELECT pg_notify($19::text, $20::text) WHERE $21::boolean`,
    accepted.map((a) => a.job.id),
    accepted.map((a) => a.job.type),
    accepted.map((a) => a.job.orgId),
    accepted.map((a) => a.job.ownerId),
    accepted.map((a) => a.status),
    accepted.map((a) => PRIORITY_RANK[a.job.priority]),
    accepted.map((a) => a.job.inputJson),
    accepted.map((a) => a.job.maxRetries),
    accepted.map((a) => a.job.runAt),
    accepted.map((a) => a.job.timeoutMs),
    accepted.map((a) => JSON.stringify(a.parentIds)),
    accepted.map((a) => a.job.dedupHash),
    now,
    accepted.map((a) => (a.error === null ? null : JSON.stringify(a.error))),
    [...parents],
    deps.map((d) => d[0]),
    deps.map((d) => d[1]),
    req.actorId,
    notice.channel,
    notice.payload,
    accepted.some((a) => a.status === 'queued'),
    accepted.map((a) => a.job.traceContext ?? null),
  );
}

/** The inserted job as `getJob` will read it. */
function toJob(a: Accepted, now: number): Job {
  return insertedJob(a.job, a.status, a.error, a.parentIds, now);
}
