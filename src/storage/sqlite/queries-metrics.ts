/**
 * `collectMetrics`, computed in SQL (never by loading jobs). Hand-written SQL so that the
 * status literals match the partial indexes (`jobs_claim_idx` for queue depth and oldest
 * queued job, `jobs_finished_idx` for the `since` window).
 */
import type { CollectMetricsRequest } from '../adapter.js';
import { JOB_STATUSES, PRIORITIES, type JobStatus } from '../../states.js';
import type { Metrics, ProcessingTime } from '../../types.js';
import { P95_RANK, toProcessingTime, type TimeRow } from '../sql/metrics-rows.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';


/** Counts by status and priority, from the trigger-kept `job_counts` table (migration 2). */
export const COUNTS_SQL = `SELECT status, priority_rank AS rank, SUM(n) AS n FROM job_counts GROUP BY status, priority_rank`;
export const ORG_COUNTS_SQL = `SELECT status, priority_rank AS rank, n FROM job_counts WHERE org_id = ?`;

/** Oldest queued job: one seek per priority on jobs_claim_idx, or per org on jobs_org_queued_idx. */
export const OLDEST_QUEUED_SQL = `SELECT MIN(run_at) AS run_at FROM (${[0, 1, 2, 3]
  .map((rank) => `SELECT MIN(run_at) AS run_at FROM jobs INDEXED BY jobs_claim_idx WHERE status = 'queued' AND priority_rank = ${rank}`)
  .join(' UNION ALL ')})`;
export const ORG_OLDEST_QUEUED_SQL = `SELECT MIN(run_at) AS run_at FROM jobs INDEXED BY jobs_org_queued_idx WHERE status = 'queued' AND org_id = ?`;

/** Counts, queue depth, processing times and failure rates; `orgId: null` means every org. */
export function collectMetrics(conn: SqliteConnection, req: CollectMetricsRequest): Metrics {
  const org = req.orgId === null ? '' : 'AND org_id = ?';
  const orgArgs = req.orgId === null ? [] : [req.orgId];
  const finished = `FROM jobs INDEXED BY jobs_finished_idx WHERE status IN ('completed','dead_letter') AND completed_at >= ? ${org}`;
  const durations = `SELECT type, completed_at - started_at AS ms ${finished} AND status = 'completed' AND started_at IS NOT NULL`;

  return conn.read((): Metrics => {
    const countsByStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
    const queueDepthByPriority = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Metrics['queueDepthByPriority'];
    for (const r of conn.all<{ status: JobStatus; rank: number; n: number }>(raw(req.orgId === null ? COUNTS_SQL : ORG_COUNTS_SQL, ...orgArgs))) {
      countsByStatus[r.status] += r.n;
      const p = PRIORITIES[r.rank];
      if (r.status === 'queued' && p !== undefined) queueDepthByPriority[p] += r.n;
    }

    const overall = conn.get<TimeRow>(
      raw(
        `WITH d AS (${durations}),
         r AS (SELECT ms, ROW_NUMBER() OVER (ORDER BY ms) AS rn, COUNT(*) OVER () AS n FROM d)
         SELECT COUNT(*) AS n, AVG(ms) AS avg_ms, MAX(CASE WHEN rn = ${P95_RANK} THEN ms END) AS p95_ms FROM r`,
        req.since,
        ...orgArgs,
      ),
    );
    const processingTimeByType: Record<string, ProcessingTime> = {};
    for (const r of conn.all<TimeRow & { type: string }>(
      raw(
        `WITH d AS (${durations}),
         r AS (SELECT type, ms, ROW_NUMBER() OVER (PARTITION BY type ORDER BY ms) AS rn,
                      COUNT(*) OVER (PARTITION BY type) AS n FROM d)
         SELECT type, COUNT(*) AS n, AVG(ms) AS avg_ms, MAX(CASE WHEN rn = ${P95_RANK} THEN ms END) AS p95_ms
         FROM r GROUP BY type ORDER BY type`,
        req.since,
        ...orgArgs,
      ),
    )) {
      processingTimeByType[r.type] = toProcessingTime(r);
    }

    const failureRateByType: Metrics['failureRateByType'] = {};
    for (const r of conn.all<{ type: string; completed: number; failed: number }>(
      raw(
        `SELECT type, SUM(status = 'completed') AS completed, SUM(status = 'dead_letter') AS failed
         ${finished} GROUP BY type ORDER BY type`,
        req.since,
        ...orgArgs,
      ),
    )) {
      const total = r.completed + r.failed;
      failureRateByType[r.type] = { completed: r.completed, failed: r.failed, rate: total === 0 ? 0 : r.failed / total };
    }

    const oldest = conn.get<{ run_at: number | null }>(
      raw(req.orgId === null ? OLDEST_QUEUED_SQL : ORG_OLDEST_QUEUED_SQL, ...orgArgs),
    );
    const oldestQueuedAgeMs = oldest?.run_at == null ? null : Math.max(0, req.now - oldest.run_at);

    return {
      countsByStatus,
      queueDepthByPriority,
      processingTime: toProcessingTime(overall),
      processingTimeByType,
      failureRateByType,
      oldestQueuedAgeMs,
    };
  });
}
