/**
 * `settleJobs` and `settleAndClaim`: end attempts, one transaction per batch, each settle
 * fenced on its own. Hand-written SQL: one set-based, prepared statement settles every job of
 * the batch and appends their history; `settleAndClaim` puts the claim in that same statement.
 *
 * Why exactly one terminal transition per attempt (R8): a settle is an
 * `UPDATE … WHERE id = ? AND status = 'running' AND attempts = ?`. Concurrent settles of one
 * attempt (worker and rescuer, on any hosts) queue on the row lock; under READ COMMITTED the
 * later one re-checks the WHERE against the row the first one committed, no longer `running`,
 * and changes nothing (`lease_lost`). The rescuer's variant adds "lease expired by the
 * database clock", so a worker that renewed in time always wins against it.
 *
 * Round trips: usually ONE. The batch first runs as a single statement on its own (autocommit,
 * so atomic by itself). When that statement finds the batch needs more — a settled job with
 * dependents to release or cancel, or (with a claim) a settle that makes a job claimable,
 * which the claim on the statement's snapshot could not see — it aborts itself
 * (`require_transaction`, SQLSTATE JWTXN): nothing is written, and the batch runs again as a
 * multi-statement transaction (settle, dependents, claim). `has_dependents` is set on a parent
 * (under its row lock) by the insert of a child, so the settle's own RETURNING tells, even when
 * the settle had to wait for that insert, whether dependents need work.
 */
import type { JobStatus } from '../../states.js';
import type { ClaimedJob, ClaimJobsRequest, SettleAndClaimRequest, SettleJobsRequest, SettleOutcome, SettleRequest } from '../adapter.js';
import { rowToClaimed, rowToJob, type JobRow } from '../sql/job-row.js';
import { raw, type PgConnection, type PgTx } from './pg-connection.js';
import { DB_NOW_MS, type PgNames } from './pg-names.js';
import { claimCtes, claimJobs, claimParams, pgNeedsPlan } from './queries-claim.js';
import { cancelDependents, releaseDependents } from './transitions.js';

/** Result of a settle batch, plus what to NOTIFY. */
export interface SettleResult {
  outcomes: SettleOutcome[];
  /** Some job became `queued` (released, or a dependent released). */
  queued: boolean;
  written: boolean;
}

/** Result of `settleAndClaim`. */
export interface SettleAndClaimResult {
  settled: SettleResult;
  claimed: ClaimedJob[];
  /** Due jobs promoted by the claim and left for others. */
  promoted: number;
}

type SettleKind = 'completed' | 'retry' | 'dead' | 'released' | 'snoozed';

// Every column of `jobs`, for the explicit select lists of a UNION of two RETURNING sets.
const JOB_COLUMNS = [
  'seq', 'id', 'type', 'org_id', 'owner_id', 'status', 'priority_rank', 'input', 'output', 'progress', 'progress_message',
  'checkpoint', 'error', 'retry_count', 'max_retries', 'attempts', 'next_retry_at', 'run_at', 'timeout_ms', 'depends_on',
  'dedup_hash', 'created_at', 'started_at', 'completed_at', 'canceled_at', 'canceled_by', 'updated_at', 'lease_owner',
  'lease_expires_at', 'has_dependents', 'trace_context',
];
const columnsOf = (alias: string) => JOB_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

/**
 * The settle, as CTEs to put after `WITH`. Parameters 1–9 are parallel arrays (one entry per
 * settle, distinct job ids), 10 is `now`; `ord` keeps request order for the history entries.
 *
 * Planner-proofing, so the rows are looked up by id whatever the table statistics say (on a
 * young table, before any ANALYZE, it scanned every running job through the partial lease
 * index instead): `j.id = ANY($1)` repeats the join on the id index, and the status is
 * compared with a column of the materialized request (`expected_status`), which the planner
 * cannot match against the lease index's `WHERE status = 'running'`.
 * Produces `settled` (`j.*` plus the request's ord, actor, message and error).
 */
