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
    firstLevel: async (types, afterRank) => {
      const [row] = await q<Row>(
        `SELECT * FROM ${n.claimOrderFn}($1::text[], $2::int, $3::bigint, $4::bigint, 1)`,
        [...types], afterRank, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER,
      );
      return row === undefined ? null : Number(row.priority_rank);
    },
    countStarts: async (type, orgId, since) => (await pgRateWindow(conn, n, type, orgId, since)).starts,
    countRunning: async (type, orgId) => {
      const [row] = orgId === null
        ? await q<{ n: string }>(`SELECT count(*) AS n FROM ${n.jobs} WHERE status = 'running' AND type = $1`, type)
        : await q<{ n: string }>(`SELECT count(*) AS n FROM ${n.jobs} WHERE status = 'running' AND type = $1 AND org_id = $2`, type, orgId);
      return Number(row?.n ?? 0);
    },
    // The walks are functions that never sort (migrations 7 and 8): see schema.ts for why.
    nextOrgs: async (type, rank, after, limit) =>
      (await q<{ org: string }>(`SELECT o AS org FROM ${n.nextOrgsFn}($1, $2::int, $3, $4::int) AS o`, type, rank, after, limit)).map((r) => r.org),
    // Every read of the batch in one statement; rows come back tagged with their read's number.
    orgJobs: async (type, rank, reads) => {
      const rows = await q<Row & { read_no: string }>(
        `SELECT r.read_no, f.* FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::int[]) WITH ORDINALITY AS r(org, after_run_at, after_seq, max_rows, read_no)
           CROSS JOIN LATERAL ${n.orgJobsFn}($1, $2::int, r.org, r.after_run_at, r.after_seq, r.max_rows) AS f`,
        type, rank,
        reads.map((r) => r.orgId),
        reads.map((r) => r.after?.runAt ?? -Number.MAX_SAFE_INTEGER),
        reads.map((r) => r.after?.seq ?? -1),
        reads.map((r) => r.limit),
      );
      const answers: Candidate[][] = reads.map(() => []);
      for (const row of rows) answers[Number(row.read_no) - 1]!.push(toCandidate(row));
      for (const a of answers) a.sort((x, y) => x.runAt - y.runAt || x.seq - y.seq);
      return answers;
    },
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
