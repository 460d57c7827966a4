/** Reads of jobs and their history: `getJob`, `listJobs`, `listHistory` (Kysely-built). */
import type { Job, JobHistoryEntry } from '../../types.js';
import type { ListJobsRequest } from '../adapter.js';
import { historyRowToEntry, rowToJob, type HistoryRow, type JobRow } from '../sql/job-row.js';
import { decodeListCursor, encodeListCursor } from '../sql/list-cursor.js';
import type { PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/** One job by id; with `orgId` set, a job of another org is null. */
export async function getJob(conn: PgConnection, n: PgNames, req: { id: string; orgId: string | null }): Promise<Job | null> {
  let query = n.qb.selectFrom('jobs').selectAll().where('id', '=', req.id);
  if (req.orgId !== null) query = query.where('org_id', '=', req.orgId);
  const [row] = await conn.query<JobRow>(query.compile());
  return row === undefined ? null : rowToJob(row);
}

/**
 * A page of jobs, newest first (createdAt desc, seq desc), with keyset pagination on
 * `(created_at, seq)` (see sql/list-cursor.ts). Date range is half-open:
 * createdAfter ≤ createdAt < createdBefore.
 */
export async function listJobs(conn: PgConnection, n: PgNames, req: ListJobsRequest): Promise<{ items: Job[]; nextCursor: string | null }> {
  const cursor = req.cursor === null ? null : decodeListCursor(req.cursor);
  if (req.limit <= 0) return { items: [], nextCursor: null };
  let query = n.qb.selectFrom('jobs').selectAll();
  if (req.orgId !== null) query = query.where('org_id', '=', req.orgId);
  if (req.statuses !== null) {
    if (req.statuses.length === 0) return { items: [], nextCursor: null };
    query = query.where('status', 'in', req.statuses);
  }
  if (req.types !== null) {
    if (req.types.length === 0) return { items: [], nextCursor: null };
    query = query.where('type', 'in', req.types);
  }
  if (req.ownerId !== null) query = query.where('owner_id', '=', req.ownerId);
  if (req.createdAfter !== null) query = query.where('created_at', '>=', req.createdAfter);
  if (req.createdBefore !== null) query = query.where('created_at', '<', req.createdBefore);
  if (cursor !== null) {
    query = query.where((eb) => eb(eb.refTuple('created_at', 'seq'), '<', eb.tuple(cursor.createdAt, cursor.seq)));
  }
  const rows = await conn.query<JobRow & { seq: number; created_at: number }>(
    query.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(req.limit + 1).compile(),
  );
  const page = rows.slice(0, req.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > req.limit && last !== undefined ? encodeListCursor({ createdAt: last.created_at, seq: last.seq }) : null;
  return { items: page.map(rowToJob), nextCursor };
}

/** Every transition of a job, oldest first. */
export async function listHistory(conn: PgConnection, n: PgNames, req: { jobId: string }): Promise<JobHistoryEntry[]> {
  const rows = await conn.query<HistoryRow>(n.qb.selectFrom('job_history').selectAll().where('job_id', '=', req.jobId).orderBy('seq').compile());
  return rows.map(historyRowToEntry);
}
