/** Reads of jobs and their history: `getJob`, `listJobs`, `listHistory` (Kysely-built). */
import type { Job, JobHistoryEntry } from '../../types.js';
import type { GetJobRequest, ListJobsRequest } from '../adapter.js';
import { historyRowToEntry, rowToJob, type HistoryRow, type JobRow } from '../sql/job-row.js';
import { listIsEmpty, listJobsQuery, toJobPage, type ListRow } from '../sql/list-jobs-query.js';
import type { PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/** One job by id; with `orgId` set, a job of another org is null. */
export async function getJob(conn: PgConnection, n: PgNames, req: GetJobRequest): Promise<Job | null> {
  let query = n.qb.selectFrom('jobs').selectAll().where('id', '=', req.id);
  if (req.orgId !== null) query = query.where('org_id', '=', req.orgId);
  const [row] = await conn.query<JobRow>(query.compile());
  return row === undefined ? null : rowToJob(row);
}

/** A page of jobs (see sql/list-jobs-query.ts for order, cursor and indexes). */
export async function listJobs(conn: PgConnection, n: PgNames, req: ListJobsRequest): Promise<{ items: Job[]; nextCursor: string | null }> {
  if (listIsEmpty(req)) return { items: [], nextCursor: null };
  return toJobPage(await conn.query<ListRow>(listJobsQuery(n.qb, req)), req.limit);
}

/** Every transition of a job, oldest first. */
export async function listHistory(conn: PgConnection, n: PgNames, req: { jobId: string }): Promise<JobHistoryEntry[]> {
  const rows = await conn.query<HistoryRow>(n.qb.selectFrom('job_history').selectAll().where('job_id', '=', req.jobId).orderBy('seq').compile());
  return rows.map(historyRowToEntry);
}
