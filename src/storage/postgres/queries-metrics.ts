/**
 * `collectMetrics`, computed in SQL (never by loading jobs), one statement per figure. The
 * status literals match the partial indexes (`jobs_claim_idx` for queue depth and the oldest
 * queued job, `jobs_finished_idx` for the `since` window). p95 is nearest-rank, the same
 * integer formula as the SQLite store, so both stores report identical figures.
 */
import type { CollectMetricsRequest } from '../adapter.js';
import { JOB_STATUSES, PRIORITIES, type JobStatus } from '../../states.js';
import type { Metrics, ProcessingTime } from '../../types.js';
import { P95_RANK, toProcessingTime, type TimeRow } from '../sql/metrics-rows.js';
import { raw, type PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/** Counts, queue depth, processing times and failure rates; `orgId: null` means every org. */
export async function collectMetrics(conn: PgConnection, n: PgNames, req: CollectMetricsRequest): Promise<Metrics> {
  // $1 is always the org (NULL: every org), $2 the start of the window.
  const org = `($1::text IS NULL OR org_id = $1::text)`;
  const finished = `FROM ${n.jobs} WHERE status IN ('completed','dead_letter') AND completed_at >= $2 AND ${org}`;
  const durations = `SELECT type, completed_at - started_at AS ms ${finished} AND status = 'completed' AND started_at IS NOT NULL`;
  const q = <R>(sql: string, withSince = false) => conn.query<R>(raw(sql, ...(withSince ? [req.orgId, req.since] : [req.orgId])));

  const [counts, depth, overall, byType, failures, oldest] = await Promise.all([
    q<{ status: JobStatus; n: number }>(`SELECT status, count(*) AS n FROM ${n.jobs} WHERE ${org} GROUP BY status`),
    q<{ rank: number; n: number }>(`SELECT priority_rank AS rank, count(*) AS n FROM ${n.jobs} WHERE status = 'queued' AND ${org} GROUP BY priority_rank`),
    q<TimeRow>(
      `WITH d AS (${durations}),
       r AS (SELECT ms, row_number() OVER (ORDER BY ms) AS rn, count(*) OVER () AS n FROM d)
       SELECT count(*) AS n, avg(ms)::float8 AS avg_ms, max(CASE WHEN rn = ${P95_RANK} THEN ms END) AS p95_ms FROM r`,
      true,
    ),
    q<TimeRow & { type: string }>(
      `WITH d AS (${durations}),
       r AS (SELECT type, ms, row_number() OVER (PARTITION BY type ORDER BY ms) AS rn, count(*) OVER (PARTITION BY type) AS n FROM d)
       SELECT type, count(*) AS n, avg(ms)::float8 AS avg_ms, max(CASE WHEN rn = ${P95_RANK} THEN ms END) AS p95_ms
       FROM r GROUP BY type ORDER BY type`,
      true,
    ),
    q<{ type: string; completed: number; failed: number }>(
      `SELECT type, count(*) FILTER (WHERE status = 'completed') AS completed, count(*) FILTER (WHERE status = 'dead_letter') AS failed
       ${finished} GROUP BY type ORDER BY type`,
      true,
    ),
    q<{ run_at: number | null }>(`SELECT min(run_at) AS run_at FROM ${n.jobs} WHERE status = 'queued' AND ${org}`),
  ]);

  const countsByStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  for (const r of counts) countsByStatus[r.status] = r.n;
  const queueDepthByPriority = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Metrics['queueDepthByPriority'];
  for (const r of depth) {
    const p = PRIORITIES[r.rank];
    if (p !== undefined) queueDepthByPriority[p] = r.n;
  }
  const processingTimeByType: Record<string, ProcessingTime> = {};
  for (const r of byType) processingTimeByType[r.type] = toProcessingTime(r);
  const failureRateByType: Metrics['failureRateByType'] = {};
  for (const r of failures) {
    const total = r.completed + r.failed;
    failureRateByType[r.type] = { completed: r.completed, failed: r.failed, rate: total === 0 ? 0 : r.failed / total };
  }
  const oldestRunAt = oldest[0]?.run_at ?? null;
  return {
    countsByStatus,
    queueDepthByPriority,
    processingTime: toProcessingTime(overall[0]),
    processingTimeByType,
    failureRateByType,
    oldestQueuedAgeMs: oldestRunAt === null ? null : Math.max(0, req.now - oldestRunAt),
  };
}
