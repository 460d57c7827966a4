/**
 * Claims and promotion of due jobs. Hand-written SQL: the hottest path, one statement (one
 * round trip, atomic on its own) per claim batch, run as a prepared statement.
 *
 * Why no job is claimed twice, across any number of processes and hosts (R1): candidates are
 * selected `FOR UPDATE SKIP LOCKED`, so two concurrent claims lock disjoint rows (each skips
 * what the other holds) and every update re-checks nothing it does not hold. Due
 * scheduled/retrying jobs are locked the same way and promoted in the same statement; the
 * ones that win a slot are claimed directly (history `scheduled → queued → running`).
 */
import type { ClaimedJob, ClaimJobsRequest, DueBatchRequest } from '../adapter.js';
import { rowToClaimed, type JobRow } from '../sql/job-row.js';
import { raw, type PgConnection, type PgTx } from './pg-connection.js';
import { DB_NOW_MS, type PgNames } from './pg-names.js';
import { SYSTEM_ACTOR } from './transitions.js';
import { needsPlan, planClaimAsync, startsToLog, type AsyncClaimReader, type ClaimPlan, type FairnessCursor } from '../sql/claim-plan.js';
import { lockLimitedTypes, pgClaimReader, pgLogStarts } from './claim-reader.js';


/** Result of a claim, plus what to NOTIFY. */
export interface ClaimResult {
  claimed: ClaimedJob[];
  /** Due jobs promoted to `queued` (and left for other workers). */
  promoted: number;
}

/**
 * The claim, as CTEs to put after `WITH` (also combined with a settle in `settleAndClaim`).
 * Parameters, through `p(i)`: 1 now, 2 promote batch (`promoteDue`; 0: none), 3 types, 4 limit, 5 worker id,
 * 6 leaseMs, 7 history actor. `due` and `queued` lock their candidates; `pick` takes the best
 * `limit` of both in claim order (priority rank, runAt, seq); the rest of `due` is promoted.
 * History entries are appended promotions first, then claims, so a job claimed straight from
 * `scheduled` gets `scheduled → queued` before `queued → running`. The lease expiry is the
 * database clock plus leaseMs (R20); every other instant is `now`. Produces `promoted` and
 * `claimed` (the claimed rows, `j.*` plus `claimed_from`). When the SQL condition `deferWhen`
 * holds, nothing is claimed (due jobs are still promoted).
 *
 * The redundant `j.seq = ANY(ARRAY(…))` conditions give the planner an index lookup of exactly
 * those rows whatever the table statistics say. Without them, on a young table (no ANALYZE
 * yet) it joined with a sequential scan of every job: 14 ms of 18 ms for 16 claims among
 * 10,000 jobs.
 */
