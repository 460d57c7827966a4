/**
 * `listJobs` for both stores: the page query (dialect-neutral Kysely) and the page it yields.
 * Newest first (createdAt desc, seq desc) with keyset pagination on `(created_at, seq)` (see
 * list-cursor.ts): jobs inserted after the first page was read are newer than the cursor, so
 * they never shift later pages. Date range is half-open: createdAfter ≤ createdAt < createdBefore.
 */
import type { CompiledQuery, QueryCreator } from 'kysely';
import type { Job } from '../../types.js';
import type { ListJobsRequest } from '../adapter.js';
import { rowToJob, type JobRow } from './job-row.js';
import { decodeListCursor, encodeListCursor } from './list-cursor.js';
import type { JobwingDatabase } from './tables.js';

/** A row of the page query. */
export type ListRow = JobRow & { seq: number | string; created_at: number | string };

/** True when the request can match nothing (the stores then skip the query). */
export function listIsEmpty(req: ListJobsRequest): boolean {
  return req.limit <= 0 || req.statuses?.length === 0 || req.types?.length === 0;
}

/**
 * The page query: one row more than the page, to know whether another follows. One status is
 * an equality, so the (org_id,) status, created_at, seq indexes serve the page in order.
 */
export function listJobsQuery(qb: QueryCreator<JobwingDatabase>, req: ListJobsRequest): CompiledQuery {
  const cursor = req.cursor === null ? null : decodeListCursor(req.cursor);
  let query = qb.selectFrom('jobs').selectAll();
  if (req.orgId !== null) query = query.where('org_id', '=', req.orgId);
  if (req.statuses !== null) query = req.statuses.length === 1 ? query.where('status', '=', req.statuses[0]!) : query.where('status', 'in', req.statuses);
  if (req.types !== null) query = query.where('type', 'in', req.types);
  if (req.ownerId !== null) query = query.where('owner_id', '=', req.ownerId);
  if (req.createdAfter !== null) query = query.where('created_at', '>=', req.createdAfter);
  if (req.createdBefore !== null) query = query.where('created_at', '<', req.createdBefore);
  if (cursor !== null) {
    query = query.where((eb) => eb(eb.refTuple('created_at', 'seq'), '<', eb.tuple(cursor.createdAt, cursor.seq)));
  }
  return query.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(req.limit + 1).compile();
}

/** The page and its next cursor, from the rows of {@link listJobsQuery}. */
export function toJobPage(rows: ListRow[], limit: number): { items: Job[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last !== undefined ? encodeListCursor({ createdAt: Number(last.created_at), seq: Number(last.seq) }) : null;
  return { items: page.map(rowToJob), nextCursor };
}
