/**
 * The Postgres schema as ordered, versioned migrations in code, and the code that applies them.
 *
 * Many processes may call `migrate()` at once (R19): each runs one transaction that first
 * takes `pg_advisory_xact_lock` keyed by the schema name, so exactly one process applies the
 * pending migrations while the others wait on the lock, then re-read the applied versions,
 * see them applied and do nothing. An up-to-date schema is detected with one read, without
 * the lock. A process that dies while migrating loses its session, which rolls the transaction
 * back and releases the lock. Never edit a released migration; append a new one.
 *
 * Time: every instant is a `bigint` of epoch milliseconds, as on SQLite. The engine hands the
 * store `now` as epoch ms (a fake clock in tests), the shared row mapping (`sql/job-row.ts`) and
 * list cursors work in ms, and a `Date` holds ms: bigint keeps all of that exact with no
 * timezone or microsecond rounding in between. Which clock fills which column:
 * - `lease_expires_at` is the DATABASE clock (`DB_NOW_MS + leaseMs`), set by claim and renew
 *   and compared by findExpiredLeases and `onlyIfLeaseExpired` settles (R20);
 * - everything else (`created_at`, `run_at`, `started_at`, `updated_at`, history `at`, …) is
 *   the `now` passed in, like on every store; leadership leases too (see queries-leadership.ts).
 */
import type { PgConnection } from './pg-connection.js';
import type { PgNamesWithoutBuilder as PgNames } from './pg-names.js';

/** One schema step: statements run in order inside the migration transaction. */
export interface PgMigration {
  version: number;
  name: string;
  up(n: PgNames): string[];
}

const STATUSES = `'waiting','scheduled','queued','running','retrying','completed','canceled','dead_letter'`;

