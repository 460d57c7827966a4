/** Reads of jobs and their history: `getJob`, `listJobs`, `listHistory`. */
import type { Job, JobHistoryEntry } from '../../types.js';
import type { GetJobRequest, ListJobsRequest } from '../adapter.js';
import { historyRowToEntry, rowToJob, type HistoryRow, type JobRow } from '../sql/job-row.js';
import { listIsEmpty, listJobsQuery, toJobPage, type ListRow } from '../sql/list-jobs-query.js';
import { sqliteQb } from './sqlite-compiler.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** One job by id; with `orgId` set, a job of another org is null. */
export function getJob(conn: SqliteConnection, req: GetJobRequest): Job | null {
  let query = sqliteQb.selectFrom('jobs').selectAll().where('id', '=', req.id);
  if (req.orgId !== null) query = query.where('org_id', '=', req.orgId);
  const row = conn.get<JobRow>(query.compile());
  return row === undefined ? null : rowToJob(row);
}

/** A page of jobs (see sql/list-jobs-query.ts for order, cursor and indexes). */
export function listJobs(conn: SqliteConnection, req: ListJobsRequest): { items: Job[]; nextCursor: string | null } {
  if (listIsEmpty(req)) return { items: [], nextCursor: null };
  return toJobPage(conn.all<ListRow>(listJobsQuery(sqliteQb, req)), req.limit);
}

/** Every transition of a job, oldest first. */
export function listHistory(conn: SqliteConnection, req: { jobId: string }): JobHistoryEntry[] {
  return conn
    .all<HistoryRow>(sqliteQb.selectFrom('job_history').selectAll().where('job_id', '=', req.jobId).orderBy('seq').compile())
    .map(historyRowToEntry);
}
