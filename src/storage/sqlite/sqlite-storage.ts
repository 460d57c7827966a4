/**
 * `sqliteStorage`: the default store, one SQLite file shared by any number of processes on
 * one machine (WAL, busy_timeout, every read-then-write transaction BEGIN IMMEDIATE).
 */
import { JobwingError } from '../../errors.js';
import type { Job, JobHistoryEntry, JobTypeSettings, Metrics } from '../../types.js';
import type {
  AcquireLeadershipRequest,
  AdvanceScheduleRequest,
  AuditByNameRequest,
  CancelJobRequest,
  CancelOutcome,
  ClaimedJob,
  ClaimJobsRequest,
  CollectMetricsRequest,
  DeleteJobOutcome,
  DeleteJobRequest,
  DueBatchRequest,
  EventCursor,
  ExpiredLease,
  FencedWriteResult,
  GetJobRequest,
  InsertAndClaimRequest,
  InsertAndClaimResult,
  InsertJobsRequest,
  InsertOutcome,
  JobIdRequest,
  JobTypeAuditEntry,
  LeaseInfo,
  ListJobsRequest,
  PruneJobsRequest,
  PruneProgressEventsRequest,
  RateWindow,
  RateWindowRequest,
  ReadEventsRequest,
  ReadEventsResult,
  RecordProgressRequest,
  RenewLeasesRequest,
  RenewLeasesResult,
  RetryJobRequest,
  RetryOutcome,
  SaveCheckpointRequest,
  ScheduleAuditEntry,
  SettleAndClaimRequest,
  SettleAndClaimResult,
  SettleJobsRequest,
  SettleOutcome,
  SettleRequest,
  StorageAdapter,
  StorageCapabilities,
  StoredSchedule,
  StoreEvent,
  UpdateJobTypeSettingsRequest,
  UpdateScheduleRequest,
} from '../adapter.js';
import { cancelJob, retryJob } from './queries-cancel-retry.js';
import { claimInTransaction, claimJobs, nextDueAt, promoteDueJobs } from './queries-claim.js';
import { readEvents } from './queries-events.js';
import { insertJobs, insertJobsThen } from './queries-insert.js';
import { listJobTypeAudit, loadJobTypeSettings, updateJobTypeSettings } from './queries-job-types.js';
import { advanceSchedule, listScheduleAudit, loadSchedules, updateSchedule } from './queries-schedules.js';
import { acquireLeadership } from './queries-leadership.js';
import { findExpiredLeases, recordProgress, renewLeases, saveCheckpoint } from './queries-lease.js';
import { collectMetrics } from './queries-metrics.js';
import { deleteJob } from './queries-delete.js';
import { pruneJobs, pruneProgressEvents } from './queries-prune.js';
import { getJob, listHistory, listJobs } from './queries-read.js';
import { settleInTransaction, settleJobs } from './queries-settle.js';
import { applySqliteMigrations } from './schema.js';
import { raw, SqliteConnection } from './sqlite-connection.js';
import { STARTS_ORG, STARTS_TYPE } from './claim-reader.js';
import { parseSqliteStorageOptions, type ResolvedSqliteStorageOptions, type SqliteStorageOptions } from './sqlite-options.js';
import { WalWatcher, type WalWatchStatus } from './wal-watcher.js';

export type { SqliteStorageOptions } from './sqlite-options.js';
export type { WalWatchStatus } from './wal-watcher.js';

/** Connection settings in force, as SQLite reports them. */
export interface SqlitePragmas {
  journalMode: string;
  busyTimeoutMs: number;
  synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
  journalSizeLimitBytes: number;
  /** Where temporary files (statement journals, sorts) live. */
  tempStore: 'DEFAULT' | 'FILE' | 'MEMORY';
}

/** The SQLite store: a {@link StorageAdapter} plus diagnostics. */
export interface SqliteStorageAdapter extends StorageAdapter {
  /** The options in force (defaults applied). */
  readonly options: Readonly<ResolvedSqliteStorageOptions>;
  /** Reads the connection's pragmas (opens the database if needed). For diagnostics and tests. */
  pragmas(): SqlitePragmas;
  /** Calls `onNotice` soon after another connection commits (see `watchWal`). */
  subscribe(onNotice: () => void): Promise<() => Promise<void>>;
  /** State of the WAL watch (not watching until someone subscribes). */
  walWatchStatus(): WalWatchStatus;
}

const SYNCHRONOUS_NAMES = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;

class SqliteStorage implements SqliteStorageAdapter {
  readonly capabilities: StorageCapabilities;
  readonly options: Readonly<ResolvedSqliteStorageOptions>;
  #conn: SqliteConnection | null = null;
  #watcher: WalWatcher | null = null;
  #closed = false;

  constructor(options: ResolvedSqliteStorageOptions) {
    this.options = Object.freeze({ ...options });
    const multiProcess = options.path !== ':memory:';
    this.capabilities = Object.freeze({ multiProcess, pushWake: multiProcess && options.watchWal, databaseClock: false });
  }