/** Every migration, in order. */
export const POSTGRES_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: (n) => [
      `CREATE TABLE ${n.jobs} (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        type text NOT NULL,
        org_id text NOT NULL,
        owner_id text NOT NULL,
        status text NOT NULL CHECK (status IN (${STATUSES})),
        priority_rank smallint NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),
        input json NOT NULL,
        output json,
        progress double precision NOT NULL DEFAULT 0,
        progress_message text,
        checkpoint json,
        error json,
        retry_count integer NOT NULL DEFAULT 0,
        max_retries integer NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_retry_at bigint,
        run_at bigint NOT NULL,
        timeout_ms integer NOT NULL,
        depends_on json NOT NULL DEFAULT '[]',
        dedup_hash text,
        created_at bigint NOT NULL,
        started_at bigint,
        completed_at bigint,
        canceled_at bigint,
        canceled_by text,
        updated_at bigint NOT NULL,
        lease_owner text,
        lease_expires_at bigint,
        has_dependents boolean NOT NULL DEFAULT false
      )`,
      // has_dependents: set (under the parent's row lock) when a job depending on this one is
      // inserted, so a settle learns from its own RETURNING whether to look for dependents.
      // Payloads are `json`, not `jsonb`: json keeps the engine's text byte for byte (key
      // order, and "\\u0000", which jsonb rejects) while still validating it and allowing ->>.
      `CREATE INDEX jobs_claim_idx ON ${n.jobs} (priority_rank, run_at, seq) WHERE status = 'queued'`,
      `CREATE INDEX jobs_due_idx ON ${n.jobs} (run_at, seq) WHERE status IN ('scheduled','retrying')`,
      `CREATE INDEX jobs_lease_idx ON ${n.jobs} (lease_expires_at, seq) WHERE status = 'running'`,
      `CREATE INDEX jobs_dedup_idx ON ${n.jobs} (dedup_hash, created_at) WHERE dedup_hash IS NOT NULL`,
      `CREATE INDEX jobs_org_list_idx ON ${n.jobs} (org_id, created_at, seq)`,
      `CREATE INDEX jobs_list_idx ON ${n.jobs} (created_at, seq)`,
      `CREATE INDEX jobs_prune_idx ON ${n.jobs} (updated_at) WHERE status IN ('completed','canceled','dead_letter')`,
      `CREATE INDEX jobs_finished_idx ON ${n.jobs} (completed_at) WHERE status IN ('completed','dead_letter')`,
      `CREATE TABLE ${n.dependencies} (
        job_id text NOT NULL,
        parent_id text NOT NULL,
        PRIMARY KEY (job_id, parent_id)
      )`,
      `CREATE INDEX job_dependencies_parent_idx ON ${n.dependencies} (parent_id)`,
      // History and progress rows share one sequence: its order is the event tail's order.
      `CREATE SEQUENCE ${n.eventSeq} AS bigint`,
      // Takes the transaction's id BEFORE the sequence number (CASE evaluates its condition
      // first). read_events relies on this: whoever holds an event seq already has an xid, so
      // it shows up in the reader's snapshot as in progress until it ends.
      `CREATE FUNCTION ${n.schema}.next_event_seq() RETURNS bigint LANGUAGE sql VOLATILE AS
        $$ SELECT CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('${n.eventSeq}'::regclass) END $$`,
      `CREATE TABLE ${n.history} (
        seq bigint PRIMARY KEY DEFAULT ${n.schema}.next_event_seq(),
        job_id text NOT NULL,
        at bigint NOT NULL,
        from_status text,
        to_status text NOT NULL,
        attempt integer NOT NULL,
        actor_id text NOT NULL,
        message text,
        error json
      )`,
      `CREATE INDEX job_history_job_idx ON ${n.history} (job_id, seq)`,
      `CREATE TABLE ${n.progress} (
        seq bigint PRIMARY KEY DEFAULT ${n.schema}.next_event_seq(),
        job_id text NOT NULL,
        progress double precision NOT NULL,
        message text,
        at bigint NOT NULL
      )`,
      `CREATE INDEX job_progress_events_job_idx ON ${n.progress} (job_id)`,
      `CREATE INDEX job_progress_events_at_idx ON ${n.progress} (at)`,
      `CREATE TABLE ${n.jobTypeSettings} (
        name text PRIMARY KEY,
        settings jsonb NOT NULL,
        updated_at bigint NOT NULL
      )`,
      `CREATE TABLE ${n.jobTypeAudit} (
        seq bigserial PRIMARY KEY,
        name text NOT NULL,
        actor_id text NOT NULL,
        at bigint NOT NULL,
        changes json NOT NULL
      )`,
      `CREATE INDEX job_type_audit_name_idx ON ${n.jobTypeAudit} (name, seq)`,
      `CREATE TABLE ${n.leadership} (
        name text PRIMARY KEY,
        owner_id text NOT NULL,
        expires_at bigint NOT NULL
      )`,
      readEventsFunction(n),
      // Aborts the statement that calls it with true, with SQLSTATE JWTXN: the single-statement
      // settle (queries-settle.ts) uses it to hand a batch that needs more work (dependents, a
      // claim that must see the settle) to the multi-statement transaction, atomically.
      `CREATE FUNCTION ${n.requireTransactionFn}(needed boolean) RETURNS boolean LANGUAGE plpgsql VOLATILE AS
        $$ BEGIN
          IF needed THEN RAISE EXCEPTION 'jobwing: this settle needs a multi-statement transaction' USING ERRCODE = 'JWTXN'; END IF;
          RETURN false;
        END $$`,
      // The claim's candidate scan, pinned to the ordered walk of jobs_claim_idx. With stale or
      // missing statistics (a new table, a burst of inserts before autovacuum's next ANALYZE)
      // the planner estimates a handful of queued rows and picks a bitmap scan plus sort, which
      // reads EVERY queued job on every claim: measured 16 ms instead of 0.5 ms for 64 of 8,700
      // queued jobs, growing with the queue. SET on the function scopes the hints to this scan.
      `CREATE FUNCTION ${n.claimCandidatesFn}(types text[], max_rows integer)
        RETURNS TABLE (seq bigint, priority_rank smallint, run_at bigint)
        LANGUAGE sql VOLATILE SET enable_bitmapscan = off SET enable_seqscan = off SET enable_sort = off AS
        $$ SELECT j.seq, j.priority_rank, j.run_at FROM ${n.jobs} j
           WHERE j.status = 'queued' AND j.type = ANY(types)
           ORDER BY j.priority_rank, j.run_at, j.seq LIMIT max_rows FOR UPDATE SKIP LOCKED $$`,
    ],
  },
  {
    version: 2,
    name: 'status-filtered list indexes; event tail past a stuck writer',
    up: (n) => [
      // list({ status }) newest first: one index range per status, already in page order
      // (without them a status filter walked the whole list index; review defect 7).
      `CREATE INDEX jobs_status_list_idx ON ${n.jobs} (status, created_at, seq)`,
      `CREATE INDEX jobs_org_status_list_idx ON ${n.jobs} (org_id, status, created_at, seq)`,
      // read_events no longer stops all delivery behind a stuck writer (review defect 9).
      readEventsFunction(n).replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'),
    ],
  },
  {
    version: 3,
    name: 'trace context of the submit',
    up: (n) => [`ALTER TABLE ${n.jobs} ADD COLUMN trace_context text`],
  },
  {
    version: 4,
    name: 'flow control: running counts and per-org claim walk',
    up: (n) => [
      // Concurrency caps count running attempts per type and (type, org) on every limited claim.
      `CREATE INDEX jobs_running_idx ON ${n.jobs} (type, org_id) WHERE status = 'running'`,
      // Fairness: the next org with queued jobs of a type at a level (a seek), and its oldest jobs.
      `CREATE INDEX jobs_fair_idx ON ${n.jobs} (type, priority_rank, org_id, run_at, seq) WHERE status = 'queued'`,
      // Fairness fast path: "does more than one org have queued jobs?" in two seeks.
      `CREATE INDEX jobs_org_queued_idx ON ${n.jobs} (org_id, run_at) WHERE status = 'queued'`,
      // Rate limits: starts of a type (or a type and org) in a sliding window, by started_at.
      // One index for both scopes (org read from it): every non-HOT update of a started job
      // writes an entry into it.
      `CREATE INDEX jobs_started_idx ON ${n.jobs} (type, started_at, org_id) WHERE started_at IS NOT NULL`,
    ],
  },
  {
    version: 5,
    name: 'recurring schedules: state and audit',
    up: (n) => [
      `CREATE TABLE ${n.schema}.jobwing_schedules (
        name text PRIMARY KEY,
        enabled boolean,
        cursor_at bigint,
        last_run_at bigint,
        last_job_id text,
        updated_at bigint NOT NULL
      )`,
      `CREATE TABLE ${n.schema}.schedule_audit (
        seq bigserial PRIMARY KEY,
        name text NOT NULL,
        actor_id text NOT NULL,
        at bigint NOT NULL,
        changes json NOT NULL
      )`,
      `CREATE INDEX schedule_audit_name_idx ON ${n.schema}.schedule_audit (name, seq)`,
    ],
  },
  {
    version: 6,
    name: 'rate limits count a start log, not the jobs',
    up: (n) => [
      // One row per claim of a rate-limited type (claim-plan.ts, startsToLog): a job that starts
      // twice in a window counts twice, which `started_at` (the latest start only) could not say.
      `CREATE TABLE ${n.rateStarts} (type text NOT NULL, org_id text NOT NULL, at bigint NOT NULL)`,
      `CREATE INDEX rate_limit_starts_idx ON ${n.rateStarts} (type, at, org_id)`,
      // Its only reader moved to the log; every claim of every type wrote an entry into it.
      `DROP INDEX ${n.schema}.jobs_started_idx`,
    ],
  },
  {
    version: 7,
    name: 'flow-control claim walks as functions that never sort',
    up: (n) => [
      // The claim plan's two walks. On a young table (no ANALYZE yet) the planner sorted every
      // queued job instead of reading an index in order: 16 ms (org walk, via
      // jobs_org_queued_idx) and 55 ms (claim order, via jobs_fair_idx) at 50,000 queued, where
      // the ordered index reads take 0.1 ms. Like claim_candidates, they run without sorts.
      `CREATE FUNCTION ${n.orgJobsFn}(p_type text, p_rank integer, p_org text, p_run_at bigint, p_seq bigint, max_rows integer)
        RETURNS TABLE (seq bigint, type text, org_id text, priority_rank smallint, run_at bigint)
        LANGUAGE sql STABLE SET enable_bitmapscan = off SET enable_seqscan = off SET enable_sort = off AS
        $$ SELECT j.seq, j.type, j.org_id, j.priority_rank, j.run_at FROM ${n.jobs} j
           WHERE j.status = 'queued' AND j.type = p_type AND j.priority_rank = p_rank AND j.org_id = p_org
             AND (j.run_at, j.seq) > (p_run_at, p_seq)
           ORDER BY j.run_at, j.seq LIMIT max_rows $$`,
      `CREATE FUNCTION ${n.claimOrderFn}(types text[], p_rank integer, p_run_at bigint, p_seq bigint, max_rows integer)
        RETURNS TABLE (seq bigint, type text, org_id text, priority_rank smallint, run_at bigint)
        LANGUAGE sql STABLE SET enable_bitmapscan = off SET enable_seqscan = off SET enable_sort = off AS
        $$ SELECT j.seq, j.type, j.org_id, j.priority_rank, j.run_at FROM ${n.jobs} j
           WHERE j.status = 'queued' AND j.type = ANY(types) AND (j.priority_rank, j.run_at, j.seq) > (p_rank, p_run_at, p_seq)
           ORDER BY j.priority_rank, j.run_at, j.seq LIMIT max_rows $$`,
    ],
  },
  {
    version: 8,
    name: 'the fair claim walks its orgs in one call',
    up: (n) => [
      // The org walk of the fair claim (claim-plan.ts, nextOrgs): a skip scan, one index seek
      // per org, run in the database. As one round trip per org it cost a fair claim among 10
      // orgs ~11 round trips, and fairness 'org' drained at 0.38x of 'none'.
      `CREATE FUNCTION ${n.nextOrgsFn}(p_type text, p_rank integer, p_after text, max_rows integer)
        RETURNS SETOF text
        LANGUAGE plpgsql STABLE SET enable_bitmapscan = off SET enable_seqscan = off SET enable_sort = off AS
        $$
        DECLARE
          last text := p_after;
          found_org text;
        BEGIN
          FOR i IN 1..max_rows LOOP
            IF last IS NULL THEN
              SELECT j.org_id INTO found_org FROM ${n.jobs} j
                WHERE j.status = 'queued' AND j.type = p_type AND j.priority_rank = p_rank ORDER BY j.org_id LIMIT 1;
            ELSE
              SELECT j.org_id INTO found_org FROM ${n.jobs} j
                WHERE j.status = 'queued' AND j.type = p_type AND j.priority_rank = p_rank AND j.org_id > last ORDER BY j.org_id LIMIT 1;
            END IF;
            EXIT WHEN found_org IS NULL;
            RETURN NEXT found_org;
            last := found_org;
          END LOOP;
        END
        $$`,
    ],
  },
  {
    version: 9,
    name: 'event tail horizon read under the sequence lock',
    // read_events read its horizon from the sequence's tuple without the buffer lock and could
    // see nextval()'s WAL look-ahead value (up to 32 seqs too high): events were lost. See
    // eventHorizonSql and test/regressions/pg-event-horizon.test.ts.
    up: (n) => [readEventsFunction(n).replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION')],
  },
];