export function claimCtes(n: PgNames, p: (i: number) => string, deferWhen = 'false', seqsParam: string | null = null): string {
  const now = `${p(1)}::bigint`;
  // With `seqsParam` (the flow-control plan), exactly those queued jobs are candidates, and
  // due jobs are only promoted (the plan, not the claim order, decides what runs).
  const candidates = seqsParam === null
    ? `${n.claimCandidatesFn}(${p(3)}::text[], ${p(4)}::int)`
    : `(SELECT j.seq, j.priority_rank, j.run_at FROM ${n.jobs} j WHERE j.seq = ANY(${seqsParam}::bigint[]) AND j.status = 'queued'
        ORDER BY j.seq FOR UPDATE SKIP LOCKED)`;
  const limit = `(CASE WHEN ${deferWhen} THEN 0 ELSE ${p(4)}::int END)`;
  return `due AS MATERIALIZED (
      SELECT seq, status FROM ${n.jobs}
      WHERE status IN ('scheduled','retrying') AND run_at <= ${now}
      ORDER BY run_at, seq LIMIT ${p(2)} FOR UPDATE SKIP LOCKED
    ),
    queued AS MATERIALIZED (
      SELECT c.seq, c.priority_rank, c.run_at, 'queued'::text AS status FROM ${candidates.replace(`${p(4)}::int`, limit)} AS c
    ),
    pick AS MATERIALIZED (
      SELECT c.seq, c.status FROM (
        SELECT seq, priority_rank, run_at, status FROM queued
        UNION ALL
        SELECT j.seq, j.priority_rank, j.run_at, d.status FROM ${n.jobs} j JOIN due d ON d.seq = j.seq
        WHERE j.type = ANY(${p(3)}::text[])
      ) AS c
      ORDER BY c.priority_rank, c.run_at, c.seq LIMIT ${limit}
    ),
    promoted AS (
      UPDATE ${n.jobs} j SET status = 'queued', next_retry_at = NULL, updated_at = ${now}
      FROM due d WHERE j.seq = d.seq AND j.seq = ANY(ARRAY(SELECT seq FROM due)) AND d.seq NOT IN (SELECT seq FROM pick)
      RETURNING j.seq, j.id, d.status AS from_status, j.attempts
    ),
    claimed AS (
      UPDATE ${n.jobs} j SET status = 'running', attempts = j.attempts + 1, started_at = ${now}, lease_owner = ${p(5)}::text,
        lease_expires_at = ${DB_NOW_MS} + ${p(6)}::bigint, updated_at = ${now}
      FROM pick p WHERE j.seq = p.seq AND j.seq = ANY(ARRAY(SELECT seq FROM pick))
      RETURNING j.*, p.status AS claimed_from
    ),
    claim_history AS (
      INSERT INTO ${n.history} (job_id, at, from_status, to_status, attempt, actor_id)
      SELECT e.job_id, ${now}, e.from_status, e.to_status, e.attempt, e.actor_id FROM (
        SELECT 0 AS step, seq, id AS job_id, from_status, 'queued' AS to_status, attempts AS attempt, '${SYSTEM_ACTOR}' AS actor_id FROM promoted
        UNION ALL
        SELECT 0, seq, id, claimed_from, 'queued', attempts - 1, '${SYSTEM_ACTOR}' FROM claimed WHERE claimed_from <> 'queued'
        UNION ALL
        SELECT 1, seq, id, 'queued', 'running', attempts, ${p(7)}::text FROM claimed
      ) AS e
      ORDER BY e.step, e.seq
    )`;
}

/** The parameters of {@link claimCtes}, in order. */
export function claimParams(req: ClaimJobsRequest): unknown[] {
  return [req.now, Math.max(0, req.promoteDue ?? 0), [...req.types], Math.max(0, req.limit), req.workerId, req.leaseMs, `engine:${req.workerId}`];
}

/** The claim statement: the CTEs, then every claimed row (plus the promotion count, on every row). */
function claimSql(n: PgNames, bySeqs = false): string {
  return `WITH ${claimCtes(n, (i) => `$${i}`, 'false', bySeqs ? '$8' : null)}
    SELECT c.*, p.promoted FROM (SELECT count(*) AS promoted FROM promoted) AS p
    LEFT JOIN claimed c ON true
    ORDER BY c.priority_rank, c.run_at, c.seq`;
}

const statements = new WeakMap<PgNames, string>();
const seqStatements = new WeakMap<PgNames, string>();
/** Fairness rotation per store instance: the org served last per level. */
const cursors = new WeakMap<PgNames, FairnessCursor>();

/** How long the answer to "do several orgs have queued jobs?" is trusted (judged at the claims' `now`). */
const ORGS_ANSWER_TRUST_MS = 250;
const orgsAnswers = new WeakMap<PgNames, { at: number; several: boolean }>();

/**
 * True when the claim must go through the flow-control plan. Fairness alone needs it only when
 * several orgs have queued jobs; a single-tenant queue keeps the one-statement claim (and the
 * one-statement settle + claim). The answer is asked again at most every ORGS_ANSWER_TRUST_MS:
 * a second org that appears meanwhile is served in turn from the next check on, and a plan
 * run when one org is left claims what the plain claim would.
 */
