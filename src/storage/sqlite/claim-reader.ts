/**
 * The indexed lookups the flow-control claim plan (sql/claim-plan.ts) needs, on SQLite.
 * Each is a seek or a bounded range of a partial index (migration 4): `jobs_running_idx`
 * counts running attempts, `jobs_fair_idx` walks orgs and their queued jobs per type and level;
 * rate limits count the start log (migration 6), which the claim writes with {@link logStarts}.
 */
import type { Candidate, ClaimReader, StartLogWrite } from '../sql/claim-plan.js';
import { raw, type SqliteConnection } from './sqlite-connection.js';

const COUNT_TYPE = `SELECT COUNT(*) AS n FROM jobs INDEXED BY jobs_running_idx WHERE status = 'running' AND type = ?`;
const COUNT_ORG = `SELECT COUNT(*) AS n FROM jobs INDEXED BY jobs_running_idx WHERE status = 'running' AND type = ? AND org_id = ?`;
const NEXT_ORG = `SELECT org_id FROM jobs INDEXED BY jobs_fair_idx
  WHERE status = 'queued' AND type = ? AND priority_rank = ? AND org_id > ? ORDER BY org_id LIMIT 1`;
const FIRST_ORG = `SELECT org_id FROM jobs INDEXED BY jobs_fair_idx
  WHERE status = 'queued' AND type = ? AND priority_rank = ? ORDER BY org_id LIMIT 1`;
const ORG_JOBS = `SELECT seq, type, org_id, priority_rank, run_at FROM jobs INDEXED BY jobs_fair_idx
  WHERE status = 'queued' AND type = ? AND priority_rank = ? AND org_id = ? AND (run_at, seq) > (?, ?)
  ORDER BY run_at, seq LIMIT ?`;
const CLAIM_ORDER = `SELECT seq, type, org_id, priority_rank, run_at FROM jobs INDEXED BY jobs_claim_idx
  WHERE status = 'queued' AND type IN (SELECT value FROM json_each(?)) AND (priority_rank, run_at, seq) > (?, ?, ?)
  ORDER BY priority_rank, run_at, seq LIMIT ?`;
const ANY_ORG = `SELECT org_id FROM jobs INDEXED BY jobs_org_queued_idx WHERE status = 'queued' ORDER BY org_id LIMIT 1`;
const OTHER_ORG = `SELECT 1 AS x FROM jobs INDEXED BY jobs_org_queued_idx WHERE status = 'queued' AND org_id > ? LIMIT 1`;

// Rate limits: a range of the start log (migration 6), org read from the index.
export const STARTS_TYPE = `SELECT COUNT(*) AS n, MIN(at) AS oldest FROM rate_limit_starts INDEXED BY rate_limit_starts_idx WHERE type = ? AND at >= ?`;
export const STARTS_ORG = `SELECT COUNT(*) AS n, MIN(at) AS oldest FROM rate_limit_starts INDEXED BY rate_limit_starts_idx WHERE type = ? AND at >= ? AND org_id = ?`;
const LOG_START = `INSERT INTO rate_limit_starts (type, org_id, at) VALUES (?, ?, ?)`;
const TRIM_STARTS = `DELETE FROM rate_limit_starts WHERE type = ? AND at < ?`;

/** Writes a claim's start log entries (see startsToLog). Call inside the claim's transaction. */
export function logStarts(conn: SqliteConnection, write: StartLogWrite | null): void {
  if (write === null) return;
  for (const p of write.prune) conn.run(raw(TRIM_STARTS, p.type, p.before));
  for (const e of write.entries) conn.run(raw(LOG_START, e.type, e.orgId, e.at));
}

type Row = { seq: number; type: string; org_id: string; priority_rank: number; run_at: number };
const toCandidate = (r: Row): Candidate => ({ seq: Number(r.seq), type: r.type, orgId: r.org_id, priorityRank: Number(r.priority_rank), runAt: Number(r.run_at) });

/** A {@link ClaimReader} over one connection; use inside the claim's write transaction. */
export function sqliteClaimReader(conn: SqliteConnection): ClaimReader {
  return {
    countStarts: (type, orgId, since) =>
      Number(conn.get<{ n: number }>(orgId === null ? raw(STARTS_TYPE, type, since) : raw(STARTS_ORG, type, since, orgId))?.n ?? 0),
    countRunning: (type, orgId) =>
      Number(conn.get<{ n: number }>(orgId === null ? raw(COUNT_TYPE, type) : raw(COUNT_ORG, type, orgId))?.n ?? 0),
    // In process, a seek costs microseconds: the batches are plain loops of single seeks.
    nextOrgs: (type, rank, after, limit) => {
      const orgs: string[] = [];
      for (let last = after; orgs.length < limit; ) {
        const org = conn.get<{ org_id: string }>(last === null ? raw(FIRST_ORG, type, rank) : raw(NEXT_ORG, type, rank, last))?.org_id;
        if (org === undefined) break;
        orgs.push((last = org));
      }
      return orgs;
    },
    orgJobs: (type, rank, reads) =>
      reads.map((r) =>
        conn.all<Row>(raw(ORG_JOBS, type, rank, r.orgId, r.after?.runAt ?? -Number.MAX_SAFE_INTEGER, r.after?.seq ?? -1, r.limit)).map(toCandidate),
      ),
    claimOrder: (types, after, limit) =>
      conn
        .all<Row>(raw(CLAIM_ORDER, JSON.stringify(types), after?.priorityRank ?? -1, after?.runAt ?? -Number.MAX_SAFE_INTEGER, after?.seq ?? -1, limit))
        .map(toCandidate),
    firstLevel: (types, afterRank) =>
      conn.get<Row>(raw(CLAIM_ORDER, JSON.stringify(types), afterRank, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1))?.priority_rank ?? null,
    severalOrgsQueued: () => {
      const first = conn.get<{ org_id: string }>(raw(ANY_ORG));
      return first !== undefined && conn.get<{ x: number }>(raw(OTHER_ORG, first.org_id)) !== undefined;
    },
  };
}