function settleCtes(n: PgNames): string {
  return `req AS MATERIALIZED (
      SELECT *, 'running'::text AS expected_status
      FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bool[], $8::text[], $9::text[])
        WITH ORDINALITY AS r(job_id, attempt, kind, output, error, retry_at, only_expired, actor_id, message, ord)
    ),
    settled AS (
      UPDATE ${n.jobs} j SET
        status = CASE r.kind WHEN 'completed' THEN 'completed' WHEN 'retry' THEN 'retrying' WHEN 'dead' THEN 'dead_letter' WHEN 'snoozed' THEN 'scheduled' ELSE 'queued' END,
        output = CASE WHEN r.kind = 'completed' THEN r.output::json ELSE j.output END,
        error = CASE WHEN r.kind = 'completed' THEN NULL WHEN r.kind IN ('retry','dead') THEN r.error::json ELSE j.error END,
        completed_at = CASE WHEN r.kind IN ('completed','dead') THEN $10::bigint ELSE j.completed_at END,
        retry_count = j.retry_count + CASE WHEN r.kind = 'retry' THEN 1 ELSE 0 END,
        next_retry_at = CASE WHEN r.kind = 'retry' THEN r.retry_at ELSE NULL END, -- set only while retrying
        run_at = CASE WHEN r.kind IN ('retry','snoozed') THEN r.retry_at ELSE j.run_at END, -- snoozed: retry_at carries the new runAt
        updated_at = $10::bigint, lease_owner = NULL, lease_expires_at = NULL
      FROM req r
      WHERE j.id = r.job_id AND j.id = ANY($1::text[]) AND j.status = r.expected_status AND j.attempts = r.attempt
        AND (NOT r.only_expired OR j.lease_expires_at < ${DB_NOW_MS})
      RETURNING j.*, r.ord AS settle_ord, r.actor_id AS settle_actor, r.message AS settle_message, r.error AS settle_error
    ),
    settle_history AS (
      INSERT INTO ${n.history} (job_id, at, from_status, to_status, attempt, actor_id, message, error)
      SELECT id, $10::bigint, 'running', status, attempts, settle_actor, settle_message, settle_error::json FROM settled ORDER BY settle_ord
    )`;
}

const settleStatements = new WeakMap<PgNames, Map<string, string>>();
const combinedStatements = new WeakMap<PgNames, Map<string, string>>();

const SINGLE_STATEMENT_REFUSED = 'JWTXN';
// When a lone settle statement must hand over to the transaction: a dependents pass is due.
const NEEDS_DEPENDENTS = `EXISTS (SELECT 1 FROM settled WHERE has_dependents AND status IN ('completed','dead_letter'))`;

/** The settle statement; `single`: guarded to run on its own (see the module comment). */
function settleSql(n: PgNames, single: boolean): string {
  const key = `${single}`;
  let byKind = settleStatements.get(n);
  if (byKind === undefined) settleStatements.set(n, (byKind = new Map()));
  let sql = byKind.get(key);
  if (sql === undefined) {
    sql = single
      ? `WITH ${settleCtes(n)} SELECT s.*, g.guard FROM (SELECT ${n.requireTransactionFn}(${NEEDS_DEPENDENTS}) AS guard) AS g LEFT JOIN settled s ON true`
      : `WITH ${settleCtes(n)} SELECT * FROM settled`;
    byKind.set(key, sql);
  }
  return sql;
}

/**
 * Settle and claim in one statement; the claim's parameters follow the settle's (11–17).
 * The claim runs on the statement's snapshot, which does not show what this settle makes
 * claimable. So when the settle may make a job claimable — an attempt released to `queued`, a
 * retry or a snooze already due, or a completion/dead-letter of a job that has dependents — the claim is
 * deferred (`claim_deferred`) and made by a second statement after the dependents are handled:
 * the result is exactly that of `settleJobs` followed by `claimJobs`.
 */
function combinedSql(n: PgNames, single: boolean): string {
  const key = `${single}`;
  let byKind = combinedStatements.get(n);
  if (byKind === undefined) combinedStatements.set(n, (byKind = new Map()));
  let sql = byKind.get(key);
  if (sql === undefined) {
    const deferWhen = `EXISTS (SELECT 1 FROM settled WHERE status = 'queued' OR has_dependents
      OR (status IN ('retrying','scheduled') AND run_at <= $11::bigint))`;
    // Alone (`single`), the statement refuses such a batch instead of deferring its claim.
    const guard = single ? `${n.requireTransactionFn}(${deferWhen})` : 'false';
    sql = `WITH ${settleCtes(n)}, ${claimCtes(n, (i) => `$${i + 10}`, deferWhen)}
      SELECT u.*, p.promoted, p.guard, ${deferWhen} AS claim_deferred
      FROM (SELECT count(*) AS promoted, ${guard} AS guard FROM promoted) AS p
      LEFT JOIN (
        SELECT 'settled' AS part, s.settle_ord AS ord, ${columnsOf('s')} FROM settled s
        UNION ALL
        SELECT 'claimed', NULL, ${columnsOf('c')} FROM claimed c
      ) AS u ON true`;
    byKind.set(key, sql);
  }
  return sql;
}