  /** Opens lazily, so constructing a store (e.g. as an engine default) touches no file. */
  #connection(): SqliteConnection {
    if (this.#closed) throw new JobwingError('STORAGE', 'SQLite store is closed');
    this.#conn ??= new SqliteConnection(this.options);
    return this.#conn;
  }

  /** Runs one store operation; unexpected failures become a STORAGE error naming it. */
  #call<T>(operation: string, fn: (conn: SqliteConnection) => T): T {
    try {
      return fn(this.#connection());
    } catch (err) {
      if (err instanceof JobwingError) throw err;
      const e = err as { message?: unknown; code?: unknown };
      const message = typeof e?.message === 'string' ? e.message : String(err);
      const code = typeof e?.code === 'string' ? ` (${e.code})` : '';
      const hint = message.includes('no such table') ? '; call migrate() first' : '';
      throw new JobwingError('STORAGE', `SQLite store: ${operation} failed: ${message}${code}${hint}`, { cause: err });
    }
  }

  pragmas(): SqlitePragmas {
    return this.#call('pragmas', (c) => ({
      journalMode: String(c.db.pragma('journal_mode', { simple: true })),
      busyTimeoutMs: Number(c.db.pragma('busy_timeout', { simple: true })),
      synchronous: SYNCHRONOUS_NAMES[Number(c.db.pragma('synchronous', { simple: true }))] ?? 'FULL',
      journalSizeLimitBytes: Number(c.db.pragma('journal_size_limit', { simple: true })),
      tempStore: (['DEFAULT', 'FILE', 'MEMORY'] as const)[Number(c.db.pragma('temp_store', { simple: true }))] ?? 'DEFAULT',
    }));
  }

  async migrate(): Promise<void> {
    this.#call('migrate', (c) => applySqliteMigrations(c.db));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    const conn = this.#conn;
    this.#conn = null;
    conn?.close();
  }

  async loadJobTypeSettings(): Promise<Record<string, Partial<JobTypeSettings>>> {
    return this.#call('loadJobTypeSettings', (c) => loadJobTypeSettings(c));
  }

  async updateJobTypeSettings(req: UpdateJobTypeSettingsRequest): Promise<void> {
    this.#call('updateJobTypeSettings', (c) => updateJobTypeSettings(c, req));
  }

  async listJobTypeAudit(req: AuditByNameRequest): Promise<JobTypeAuditEntry[]> {
    return this.#call('listJobTypeAudit', (c) => listJobTypeAudit(c, req));
  }

  async insertJobs(req: InsertJobsRequest): Promise<InsertOutcome[]> {
    return this.#call('insertJobs', (c) => insertJobs(c, req));
  }

  /** One transaction: the submit's jobs, then the claim for this engine's free slots. */
  async insertAndClaim(req: InsertAndClaimRequest): Promise<InsertAndClaimResult> {
    return this.#call('insertAndClaim', (c) => {
      const r = insertJobsThen(c, req.insert, () => claimInTransaction(c, req.claim));
      return { inserted: r.outcomes, claimed: r.after ?? [] };
    });
  }

  async claimJobs(req: ClaimJobsRequest): Promise<ClaimedJob[]> {
    return this.#call('claimJobs', (c) => claimJobs(c, req));
  }

  async renewLeases(req: RenewLeasesRequest): Promise<RenewLeasesResult> {
    return this.#call('renewLeases', (c) => renewLeases(c, req));
  }

  async recordProgress(req: RecordProgressRequest): Promise<FencedWriteResult> {
    return this.#call('recordProgress', (c) => recordProgress(c, req));
  }

  async saveCheckpoint(req: SaveCheckpointRequest): Promise<FencedWriteResult> {
    return this.#call('saveCheckpoint', (c) => saveCheckpoint(c, req));
  }

  async settleJobs(req: SettleJobsRequest): Promise<SettleOutcome[]> {
    return this.#call('settleJobs', (c) => settleJobs(c, req));
  }

  /**
   * Settles, then claims, in ONE immediate transaction (one commit, one fsync with
   * synchronous=FULL). Settles are judged at `claim.now`. Jobs released by these settles
   * (dependents, released attempts) may be claimed by the same call.
   */
  async settleAndClaim(req: SettleAndClaimRequest): Promise<SettleAndClaimResult> {
    return this.#call('settleAndClaim', (c) =>
      c.write(() => ({ settled: settleInTransaction(c, req.settles, req.claim.now), claimed: claimInTransaction(c, req.claim) })),
    );
  }

  async cancelJob(req: CancelJobRequest): Promise<CancelOutcome> {
    return this.#call('cancelJob', (c) => cancelJob(c, req));
  }

  async retryJob(req: RetryJobRequest): Promise<RetryOutcome> {
    return this.#call('retryJob', (c) => retryJob(c, req));
  }

  async promoteDueJobs(req: DueBatchRequest): Promise<number> {
    return this.#call('promoteDueJobs', (c) => promoteDueJobs(c, req));
  }

  async findExpiredLeases(req: DueBatchRequest): Promise<ExpiredLease[]> {
    return this.#call('findExpiredLeases', (c) => findExpiredLeases(c, req));
  }

  async pruneJobs(req: PruneJobsRequest): Promise<number> {
    return this.#call('pruneJobs', (c) => pruneJobs(c, req));
  }

  async pruneProgressEvents(req: PruneProgressEventsRequest): Promise<number> {
    return this.#call('pruneProgressEvents', (c) => pruneProgressEvents(c, req));
  }

  async deleteJob(req: DeleteJobRequest): Promise<DeleteJobOutcome> {
    return this.#call('deleteJob', (c) => deleteJob(c, req));
  }

  async getJob(req: GetJobRequest): Promise<Job | null> {
    return this.#call('getJob', (c) => getJob(c, req));
  }

  async listJobs(req: ListJobsRequest): Promise<{ items: Job[]; nextCursor: string | null }> {
    return this.#call('listJobs', (c) => listJobs(c, req));
  }

  async getLease(req: JobIdRequest): Promise<LeaseInfo | null> {
    return this.#call('getLease', (c) => {
      const row = c.get<{ lease_owner: string | null; lease_expires_at: number | null }>({ sql: `SELECT lease_owner, lease_expires_at FROM jobs WHERE id = ? AND status = 'running'`, parameters: [req.jobId] });
      return row ? { owner: row.lease_owner, expiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at) } : null;
    });
  }

  async getRateWindow(req: RateWindowRequest): Promise<RateWindow> {
    return this.#call('getRateWindow', (c) => {
      const row = c.get<{ n: number; oldest: number | null }>(req.orgId === null ? raw(STARTS_TYPE, req.type, req.since) : raw(STARTS_ORG, req.type, req.since, req.orgId));
      return { starts: Number(row?.n ?? 0), oldest: row?.oldest == null ? null : Number(row.oldest) };
    });
  }

  async listHistory(req: JobIdRequest): Promise<JobHistoryEntry[]> {
    return this.#call('listHistory', (c) => listHistory(c, req));
  }

  async nextDueAt(): Promise<number | null> {
    return this.#call('nextDueAt', (c) => nextDueAt(c));
  }

  async collectMetrics(req: CollectMetricsRequest): Promise<Metrics> {
    return this.#call('collectMetrics', (c) => collectMetrics(c, req));
  }

  async readEvents(req: ReadEventsRequest): Promise<ReadEventsResult> {
    return this.#call('readEvents', (c) => readEvents(c, req));
  }

  // ── schedules (issue 11) ──
  async loadSchedules(): Promise<StoredSchedule[]> {
    return this.#call('loadSchedules', (c) => loadSchedules(c));
  }

  async updateSchedule(req: UpdateScheduleRequest): Promise<void> {
    this.#call('updateSchedule', (c) => updateSchedule(c, req));
  }

  async advanceSchedule(req: AdvanceScheduleRequest): Promise<void> {
    this.#call('advanceSchedule', (c) => advanceSchedule(c, req));
  }

  async listScheduleAudit(req: AuditByNameRequest): Promise<ScheduleAuditEntry[]> {
    return this.#call('listScheduleAudit', (c) => listScheduleAudit(c, req));
  }

  async subscribe(onNotice: () => void): Promise<() => Promise<void>> {
    if (!this.capabilities.pushWake) return async () => undefined;
    this.#connection(); // open now, so the first data_version is read before any event
    this.#watcher ??= new WalWatcher(this.options.path, () => this.#conn?.dataVersion() ?? null);
    const unsubscribe = this.#watcher.subscribe(onNotice);
    return async () => unsubscribe();
  }

  walWatchStatus(): WalWatchStatus {
    return this.#watcher?.status ?? { watching: false, wakes: 0 };
  }

  async acquireLeadership(req: AcquireLeadershipRequest): Promise<boolean> {
    return this.#call('acquireLeadership', (c) => acquireLeadership(c, req));
  }
}

/**
 * Creates the SQLite store. Validates options at once; opens the file lazily on first use
 * (normally `migrate()` from `engine.start()`), with WAL, `busy_timeout`, the chosen
 * `synchronous` and a bounded WAL (`journal_size_limit`).
 *
 * capabilities: `multiProcess` unless `path` is `':memory:'`; `pushWake` (another process's
 * commit is noticed through a watch on the `-wal` file) unless `watchWal: false` or
 * `':memory:'`; polling stays the fallback; lease expiry judged by the `now` passed in.
 *
 * @throws ValidationError naming the bad option; on first use, naming `path` when its
 * directory does not exist (it is never created for you).
 * @example
 * ```ts
 * import { sqliteStorage } from 'jobwing';
 * const storage = sqliteStorage({ path: './data/jobs.sqlite', synchronous: 'NORMAL' });
 * await storage.migrate();
 * ```
 */
export function sqliteStorage(options: SqliteStorageOptions = {}): SqliteStorageAdapter {
  return new SqliteStorage(parseSqliteStorageOptions(options));
}