export async function pgNeedsPlan(conn: PgConnection | PgTx, n: PgNames, req: ClaimJobsRequest): Promise<boolean> {
  if (!needsPlan(req)) return false;
  if (req.limits !== undefined && req.limits.length > 0) return true;
  return severalOrgsQueued(conn, n, req.now);
}

/** The trusted answer to "do several orgs have queued jobs?" (see pgNeedsPlan), asked again when stale. */
async function severalOrgsQueued(conn: PgConnection | PgTx, n: PgNames, now: number): Promise<boolean> {
  const known = orgsAnswers.get(n);
  if (known !== undefined && now >= known.at && now - known.at < ORGS_ANSWER_TRUST_MS) return known.several;
  const several = await pgClaimReader(conn, n).severalOrgsQueued();
  orgsAnswers.set(n, { at: now, several });
  return several;
}

/** The plan's reader, answering "several orgs?" from the trusted answer (the plan asks it again after pgNeedsPlan). */
function planReader(conn: PgConnection | PgTx, n: PgNames, now: number): AsyncClaimReader {
  return { ...pgClaimReader(conn, n), severalOrgsQueued: () => severalOrgsQueued(conn, n, now) };
}

/** Promotes due jobs when asked (`promoteDue`), then claims up to `limit` queued jobs of `types` in claim order (or as flow control plans). */
export async function claimJobs(conn: PgConnection | PgTx, n: PgNames, req: ClaimJobsRequest): Promise<ClaimResult> {
  if (await pgNeedsPlan(conn, n, req)) {
    // Capped types: plan and claim in one transaction under their locks (see lockLimitedTypes).
    const capped = (req.limits ?? []).filter((l) => !l.paused && (l.concurrency !== null || l.concurrencyPerOrg !== null || l.rateLimit)).map((l) => l.type);
    if (capped.length === 0) return plannedClaim(conn, n, req);
    const claimLogged = async (tx: PgConnection | PgTx) => {
      await lockLimitedTypes(tx, n, capped);
      const r = await plannedClaim(tx, n, req);
      await pgLogStarts(tx, n, startsToLog(req, r.claimed));
      return r;
    };
    if ('transaction' in conn) return conn.transaction(claimLogged);
    return claimLogged(conn);
  }
  return plainClaim(conn, n, req);
}

async function plainClaim(conn: PgConnection | PgTx, n: PgNames, req: ClaimJobsRequest): Promise<ClaimResult> {
  let sql = statements.get(n);
  if (sql === undefined) statements.set(n, (sql = claimSql(n)));
  const rows = await conn.query<JobRow & { attempts: number; promoted: number }>(raw(sql, ...claimParams(req)), { prepare: true });
  const claimed = rows.filter((r) => r.id !== null).map(rowToClaimed);
  return { claimed, promoted: rows[0]?.promoted ?? 0 };
}

async function plannedClaim(conn: PgConnection | PgTx, n: PgNames, req: ClaimJobsRequest): Promise<ClaimResult> {
  let cursor = cursors.get(n);
  if (!cursor) cursors.set(n, (cursor = new Map()));
  const promoteLimit = req.promoteDue ?? 0;
  const limited = req.limits !== undefined && req.limits.length > 0;
  if (limited) {
    // Promote first: the plan picks among queued jobs, so a job due now (a retry, a snooze)
    // must be queued when it looks. (Planning twice, as below, would count the first
    // batch's starts short: they enter the start log after the claim.)
    const promoted = promoteLimit > 0 ? await promoteDueJobs(conn, n, { now: req.now, limit: promoteLimit }) : 0;
    const r = await planAndClaim(conn, n, req, cursor);
    return { claimed: r.claimed, promoted: promoted + r.promoted };
  }
  // Fairness alone: the claim statement promotes due jobs itself (one statement, not two);
  // when it did and slots are left, plan once more so those jobs start now, not next claim.
  const first = await planAndClaim(conn, n, req, cursor);
  let promoted = first.promoted;
  if (first.promoted === 0 && first.claimed.length === 0 && promoteLimit > 0) promoted = await promoteDueJobs(conn, n, { now: req.now, limit: promoteLimit });
  if (promoted === 0 || first.claimed.length >= req.limit) return first;
  const rest = await planAndClaim(conn, n, { ...req, limit: req.limit - first.claimed.length, promoteDue: 0 }, cursor);
  return { claimed: [...first.claimed, ...rest.claimed], promoted: promoted + rest.promoted };
}

