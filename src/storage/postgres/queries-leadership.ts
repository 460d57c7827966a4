/** Named maintenance leases (`acquireLeadership`). */
import type { AcquireLeadershipRequest } from '../adapter.js';
import type { PgConnection } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

/**
 * Takes or renews the lease `name` for `ownerId` until `now + ttlMs` when it is free,
 * expired (`expires_at <= now`) or already ours; returns whether `ownerId` holds it.
 *
 * One upsert: two processes racing for a free lease queue on the primary key, and the loser's
 * conflict branch re-checks its condition against the winner's committed row, so only one can
 * win. Failover: a dead leader stops renewing and another engine takes over once `ttlMs`
 * passes. The lease is judged by the `now` passed in (the contract's semantics); with clocks
 * skewed across hosts two leaders may briefly overlap, which maintenance tolerates: rescue is
 * fenced and judged by the database clock, promotion uses SKIP LOCKED, pruning is idempotent.
 */
export async function acquireLeadership(conn: PgConnection, n: PgNames, req: AcquireLeadershipRequest): Promise<boolean> {
  const expiresAt = req.now + req.ttlMs;
  const rows = await conn.query<{ owner_id: string }>(
    n.qb
      .insertInto('jobwing_leadership')
      .values({ name: req.name, owner_id: req.ownerId, expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ owner_id: req.ownerId, expires_at: expiresAt })
          .where((eb) => eb.or([eb('jobwing_leadership.owner_id', '=', req.ownerId), eb('jobwing_leadership.expires_at', '<=', req.now)])),
      )
      .returning('owner_id')
      .compile(),
  );
  return rows.length === 1;
}
