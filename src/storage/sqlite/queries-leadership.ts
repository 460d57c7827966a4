/** Named maintenance leases (`acquireLeadership`). */
import type { AcquireLeadershipRequest } from '../adapter.js';
import { sqliteQb } from './sqlite-compiler.js';
import type { SqliteConnection } from './sqlite-connection.js';

/**
 * Takes or renews the lease `name` for `ownerId` until `now + ttlMs` when it is free,
 * expired (`expires_at <= now`) or already ours; returns whether `ownerId` holds it.
 * One upsert statement whose conflict branch only fires under that condition, so two
 * processes racing for a free lease cannot both win.
 */
export function acquireLeadership(conn: SqliteConnection, req: AcquireLeadershipRequest): boolean {
  const expiresAt = req.now + req.ttlMs;
  const changed = conn.write(() =>
    conn.run(
      sqliteQb
        .insertInto('jobwing_leadership')
        .values({ name: req.name, owner_id: req.ownerId, expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ owner_id: req.ownerId, expires_at: expiresAt })
            .where((eb) =>
              eb.or([eb('jobwing_leadership.owner_id', '=', req.ownerId), eb('jobwing_leadership.expires_at', '<=', req.now)]),
            ),
        )
        .compile(),
    ),
  );
  return changed === 1;
}
