/** Stored admin overrides of job types and their audit trail. */
import type { JobTypeSettings } from '../../types.js';
import type { JobTypeAuditEntry, UpdateJobTypeSettingsRequest } from '../adapter.js';
import { sqliteQb } from './sqlite-compiler.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Every stored override, by type name. */
export function loadJobTypeSettings(conn: SqliteConnection): Record<string, Partial<JobTypeSettings>> {
  const rows = conn.all<{ name: string; settings: string }>(sqliteQb.selectFrom('job_type_settings').select(['name', 'settings']).compile());
  // A null-prototype record: type names are data, and `__proto__` must stay a plain key.
  const out = Object.create(null) as Record<string, Partial<JobTypeSettings>>;
  for (const r of rows) out[r.name] = JSON.parse(r.settings) as Partial<JobTypeSettings>;
  return out;
}

/**
 * Merges `changes` into the override of `name` and appends an audit entry, atomically.
 * Read-merge-write runs under the write lock, so concurrent admins never lose a change.
 */
export function updateJobTypeSettings(
  conn: SqliteConnection,
  req: UpdateJobTypeSettingsRequest,
): void {
  conn.write(() => {
    const row = conn.get<{ settings: string }>(
      sqliteQb.selectFrom('job_type_settings').select('settings').where('name', '=', req.name).compile(),
    );
    const merged = { ...(row === undefined ? {} : (JSON.parse(row.settings) as Partial<JobTypeSettings>)), ...req.changes };
    const settings = JSON.stringify(merged);
    conn.run(
      sqliteQb
        .insertInto('job_type_settings')
        .values({ name: req.name, settings, updated_at: req.now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ settings, updated_at: req.now }))
        .compile(),
    );
    conn.run(
      sqliteQb
        .insertInto('job_type_audit')
        .values({ name: req.name, actor_id: req.actorId, at: req.now, changes: JSON.stringify(req.changes) })
        .compile(),
    );
  });
}

/** Audit trail of one type, oldest first. */
export function listJobTypeAudit(conn: SqliteConnection, req: { name: string }): JobTypeAuditEntry[] {
  return conn
    .all<{ name: string; actor_id: string; at: number; changes: string }>(
      sqliteQb.selectFrom('job_type_audit').select(['name', 'actor_id', 'at', 'changes']).where('name', '=', req.name).orderBy('seq').compile(),
    )
    .map((r) => ({ name: r.name, actorId: r.actor_id, at: new Date(r.at), changes: JSON.parse(r.changes) as Partial<JobTypeSettings> }));
}
