/**
 * The SQLite schema as ordered migrations, and the code that applies them.
 *
 * Migrations run in ONE `BEGIN IMMEDIATE` transaction: the write lock is taken before the
 * applied versions are read, so when several processes migrate the same file at once, the
 * first applies everything and the others (waiting on busy_timeout) then see it applied and
 * do nothing. Never edit a released migration; append a new one.
 */
import type Database from 'better-sqlite3';

/** One schema step. `up` statements run in order inside the migration transaction. */
export interface Migration {
  version: number;
  name: string;
  up: string[];
}

// Status literals inside partial-index predicates must match the queries' literals exactly:
// SQLite uses a partial index only when the query's WHERE visibly implies the index's WHERE.
/** Every migration, in order. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up: [
      `CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        org_id TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('waiting','scheduled','queued','running','retrying','completed','canceled','dead_letter')),
        priority_rank INTEGER NOT NULL CHECK (priority_rank BETWEEN 0 AND 3),
        input TEXT NOT NULL,
        output TEXT,
        progress REAL NOT NULL DEFAULT 0,
        progress_message TEXT,
        checkpoint TEXT,
        error TEXT,
        retry_count INTEGER NOT NULL DEFAULT 0,
        max_retries INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_retry_at INTEGER,
        run_at INTEGER NOT NULL,
        timeout_ms INTEGER NOT NULL,
        depends_on TEXT NOT NULL DEFAULT '[]',
        dedup_hash TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER,
        canceled_at INTEGER,
        canceled_by TEXT,
        updated_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_at INTEGER
      )`,
      // Claim order: priority, runAt, submission order, over queued jobs only.
      `CREATE INDEX jobs_claim_idx ON jobs (priority_rank, run_at, seq) WHERE status = 'queued'`,
      `CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status IN ('scheduled','retrying')`,
      `CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE status = 'running'`,
      `CREATE INDEX jobs_dedup_idx ON jobs (dedup_hash, created_at) WHERE dedup_hash IS NOT NULL`,
      `CREATE INDEX jobs_org_list_idx ON jobs (org_id, created_at, seq)`,
      `CREATE INDEX jobs_list_idx ON jobs (created_at, seq)`,
      `CREATE INDEX jobs_prune_idx ON jobs (updated_at) WHERE status IN ('completed','canceled','dead_letter')`,
      `CREATE INDEX jobs_finished_idx ON jobs (completed_at) WHERE status IN ('completed','dead_letter')`,
      `CREATE TABLE job_dependencies (
        job_id TEXT NOT NULL,
        parent_id TEXT NOT NULL,
        PRIMARY KEY (job_id, parent_id)
      ) WITHOUT ROWID`,
      `CREATE INDEX job_dependencies_parent_idx ON job_dependencies (parent_id)`,
      `CREATE TABLE job_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        from_status TEXT,
        to_status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        actor_id TEXT NOT NULL,
        message TEXT,
        error TEXT
      )`,
      `CREATE INDEX job_history_job_idx ON job_history (job_id, seq)`,
      `CREATE TABLE job_progress_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        progress REAL NOT NULL,
        message TEXT,
        at INTEGER NOT NULL
      )`,
      `CREATE INDEX job_progress_events_job_idx ON job_progress_events (job_id)`,
      `CREATE INDEX job_progress_events_at_idx ON job_progress_events (at)`,
      `CREATE TABLE job_type_settings (
        name TEXT PRIMARY KEY,
        settings TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE TABLE job_type_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        changes TEXT NOT NULL
      )`,
      `CREATE INDEX job_type_audit_name_idx ON job_type_audit (name, seq)`,
      `CREATE TABLE jobwing_leadership (
        name TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'job counts kept by triggers; status-filtered list indexes',
    up: [
      // metrics() read the counts with a GROUP BY over every job: 50k rows blocked the event
      // loop 51 ms, 1M rows 1-2 s (SQLite runs in the host's thread). Triggers keep one row per
      // (org, status, priority) instead, so metrics reads a few rows whatever the table holds.
      // (A counter row would serialize writers on Postgres; there the count runs in the server.)
      `CREATE TABLE job_counts (
        org_id TEXT NOT NULL,
        status TEXT NOT NULL,
        priority_rank INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (org_id, status, priority_rank)
      ) WITHOUT ROWID`,
      `INSERT INTO job_counts (org_id, status, priority_rank, n)
        SELECT org_id, status, priority_rank, COUNT(*) FROM jobs GROUP BY org_id, status, priority_rank`,
      `CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO job_counts (org_id, status, priority_rank, n) VALUES (NEW.org_id, NEW.status, NEW.priority_rank, 1)
          ON CONFLICT (org_id, status, priority_rank) DO UPDATE SET n = n + 1;
      END`,
      `CREATE TRIGGER jobs_count_update AFTER UPDATE OF org_id, status, priority_rank ON jobs
        WHEN OLD.status IS NOT NEW.status OR OLD.priority_rank IS NOT NEW.priority_rank OR OLD.org_id IS NOT NEW.org_id BEGIN
        UPDATE job_counts SET n = n - 1 WHERE org_id = OLD.org_id AND status = OLD.status AND priority_rank = OLD.priority_rank;
        INSERT INTO job_counts (org_id, status, priority_rank, n) VALUES (NEW.org_id, NEW.status, NEW.priority_rank, 1)
          ON CONFLICT (org_id, status, priority_rank) DO UPDATE SET n = n + 1;
      END`,
      `CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
        UPDATE job_counts SET n = n - 1 WHERE org_id = OLD.org_id AND status = OLD.status AND priority_rank = OLD.priority_rank;
      END`,
      // list({ status }) newest first: one index range per status, already in page order.
      `CREATE INDEX jobs_status_list_idx ON jobs (status, created_at, seq)`,
      `CREATE INDEX jobs_org_status_list_idx ON jobs (org_id, status, created_at, seq)`,
      // metrics()' time window reads type, status, start time and org from the index alone: with
      // a table lookup per row, 33k finished jobs in the default 24 h window of a 1M-row store
      // cost 550 ms (each lookup a page-cache miss).
      `DROP INDEX jobs_finished_idx`,
      `CREATE INDEX jobs_finished_idx ON jobs (completed_at, type, status, started_at, org_id) WHERE status IN ('completed','dead_letter')`,
      // metrics({ orgId }): the org's oldest queued job by one seek.
      `CREATE INDEX jobs_org_queued_idx ON jobs (org_id, run_at) WHERE status = 'queued'`,
    ],
  },
  {
    version: 3,
    name: 'trace context of the submit',
    up: [`ALTER TABLE jobs ADD COLUMN trace_context TEXT`],
  },
  {
    version: 4,
    name: 'flow control: running counts and per-org claim walk',
    up: [
      // Concurrency caps count running attempts per type and per (type, org) on every limited
      // claim; a count over this index reads only the running rows of that type.
      `CREATE INDEX jobs_running_idx ON jobs (type, org_id) WHERE status = 'running'`,
      // Fairness between orgs: the next org with queued jobs of a type at a level (a seek),
      // and that org's oldest queued jobs (a range).
      `CREATE INDEX jobs_fair_idx ON jobs (type, priority_rank, org_id, run_at, seq) WHERE status = 'queued'`,
      // Rate limits count the starts of a type (or a type and org) in a sliding window ending
      // at the claim's now: a range over (type, started_at), org read from the index. One
      // index, not one per scope: every update of a started job writes its entries.
      `CREATE INDEX jobs_started_idx ON jobs (type, started_at, org_id) WHERE started_at IS NOT NULL`,
    ],
  },
  {
    version: 5,
    name: 'recurring schedules: state and audit',
    up: [
      `CREATE TABLE jobwing_schedules (
        name TEXT PRIMARY KEY,
        enabled INTEGER,
        cursor_at INTEGER,
        last_run_at INTEGER,
        last_job_id TEXT,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE TABLE schedule_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        changes TEXT NOT NULL
      )`,
      `CREATE INDEX schedule_audit_name_idx ON schedule_audit (name, seq)`,
    ],
  },
  {
    version: 6,
    name: 'rate limits count a start log, not the jobs',
    up: [
      // One row per claim of a rate-limited type (claim-plan.ts, startsToLog): a job that starts
      // twice in a window counts twice, which `started_at` (the latest start only) could not say.
      `CREATE TABLE rate_limit_starts (type TEXT NOT NULL, org_id TEXT NOT NULL, at INTEGER NOT NULL)`,
      `CREATE INDEX rate_limit_starts_idx ON rate_limit_starts (type, at, org_id)`,
      // Its only reader moved to the log; every claim of every type wrote an entry into it.
      `DROP INDEX jobs_started_idx`,
    ],
  },
];

/** Version of the newest migration this code knows. */
export const SQLITE_SCHEMA_VERSION = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version));

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS jobwing_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL
)`;

function appliedVersions(db: Database.Database): Set<number> | null {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobwing_migrations'`).get();
  if (table === undefined) return null;
  const rows = db.prepare('SELECT version FROM jobwing_migrations').all() as { version: number }[];
  return new Set(rows.map((r) => r.version));
}

/**
 * Applies every pending migration of `migrations` in one immediate transaction.
 * Idempotent: an up-to-date database is detected with a read alone, without the write lock.
 * Returns the versions applied by this call (empty when none).
 */
export function applySqliteMigrations(db: Database.Database, migrations: readonly Migration[] = SQLITE_MIGRATIONS): number[] {
  const before = appliedVersions(db);
  if (before !== null && migrations.every((m) => before.has(m.version))) return [];
  return db
    .transaction(() => {
      // Re-read under the write lock: another process may have migrated since the check above.
      db.exec(CREATE_MIGRATIONS_TABLE);
      const applied = appliedVersions(db) ?? new Set<number>();
      const done: number[] = [];
      const record = db.prepare('INSERT INTO jobwing_migrations (version, name) VALUES (?, ?)');
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(m.version)) continue;
        for (const statement of m.up) db.exec(statement);
        record.run(m.version, m.name);
        done.push(m.version);
      }
      return done;
    })
    .immediate();
}
