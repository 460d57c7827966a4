/**
 * Recurring schedules' stored state and admin audit (issue 11). Tiny tables, rare writes:
 * plain hand-written SQL under the write lock.
 */
import type { AdvanceScheduleRequest, ScheduleAuditEntry, StoredSchedule, UpdateScheduleRequest } from '../adapter.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';

interface ScheduleRow {
  name: string;
  enabled: number | null;
  cursor_at: number | null;
  last_run_at: number | null;
  last_job_id: string | null;
}

/** Every stored schedule state. */
export function loadSchedules(conn: SqliteConnection): StoredSchedule[] {
  return conn
    .all<ScheduleRow>(raw(`SELECT name, enabled, cursor_at, last_run_at, last_job_id FROM jobwing_schedules ORDER BY name`))
    .map((r) => ({ name: r.name, enabled: r.enabled === null ? null : r.enabled === 1, cursorAt: r.cursor_at, lastRunAt: r.last_run_at, lastJobId: r.last_job_id }));
}

/** Sets `enabled` (re-enabling skips the disabled time: cursor = now) and audits it. */
export function updateSchedule(conn: SqliteConnection, req: UpdateScheduleRequest): void {
  conn.write(() => {
    const was = conn.get<{ enabled: number | null }>(raw(`SELECT enabled FROM jobwing_schedules WHERE name = ?`, req.name));
    const reEnabled = req.enabled && was?.enabled === 0;
    conn.run(
      raw(
        `INSERT INTO jobwing_schedules (name, enabled, cursor_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at,
           cursor_at = CASE WHEN ? THEN excluded.updated_at ELSE jobwing_schedules.cursor_at END`,
        req.name,
        req.enabled ? 1 : 0,
        null,
        req.now,
        reEnabled ? 1 : 0,
      ),
    );
    conn.run(
      raw(`INSERT INTO schedule_audit (name, actor_id, at, changes) VALUES (?, ?, ?, ?)`, req.name, req.actorId, req.now, JSON.stringify({ enabled: req.enabled })),
    );
  });
}

/** Moves the cursor forward only; replaces the last run only with a later one. */
export function advanceSchedule(conn: SqliteConnection, req: AdvanceScheduleRequest): void {
  conn.write(() =>
    conn.run(
      raw(
        `INSERT INTO jobwing_schedules (name, enabled, cursor_at, last_run_at, last_job_id, updated_at) VALUES (?, NULL, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET
           cursor_at = MAX(COALESCE(jobwing_schedules.cursor_at, excluded.cursor_at), excluded.cursor_at),
           last_job_id = CASE WHEN excluded.last_run_at > COALESCE(jobwing_schedules.last_run_at, -1) THEN excluded.last_job_id ELSE jobwing_schedules.last_job_id END,
           last_run_at = CASE WHEN excluded.last_run_at > COALESCE(jobwing_schedules.last_run_at, -1) THEN excluded.last_run_at ELSE jobwing_schedules.last_run_at END,
           updated_at = excluded.updated_at`,
        req.name,
        req.cursorAt,
        req.lastRunAt,
        req.lastRunAt === null ? null : req.lastJobId,
        req.now,
      ),
    ),
  );
}

/** Audit trail of one schedule, oldest first. */
export function listScheduleAudit(conn: SqliteConnection, req: { name: string }): ScheduleAuditEntry[] {
  return conn
    .all<{ name: string; actor_id: string; at: number; changes: string }>(raw(`SELECT name, actor_id, at, changes FROM schedule_audit WHERE name = ? ORDER BY seq`, req.name))
    .map((r) => ({ name: r.name, actorId: r.actor_id, at: new Date(r.at), changes: JSON.parse(r.changes) as { enabled?: boolean } }));
}