function kindOf(s: SettleRequest): SettleKind {
  const o = s.outcome;
  if (o.kind === 'completed') return 'completed';
  if (o.kind === 'released') return 'released';
  if (o.kind === 'snoozed') return 'snoozed';
  return o.retryAt !== null ? 'retry' : 'dead';
}

function settleParams(reqs: readonly SettleRequest[], now: number): unknown[] {
  return [
    reqs.map((s) => s.jobId),
    reqs.map((s) => s.attempt),
    reqs.map(kindOf),
    reqs.map((s) => (s.outcome.kind === 'completed' ? s.outcome.outputJson : null)),
    reqs.map((s) => (s.outcome.kind === 'failed' ? JSON.stringify(s.outcome.error) : null)),
    reqs.map((s) => (s.outcome.kind === 'failed' ? s.outcome.retryAt : s.outcome.kind === 'snoozed' ? s.outcome.runAt : null)),
    reqs.map((s) => s.onlyIfLeaseExpired === true),
    reqs.map((s) => s.actorId),
    reqs.map((s) => (s.outcome.kind === 'released' || s.outcome.kind === 'snoozed' ? s.outcome.message : null)),
    now,
  ];
}

/** Splits requests into rounds in which every job id occurs once, keeping request order. */
function rounds(settles: readonly SettleRequest[]): number[][] {
  const seen = new Map<string, number>();
  const out: number[][] = [];
  settles.forEach((s, i) => {
    const round = seen.get(s.jobId) ?? 0;
    seen.set(s.jobId, round + 1);
    (out[round] ??= []).push(i);
  });
  return out;
}

type SettledRow = JobRow & { attempts: number; has_dependents: boolean };
type CombinedRow = SettledRow & { part: 'settled' | 'claimed' | null; ord: number | null; promoted: number; claim_deferred: boolean };

/** Turns one round's settled rows into outcomes, handling dependents where there are any. */
async function finishRound(
  tx: PgTx,
  n: PgNames,
  indexes: number[],
  settledByOrd: Map<number, SettledRow>,
  now: number,
  out: SettleResult,
): Promise<void> {
  for (let k = 0; k < indexes.length; k++) {
    const row = settledByOrd.get(k + 1); // ord is 1-based within the round
    if (row === undefined) continue;
    out.written = true;
    const job = rowToJob(row);
    let transitions = 1;
    if (job.status === 'queued') out.queued = true;
    if (row.has_dependents && job.status === 'completed') {
      const r = await releaseDependents(tx, n, [job.id], now);
      transitions += r.transitions;
      out.queued ||= r.queued;
    } else if (row.has_dependents && job.status === 'dead_letter') {
      transitions += await cancelDependents(tx, n, job.id, 'dead_letter' satisfies JobStatus, now);
    }
    out.outcomes[indexes[k]!] = { kind: 'settled', job, transitions };
  }
}

/**
 * Runs `single` (one guarded statement, its own transaction); null when it refused the batch
 * or hit a deadlock, whose retry belongs to the multi-statement path.
 */
async function trySingleStatement<T>(single: () => Promise<T>): Promise<T | null> {
  try {
    return await single();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === SINGLE_STATEMENT_REFUSED || code === '40P01' || code === '40001') return null;
    throw err;
  }
}

function emptyResult(count: number): SettleAndClaimResult {
  return {
    settled: { outcomes: new Array<SettleOutcome>(count).fill({ kind: 'lease_lost' }), queued: false, written: false },
    claimed: [],
    promoted: 0,
  };
}

