/** Stored admin overrides of job types and their audit trail (Kysely-built). */
import type { JobTypeSettings } from '../../types.js';
import type { JobTypeAuditEntry, UpdateJobTypeSettingsRequest } from '../adapter.js';
import { raw, type PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/** Every stored override, by type name. */
export async function loadJobTypeSettings(conn: PgConnection, n: PgNames): Promise<Record<string, Partial<JobTypeSettings>>> {
  const rows = await conn.query<{ name: string; settings: string }>(n.qb.selectFrom('job_type_settings').select(['name', 'settings']).compile());
  // A null-prototype record: type names are data, and `__proto__` must stay a plain key.
  const out = Object.create(null) as Record<string, Partial<JobTypeSettings>>;
  for (const r of rows) out[r.name] = JSON.parse(r.settings) as Partial<JobTypeSettings>;
  return out;
}

/**
 * Merges `changes` into the override of `name` and appends an audit entry, atomically.
 * The merge is done by the upsert itself (`settings || changes` on the locked row), so two
 * admins changing the same type at once, from any hosts, never lose a change.
 */
export async function updateJobTypeSettings(
  conn: PgConnection,
  n: PgNames,
  req: UpdateJobTypeSettingsRequest,
): Promise<void> {
  const changes = JSON.stringify(req.changes);
  await conn.transaction(async (tx) => {
    await tx.query(
      raw(
        `INSERT INTO ${n.jobTypeSettings} AS s (name, settings, updated_at) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT (name) DO UPDATE SET settings = s.settings || excluded.settings, updated_at = excluded.updated_at`,
        req.name,
        changes,
        req.now,
      ),
    );
    await tx.query(
      raw(`INSERT INTO ${n.jobTypeAudit} (name, actor_id, at, changes) VALUES ($1, $2, $3, $4::json)`, req.name, req.actorId, req.now, changes),
    );
  });
}

/** Audit trail of one type, oldest first. */
export async function listJobTypeAudit(conn: PgConnection, n: PgNames, req: { name: string }): Promise<JobTypeAuditEntry[]> {
  const rows = await conn.query<{ name: string; actor_id: string; at: number; changes: string }>(
    n.qb.selectFrom('job_type_audit').select(['name', 'actor_id', 'at', 'changes']).where('name', '=', req.name).orderBy('seq').compile(),
  );
  return rows.map((r) => ({ name: r.name, actorId: r.actor_id, at: new Date(r.at), changes: JSON.parse(r.changes) as Partial<JobTypeSettings> }));
}