/** Plans among the queued jobs and claims the plan (its statement promoting due jobs as asked). */
async function planAndClaim(conn: PgConnection | PgTx, n: PgNames, req: ClaimJobsRequest, cursor: FairnessCursor): Promise<ClaimResult> {
  const plan = await planClaimAsync(planReader(conn, n, req.now), req, cursor);
  if (plan.kind === 'none') return { claimed: [], promoted: 0 };
  return plannedClaimOf(conn, n, req, plan);
}

async function plannedClaimOf(conn: PgConnection | PgTx, n: PgNames, req: ClaimJobsRequest, plan: ClaimPlan & { kind: 'fast' | 'seqs' }): Promise<ClaimResult> {
  if (plan.kind === 'fast') return plainClaim(conn, n, { ...req, types: plan.types });
  let sql = seqStatements.get(n);
  if (sql === undefined) seqStatements.set(n, (sql = claimSql(n, true)));
  const params = claimParams({ ...req, types: [], limit: plan.seqs.length });
  const rows = await conn.query<JobRow & { attempts: number; promoted: number }>(raw(sql, ...params, plan.seqs), { prepare: true });
  const order = new Map(plan.seqs.map((seq, i) => [seq, i]));
  const claimed = rows.filter((r) => r.id !== null);
  claimed.sort((a, b) => order.get(Number((a as { seq?: unknown }).seq))! - order.get(Number((b as { seq?: unknown }).seq))!);
  return { claimed: claimed.map(rowToClaimed), promoted: rows[0]?.promoted ?? 0 };
}

/**
 * `promoteDueJobs`: up to `limit` due scheduled/retrying jobs → queued, with history, in one
 * statement.
 */
export async function promoteDueJobs(conn: PgConnection | PgTx, n: PgNames, req: DueBatchRequest): Promise<number> {
  if (req.limit <= 0) return 0;
  const [row] = await conn.query<{ promoted: number }>(
    raw(
      `WITH due AS MATERIALIZED (
         SELECT seq, status FROM ${n.jobs}
         WHERE status IN ('scheduled','retrying') AND run_at <= $1
         ORDER BY run_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED
       ),
       promoted AS (
         UPDATE ${n.jobs} j SET status = 'queued', next_retry_at = NULL, updated_at = $1 FROM due d WHERE j.seq = d.seq
         RETURNING j.seq, j.id, d.status AS from_status, j.attempts
       ),
       history AS (
         INSERT INTO ${n.history} (job_id, at, from_status, to_status, attempt, actor_id)
         SELECT id, $1, from_status, 'queued', attempts, '${SYSTEM_ACTOR}' FROM promoted ORDER BY seq
       )
       SELECT count(*) AS promoted FROM promoted`,
      req.now,
      req.limit,
    ),
    { prepare: true },
  );
  return row?.promoted ?? 0;
}

/** Earliest runAt of a scheduled/retrying job, or null (the min of the due index). */
export async function nextDueAt(conn: PgConnection, n: PgNames): Promise<number | null> {
  const [row] = await conn.query<{ due: number | null }>(raw(`SELECT min(run_at) AS due FROM ${n.jobs} WHERE status IN ('scheduled','retrying')`), {
    prepare: true,
  });
  return row?.due ?? null;
}