/**
 * SQL for the event tail's horizon: the highest event seq handed out so far (0 before the
 * first). Never `SELECT last_value FROM event_seq`: that reads the sequence's tuple without its
 * buffer lock, and every 32nd nextval() briefly writes a value 32 ahead into it (the value its
 * WAL record pre-logs), so such a read can see a horizon no transaction holds yet.
 * pg_sequence_last_value() reads under the lock.
 */
export function eventHorizonSql(n: Pick<PgNames, 'eventSeq'>): string {
  return `COALESCE(pg_sequence_last_value('${n.eventSeq}'::regclass), 0)`;
}

/**
 * `read_events(after_seq, max_rows, wait_ms)`: the event tail, explained in queries-events.ts.
 * Returns up to `max_rows` events with `after_seq < seq <= horizon` in seq order, then one
 * row of kind 'horizon' whose seq is the horizon. When in-flight writers did not finish within
 * `wait_ms`, the events committed so far are returned all the same, and the last row is of kind
 * 'partial', its message the comma-separated xid8s of the writers still running (their rows,
 * seq ≤ horizon, may appear later: queries-events.ts keeps those gaps in the cursor).
 */
function readEventsFunction(n: PgNames): string {
  return `CREATE FUNCTION ${n.readEventsFn}(after_seq bigint, max_rows integer, wait_ms integer)
    RETURNS TABLE (seq bigint, kind text, job_id text, type text, org_id text, owner_id text, at bigint,
                   from_status text, to_status text, attempt integer, error text, progress double precision, message text)
    LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    DECLARE
      horizon bigint;
      snap pg_snapshot;
      writers bigint[];
      top bigint;
      pending xid8[];
      deadline timestamptz := clock_timestamp() + make_interval(secs => wait_ms / 1000.0);
      stuck text := NULL;
    BEGIN
      -- 1. The highest event seq handed out so far (committed or not).
      SELECT ${eventHorizonSql(n)} INTO horizon;
      -- 2. Read afterwards: every transaction holding a seq <= horizon has finished, or is still
      --    running, holding a RowExclusiveLock on the history or progress table (taken before
      --    it could take a seq) and its transaction id (next_event_seq assigns it before the
      --    seq). Those are found in pg_locks, not in the snapshot's in-progress list: a running
      --    xid at or above the snapshot's xmax is not listed there. Their 32-bit xids are widened
      --    to xid8 against the snapshot's xmax (running xids are within 2^31 of it).
      SELECT pg_current_snapshot(), ARRAY(
          SELECT DISTINCT t.transactionid::text::bigint
          FROM pg_locks r
          JOIN pg_locks t ON t.virtualtransaction = r.virtualtransaction
            AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
          WHERE r.locktype = 'relation' AND r.granted
            AND r.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
            AND r.relation IN ('${n.history}'::regclass, '${n.progress}'::regclass))
        INTO snap, writers;
      -- (SELECT … INTO throughout: plpgsql evaluates a plain assignment under the calling
      -- statement's snapshot, which predates step 1.)
      top := pg_snapshot_xmax(snap)::text::bigint;
      pending := ARRAY(
        SELECT (top + ((w - (top & 4294967295) + 2147483648) % 4294967296) - 2147483648)::text::xid8 FROM unnest(writers) AS w);
      -- 3. Wait for exactly those writers to end. Later transactions only get seqs > horizon,
      --    and transactions that never wrote events here (other schemas, other apps) are not
      --    waited for. "Ended" is judged by a fresh snapshot, not by pg_xact_status: the commit
      --    log says committed slightly before a committing transaction leaves the snapshot's
      --    in-progress list, and until it leaves, a new snapshot cannot see its rows.
      LOOP
        SELECT pg_current_snapshot() INTO snap;
        pending := ARRAY(SELECT x FROM unnest(pending) AS x WHERE NOT pg_visible_in_snapshot(x, snap));
        EXIT WHEN cardinality(pending) = 0;
        IF clock_timestamp() >= deadline THEN
          -- A writer is stuck (a stopped process, a foreign session): read what is committed
          -- anyway and name the writers, so the caller can come back for their rows later.
          stuck := array_to_string(pending, ',');
          EXIT;
        END IF;
        PERFORM pg_sleep(0.0005);
      END LOOP;
      -- 4. A fresh statement, so a fresh snapshot: every row up to the horizon is final.
      -- It reads in seq order through the primary keys and stops at max_rows, whatever the
      -- statistics say: on a young table the planner otherwise fetched and sorted every row
      -- after the cursor on every read (65 ms instead of 5 ms for 500 of 8,000 rows). SET LOCAL
      -- lasts to the end of the transaction, which for readEvents is this statement; set as a
      -- function attribute instead, it also steered the pg_locks join above into a slow plan.
      SET LOCAL enable_bitmapscan = off;
      SET LOCAL enable_seqscan = off;
      SET LOCAL enable_sort = off;
      -- Each branch joins jobs before its LIMIT (events of pruned jobs are skipped), so fewer
      -- than max_rows rows means both tables are exhausted up to the horizon.
      RETURN QUERY
        SELECT u.* FROM (
          (SELECT h.seq, 'status'::text, h.job_id, j.type, j.org_id, j.owner_id, h.at, h.from_status, h.to_status,
                  h.attempt, h.error::text, NULL::double precision, NULL::text
           FROM ${n.history} h JOIN ${n.jobs} j ON j.id = h.job_id
           WHERE h.seq > after_seq AND h.seq <= horizon ORDER BY h.seq LIMIT max_rows)
          UNION ALL
          (SELECT e.seq, 'progress'::text, e.job_id, j.type, j.org_id, j.owner_id, e.at, NULL::text, NULL::text,
                  NULL::integer, NULL::text, e.progress, e.message
           FROM ${n.progress} e JOIN ${n.jobs} j ON j.id = e.job_id
           WHERE e.seq > after_seq AND e.seq <= horizon ORDER BY e.seq LIMIT max_rows)
        ) AS u
        ORDER BY 1 LIMIT max_rows;
      RETURN QUERY SELECT horizon, CASE WHEN stuck IS NULL THEN 'horizon' ELSE 'partial' END, NULL::text, NULL::text, NULL::text,
        NULL::text, NULL::bigint, NULL::text, NULL::text, NULL::integer, NULL::text, NULL::double precision, stuck;
    END
    $fn$`;
}

