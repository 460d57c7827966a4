/**
 * Recurring schedules' stored state and admin audit (issue 11). Tiny tables, rare writes;
 * each write is one upsert whose conflict branch does the merge on the locked row, so
 * engines on any hosts never move a schedule back or lose an admin change.
 */
import type { AdvanceScheduleRequest, ScheduleAuditEntry, StoredSchedule, UpdateScheduleRequest } from '../adapter.js';
import { raw, type PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

const schedules = (n: PgNames) => `${n.schema}.jobwing_schedules`;
const audit = (n: PgNames) => `${n.schema}.schedule_audit`;

interface ScheduleRow {
  name: string;
  enabled: boolean | null;
  cursor_at: string | number | null;
  last_run_at: string | number | null;
  last_job_id: string | null;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** Every stored schedule state. */
export async function loadSchedules(conn: PgConnection, n: PgNames): Promise<StoredSchedule[]> {
  const rows = await conn.query<ScheduleRow>(raw(`SELECT name, enabled, cursor_at, last_run_at, last_job_id FROM ${schedules(n)} ORDER BY name`));
  return rows.map((r) => ({ name: r.name, enabled: r.enabled, cursorAt: num(r.cursor_at), lastRunAt: num(r.last_run_at), lastJobId: r.last_job_id }));
}

/** Sets `enabled` (re-enabling skips the disabled time: cursor = now) and audits it. */
export async function updateSchedule(conn: PgConnection, n: PgNames, req: UpdateScheduleRequest): Promise<void> {
  await conn.transaction(async (tx) => {
    await tx.query(
      raw(
        `INSERT INTO ${schedules(n)} AS s (name, enabled, cursor_at, updated_at) VALUES ($1, $2, NULL, $3)
         ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at,
           cursor_at = CASE WHEN excluded.enabled AND s.enabled = false THEN excluded.updated_at ELSE s.cursor_at END`,
        req.name,
        req.enabled,
        req.now,
      ),
    );
    await tx.query(raw(`INSERT INTO ${audit(n)} (name, actor_id, at, changes) VALUES ($1, $2, $3, $4::json)`, req.name, req.actorId, req.now, JSON.stringify({ enabled: req.enabled })));
  });
}

/** Moves the cursor forward only; replaces the last run only with a later one. */
export async function advanceSchedule(
  conn: PgConnection,
  n: PgNames,
  req: AdvanceScheduleRequest,
): Promise<void> {
  await conn.query(
    raw(
      `INSERT INTO ${schedules(n)} AS s (name, enabled, cursor_at, last_run_at, last_job_id, updated_at) VALUES ($1, NULL, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET
         cursor_at = GREATEST(s.cursor_at, excluded.cursor_at),
         last_job_id = CASE WHEN excluded.last_run_at > COALESCE(s.last_run_at, -1) THEN excluded.last_job_id ELSE s.last_job_id END,
         last_run_at = CASE WHEN excluded.last_run_at > COALESCE(s.last_run_at, -1) THEN excluded.last_run_at ELSE s.last_run_at END,
         updated_at = excluded.updated_at`,
      req.name,
      req.cursorAt,
      req.lastRunAt,
      req.lastRunAt === null ? null : req.lastJobId,
      req.now,
    ),
  );
}

/** Audit trail of one schedule, oldest first. */
export async function listScheduleAudit(conn: PgConnection, n: PgNames, req: { name: string }): Promise<ScheduleAuditEntry[]> {
  const rows = await conn.query<{ name: string; actor_id: string; at: string | number; changes: { enabled?: boolean } | string }>(
    raw(`SELECT name, actor_id, at, changes FROM ${audit(n)} WHERE name = $1 ORDER BY seq`, req.name),
  );
  return rows.map((r) => ({
    name: r.name,
    actorId: r.actor_id,
    at: new Date(Number(r.at)),
    changes: typeof r.changes === 'string' ? (JSON.parse(r.changes) as { enabled?: boolean }) : r.changes,
  }));
}