/** Settles a batch in one transaction; results in request order. */
export async function settleJobs(conn: PgConnection, n: PgNames, req: SettleJobsRequest): Promise<SettleResult> {
  const { settles, now } = req;
  if (settles.length === 0) return { outcomes: [], queued: false, written: false };
  const all = rounds(settles);
  if (all.length === 1) {
    const indexes = all[0]!;
    const single = await trySingleStatement(async () => {
      const rows = await conn.query<SettledRow & { settle_ord: number | null }>(raw(settleSql(n, true), ...settleParams(settles, now)), { prepare: true });
      const out = emptyResult(settles.length).settled;
      // No dependents to handle here (the guard let the batch through), so no transaction is needed.
      await finishRound(conn, n, indexes, new Map(rows.filter((x) => x.settle_ord !== null).map((x) => [x.settle_ord!, x])), now, out);
      return out;
    });
    if (single !== null) return single;
  }
  return conn.transaction(async (tx) => (await settleInTransaction(tx, n, settles, now, null)).settled);
}

/**
 * Settles, then claims, in one transaction, usually one statement. Settles are judged at
 * `claim.now`. Same result as `settleJobs` followed by `claimJobs` (see {@link combinedSql}).
 */
export async function settleAndClaim(conn: PgConnection, n: PgNames, req: SettleAndClaimRequest): Promise<SettleAndClaimResult> {
  const { settles, claim } = req;
  if (await pgNeedsPlan(conn, n, claim)) {
    // Flow control plans its claim in its own steps: settle first, then claim (same result).
    const settled = await settleJobs(conn, n, { settles, now: claim.now });
    const r = await claimJobs(conn, n, claim);
    return { settled, claimed: r.claimed, promoted: r.promoted };
  }
  const all = rounds(settles);
  if (all.length === 1) {
    const single = await trySingleStatement(async () => {
      const rows = await conn.query<CombinedRow>(raw(combinedSql(n, true), ...settleParams(settles, claim.now), ...claimParams(claim)), { prepare: true });
      const out = emptyResult(settles.length);
      readCombined(rows, out);
      await finishRound(conn, n, all[0]!, new Map(rows.filter((x) => x.part === 'settled').map((x) => [x.ord!, x])), claim.now, out.settled);
      return out;
    });
    if (single !== null) return single;
  }
  return conn.transaction((tx) => settleInTransaction(tx, n, settles, claim.now, claim));
}

/** The claimed rows (in claim order) and the promotion count of a combined statement. */
function readCombined(rows: CombinedRow[], out: SettleAndClaimResult): void {
  out.promoted = rows[0]?.promoted ?? 0;
  const claimed = rows.filter((x) => x.part === 'claimed');
  claimed.sort((a, b) => Number(a.priority_rank) - Number(b.priority_rank) || Number(a.run_at) - Number(b.run_at) || Number(a.seq) - Number(b.seq));
  out.claimed = claimed.map(rowToClaimed);
}

async function settleInTransaction(tx: PgTx, n: PgNames, settles: readonly SettleRequest[], now: number, claim: ClaimJobsRequest | null): Promise<SettleAndClaimResult> {
  const result = emptyResult(settles.length);
  const all = rounds(settles);
  if (all.length === 0 && claim !== null) {
    const r = await claimJobs(tx, n, claim);
    return { ...result, claimed: r.claimed, promoted: r.promoted };
  }
  for (let r = 0; r < all.length; r++) {
    const indexes = all[r]!;
    const params = settleParams(
      indexes.map((i) => settles[i]!),
      now,
    );
    // The claim rides with the last round: the earlier ones may settle a job it would see.
    if (claim !== null && r === all.length - 1) {
      const rows = await tx.query<CombinedRow>(raw(combinedSql(n, false), ...params, ...claimParams(claim)), { prepare: true });
      readCombined(rows, result);
      const settled = new Map(rows.filter((x) => x.part === 'settled').map((x) => [x.ord!, x]));
      await finishRound(tx, n, indexes, settled, now, result.settled);
      if (rows[0]?.claim_deferred) {
        const later = await claimJobs(tx, n, claim);
        result.claimed = later.claimed;
        result.promoted += later.promoted;
      }
    } else {
      const rows = await tx.query<SettledRow & { settle_ord: number }>(raw(settleSql(n, false), ...params), { prepare: true });
      await finishRound(tx, n, indexes, new Map(rows.map((x) => [x.settle_ord, x])), now, result.settled);
    }
  }
  return result;
}