/** Version of the newest migration this code knows. */
export const POSTGRES_SCHEMA_VERSION = Math.max(...POSTGRES_MIGRATIONS.map((m) => m.version));

async function appliedVersions(conn: PgConnection, n: PgNames): Promise<Set<number> | null> {
  const [row] = await conn.query<{ present: boolean }>({ sql: 'SELECT to_regclass($1) IS NOT NULL AS present', parameters: [n.migrations] });
  if (!row?.present) return null;
  const rows = await conn.query<{ version: number }>({ sql: `SELECT version FROM ${n.migrations}`, parameters: [] });
  return new Set(rows.map((r) => r.version));
}

/**
 * Applies every pending migration of `migrations`, once, however many processes call it at
 * the same time. Returns the versions applied by this call (empty when none).
 */
export async function applyPostgresMigrations(conn: PgConnection, n: PgNames, migrations: readonly PgMigration[] = POSTGRES_MIGRATIONS): Promise<number[]> {
  const before = await appliedVersions(conn, n);
  if (before !== null && migrations.every((m) => before.has(m.version))) return [];
  return conn.withClient(async (client) => {
    await client.query('BEGIN');
    try {
      // A transaction-scoped lock: released by COMMIT or ROLLBACK (or the session's end), and
      // it works through a transaction-mode pooler, where a session lock would not.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`jobwing:migrate:${n.schemaName}`]);
      // Re-read under the lock: another process may have migrated while we waited.
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${n.schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${n.migrations} (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        applied_by integer NOT NULL DEFAULT pg_backend_pid()
      )`);
      const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${n.migrations}`)).rows.map((r) => r.version));
      const done: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(m.version)) continue;
        for (const statement of m.up(n)) await client.query(statement);
        await client.query(`INSERT INTO ${n.migrations} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        done.push(m.version);
      }
      await client.query('COMMIT');
      return done;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}
