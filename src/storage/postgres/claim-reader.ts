/**
 * The indexed lookups of the flow-control claim plan (sql/claim-plan.ts) on Postgres, over
 * the partial indexes of migration 4 (`jobs_running_idx`, `jobs_fair_idx`,
 * `jobs_org_queued_idx`), and the lock that serializes claims of capped types.
 */
import type { AsyncClaimReader, Candidate, StartLogWrite } from '../sql/claim-plan.js';
import type { RateWindow } from '../adapter.js';
import { raw, type PgConnection, type PgTx } from './pg-connection.js';
import type { PgNames } from './pg-names.js';

type Row = { seq: string | number; type: string; org_id: string; priority_rank: number; run_at: string | number };
const toCandidate = (r: Row): Candidate => ({ seq: Number(r.seq), type: r.type, orgId: r.org_id, priorityRank: Number(r.priority_rank), runAt: Number(r.run_at) });

/** Starts in the start log of `type` (of `orgId` when given) at or after `since`, and the earliest. */
export async function pgRateWindow(conn: PgConnection | PgTx, n: PgNames, type: string, orgId: string | null, since: number): Promise<RateWindow> {
  // Two texts, not `($2 IS NULL OR org_id = $2)`: see nextOrg below.
  const [row] = orgId === null
    ? await conn.query<{ n: string; oldest: string | null }>(raw(`SELECT count(*) AS n, min(at) AS oldest FROM ${n.rateStarts} WHERE type = $1 AND at >= $2`, type, since), { prepare: true })
    : await conn.query<{ n: string; oldest: string | null }>(
        raw(`SELECT count(*) AS n, min(at) AS oldest FROM ${n.rateStarts} WHERE type = $1 AND at >= $2 AND org_id = $3`, type, since, orgId),
        { prepare: true },
      );
  return { starts: Number(row?.n ?? 0), oldest: row?.oldest == null ? null : Number(row.oldest) };
}

/** Writes a claim's start log entries (see startsToLog), in the claim's transaction. */
export async function pgLogStarts(conn: PgConnection | PgTx, n: PgNames, write: StartLogWrite | null): Promise<void> {
  if (write === null) return;
  for (const p of write.prune) await conn.query(raw(`DELETE FROM ${n.rateStarts} WHERE type = $1 AND at < $2`, p.type, p.before), { prepare: true });
  await conn.query(
    raw(
      `INSERT INTO ${n.rateStarts} (type, org_id, at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])`,
      write.entries.map((e) => e.type),
      write.entries.map((e) => e.orgId),
      write.entries.map((e) => e.at),
    ),
    { prepare: true },
  );
}

/** A reader over `conn` (a transaction when counts must be current under the limit lock). */
export function pgClaimReader(conn: PgConnection | PgTx, n: PgNames): AsyncClaimReader {
  const q = <R>(sql: string, ...params: unknown[]) => conn.query<R>(raw(sql, ...params), { prepare: true });
  return {
    countStarts: async (type, orgId, since) => (await pgRateWindow(conn, n, type, orgId, since)).starts,
    countRunning: async (type, orgId) => {
      const [row] = orgId === null
        ? await q<{ n: string }>(`SELECT count(*) AS n FROM ${n.jobs} WHERE status = 'running' AND type = $1`, type)
        : await q<{ n: string }>(`SELECT count(*) AS n FROM ${n.jobs} WHERE status = 'running' AND type = $1 AND org_id = $2`, type, orgId);
      return Number(row?.n ?? 0);
    },
    // Two texts, not `($3 IS NULL OR org_id > $3)`: a prepared statement's generic plan cannot
    // turn that into an index range (it read every queued job of the type: 60 ms at 50,000).
    nextOrg: async (type, rank, after) => {
      const [row] = after === null
        ? await q<{ org_id: string }>(`SELECT org_id FROM ${n.jobs} WHERE status = 'queued' AND type = $1 AND priority_rank = $2 ORDER BY org_id LIMIT 1`, type, rank)
        : await q<{ org_id: string }>(
            `SELECT org_id FROM ${n.jobs} WHERE status = 'queued' AND type = $1 AND priority_rank = $2 AND org_id > $3 ORDER BY org_id LIMIT 1`,
            type, rank, after,
          );
      return row?.org_id ?? null;
    },
    // Both walks are functions that never sort (migration 7): see schema.ts for why.
    orgJobs: async (type, rank, orgId, after, limit) =>
      (await q<Row>(
        `SELECT * FROM ${n.orgJobsFn}($1, $2::int, $3, $4::bigint, $5::bigint, $6::int)`,
        type, rank, orgId, after?.runAt ?? -Number.MAX_SAFE_INTEGER, after?.seq ?? -1, limit,
      )).map(toCandidate),
    claimOrder: async (types, after, limit) =>
      (await q<Row>(
        `SELECT * FROM ${n.claimOrderFn}($1::text[], $2::int, $3::bigint, $4::bigint, $5::int)`,
        [...types], after?.priorityRank ?? -1, after?.runAt ?? -Number.MAX_SAFE_INTEGER, after?.seq ?? -1, limit,
      )).map(toCandidate),
    severalOrgsQueued: async () => {
      const [row] = await q<{ several: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM ${n.jobs} WHERE status = 'queued'
           AND org_id > (SELECT org_id FROM ${n.jobs} WHERE status = 'queued' ORDER BY org_id LIMIT 1)) AS several`,
      );
      return row?.several === true;
    },
  };
}

/**
 * Serializes claims of the capped `types` across every process, until the transaction ends:
 * a claim counts running attempts after the lock, so it sees every claim committed before
 * it. Locks are taken in name order, so two claims never deadlock.
 */
export async function lockLimitedTypes(tx: PgTx, n: PgNames, types: string[]): Promise<void> {
  const keys = [...new Set(types)].sort().map((t) => `jobwing:limit:${n.schemaName}:${t}`);
  if (keys.length === 0) return;
  await tx.query(raw(`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i) ORDER BY i`, keys));
}
