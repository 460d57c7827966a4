/**
 * `postgresStorage`: the store for many processes on many hosts. Same contract as SQLite;
 * claims with `FOR UPDATE SKIP LOCKED`, leases on the database clock, LISTEN/NOTIFY wake-ups
 * and events, advisory-locked migrations and dedup. See docs/postgres.md.
 */
import { randomBytes } from 'node:crypto';
import type { ClientConfig, Pool, PoolConfig } from 'pg';
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
import { PgListener, type ListenerStatus } from './listener.js';
import { Notifier, type NoticeKind } from './notifier.js';
import { isConnectionError, PgConnection } from './pg-connection.js';
import { loadPg, type PgModule } from './pg-driver.js';
import { loadQueryBuilder, pgNames, withQueryBuilder, type PgNames, type PgNamesWithoutBuilder } from './pg-names.js';
import { parsePostgresStorageOptions, type PostgresStorageOptions, type ResolvedPostgresStorageOptions } from './pg-options.js';
import { cancelJob, retryJob } from './queries-cancel-retry.js';
import { claimJobs, nextDueAt, promoteDueJobs } from './queries-claim.js';
import { pgRateWindow } from './claim-reader.js';
import { readEvents } from './queries-events.js';
import { insertJobs } from './queries-insert.js';
import { listJobTypeAudit, loadJobTypeSettings, updateJobTypeSettings } from './queries-job-types.js';
import { advanceSchedule, listScheduleAudit, loadSchedules, updateSchedule } from './queries-schedules.js';
import { acquireLeadership } from './queries-leadership.js';
import { findExpiredLeases, recordProgress, renewLeases, saveCheckpoint } from './queries-lease.js';
import { collectMetrics } from './queries-metrics.js';
import { deleteJob } from './queries-delete.js';
import { pruneJobs, pruneProgressEvents } from './queries-prune.js';
import { getJob, listHistory, listJobs } from './queries-read.js';
import { settleAndClaim, settleJobs } from './queries-settle.js';
import { applyPostgresMigrations } from './schema.js';

export type { PostgresStorageOptions } from './pg-options.js';
export type { ListenerStatus } from './listener.js';

/** The Postgres store: a {@link StorageAdapter} plus diagnostics. */
export interface PostgresStorageAdapter extends StorageAdapter {
  /** The schema holding this store's tables (also its LISTEN/NOTIFY channel). */
  readonly schema: string;
  /** Calls `onNotice` soon after any process commits a new job or an event on this store. */
  subscribe(onNotice: () => void): Promise<() => Promise<void>>;
  /** State of the LISTEN connection (not connected until someone subscribes). */
  listenerStatus(): ListenerStatus;
}

/** Application name of the connections jobwing opens, unless the URL sets one. */
const APPLICATION_NAME = 'jobwing';

// SQLSTATEs meaning the schema is not there (yet): undefined table, schema, function.
const MISSING_SCHEMA = new Set(['42P01', '3F000', '42883']);

class PostgresStorage implements PostgresStorageAdapter {
  readonly capabilities: StorageCapabilities = Object.freeze({ multiProcess: true, pushWake: true, databaseClock: true });
  readonly schema: string;
  readonly #options: ResolvedPostgresStorageOptions;
  readonly #plainNames: PgNamesWithoutBuilder;
  /** Names plus the query builder, once loaded (see {@link loadQueryBuilder}). */
  #names!: PgNames;
  #builder: Promise<void> | null = null;
  readonly #notifier: Notifier;
  #pg: PgModule | null = null;
  #conn: PgConnection | null = null;
  #opening: Promise<PgConnection> | null = null;
  #listener: PgListener | null = null;
  #closed = false;
  /** Random id of this store instance in its NOTIFY payloads. */
  readonly #sender = randomBytes(6).toString('base64url');

  constructor(options: ResolvedPostgresStorageOptions) {
    this.#options = options;
    this.schema = options.schema;
    this.#plainNames = pgNames(options.schema);
    this.#notifier = new Notifier(() => this.#conn, this.#plainNames.channel, this.#sender);
  }

  /** Loads `pg` and creates the pool on first use, so constructing a store touches nothing. */
  #connection(): Promise<PgConnection> {
    if (this.#closed) return Promise.reject(new JobwingError('STORAGE', 'Postgres store is closed'));
    if (this.#conn !== null) return Promise.resolve(this.#conn);
    this.#opening ??= (async () => {
      const pg = await loadPg();
      this.#pg = pg;
      const o = this.#options;
      const pool =
        o.pool ??
        new pg.Pool({ connectionString: o.connectionString ?? undefined, max: o.poolSize, application_name: APPLICATION_NAME, keepAlive: true });
      const conn = new PgConnection(pg, pool, o.pool === null);
      if (this.#closed) {
        await conn.close();
        throw new JobwingError('STORAGE', 'Postgres store is closed');
      }
      this.#conn = conn;
      return conn;
    })().finally(() => (this.#opening = null));
    return this.#opening;
  }

  /** Loads Kysely once; migrations (`plain`) run without it. */
  #queryBuilder(): Promise<void> {
    this.#builder ??= loadQueryBuilder().then((qb) => {
      this.#names = withQueryBuilder(this.#plainNames, qb);
    });
    return this.#builder;
  }

  /**
   * Runs one store operation. Failures become a `STORAGE` error naming the operation; a lost
   * or refused connection says so (the engine retries settles, claims and heartbeats on its
   * own). Reads (`read`) are retried once at once on a lost connection: a pooled connection
   * killed while idle (server restart) is only noticed when used, and the retry gets a fresh
   * one. `plain` operations need no query builder (migrate).
   */
  async #call<T>(operation: string, fn: (conn: PgConnection) => Promise<T>, opts: { read?: boolean; plain?: boolean } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const conn = await this.#connection();
        if (!opts.plain) await this.#queryBuilder();
        return await fn(conn);
      } catch (err) {
        if (err instanceof JobwingError) throw err;
        if (opts.read && attempt === 1 && isConnectionError(err) && !this.#closed) continue;
        throw this.#storageError(operation, err);
      }
    }
  }

  #storageError(operation: string, err: unknown): JobwingError {
    const e = err as { message?: unknown; code?: unknown };
    const message = typeof e?.message === 'string' ? e.message : String(err);
    const code = typeof e?.code === 'string' ? e.code : null;
    if (isConnectionError(err)) {
      return new JobwingError('STORAGE', `Postgres store: ${operation} failed: no connection to Postgres (${message}); the call can be retried`, {
        cause: err,
      });
    }
    const hint = code !== null && MISSING_SCHEMA.has(code) ? '; call migrate() first' : '';
    return new JobwingError('STORAGE', `Postgres store: ${operation} failed: ${message}${code ? ` (${code})` : ''}${hint}`, { cause: err });
  }

  /**
   * Announces a commit to other processes (NOTIFY) and, for new claimable jobs, to this
   * store's own subscribers at once: the listener ignores this store's own notices, and the
   * engine does not wake its scheduler after every write that can make a job claimable (a
   * maintenance promotion, a dependency released by a settle).
   */
  #notify(kind: NoticeKind | null): void {
    if (kind === null) return;
    this.#notifier.notify(kind);
    if (kind === 'jobs') this.#listener?.localNotice();
  }

  async migrate(): Promise<void> {
    await this.#call('migrate', (c) => applyPostgresMigrations(c, this.#plainNames), { plain: true });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notifier.close();
    await this.#listener?.stop();
    const conn = this.#conn ?? (await this.#opening?.catch(() => null)) ?? null;
    this.#conn = null;
    await conn?.close();
  }

  async subscribe(onNotice: () => void): Promise<() => Promise<void>> {
    await this.#connection();
    this.#listener ??= new PgListener(this.#pg!, this.#listenerConfig(), this.#plainNames.channel, this.#sender);
    return this.#listener.subscribe(onNotice);
  }

  listenerStatus(): ListenerStatus {
    return this.#listener?.status ?? { connected: false, reconnects: 0, backendPid: null };
  }

  /** Settings of the LISTEN connection: the listen URL, else the URL or the pool's settings. */
  #listenerConfig(): ClientConfig {
    const o = this.#options;
    const base: ClientConfig = { application_name: APPLICATION_NAME, keepAlive: true };
    if (o.listenConnectionString !== null) return { ...base, connectionString: o.listenConnectionString };
    if (o.connectionString !== null) return { ...base, connectionString: o.connectionString };
    const { max: _max, min: _min, idleTimeoutMillis: _idle, ...clientSettings } = (o.pool as Pool & { options: PoolConfig }).options;
    return { ...clientSettings, keepAlive: true };
  }

  async loadJobTypeSettings(): Promise<Record<string, Partial<JobTypeSettings>>> {
    return this.#call('loadJobTypeSettings', (c) => loadJobTypeSettings(c, this.#names), { read: true });
  }

  async updateJobTypeSettings(req: UpdateJobTypeSettingsRequest): Promise<void> {
    await this.#call('updateJobTypeSettings', (c) => updateJobTypeSettings(c, this.#names, req));
  }

  async listJobTypeAudit(req: AuditByNameRequest): Promise<JobTypeAuditEntry[]> {
    return this.#call('listJobTypeAudit', (c) => listJobTypeAudit(c, this.#names, req), { read: true });
  }

  async insertJobs(req: InsertJobsRequest): Promise<InsertOutcome[]> {
    const notice = { channel: this.#plainNames.channel, payload: this.#notifier.payload('jobs') };
    const r = await this.#call('insertJobs', (c) => insertJobs(c, this.#names, req, notice));
    // New claimable jobs: other processes were notified by the commit itself (queries-insert.ts),
    // and the engine wakes its own scheduler after a submit.
    if (!r.queued) this.#notify(r.written ? 'events' : null);
    return r.outcomes;
  }

  async claimJobs(req: ClaimJobsRequest): Promise<ClaimedJob[]> {
    const r = await this.#call('claimJobs', (c) => claimJobs(c, this.#names, req));
    this.#notify(r.promoted > 0 ? 'jobs' : r.claimed.length > 0 ? 'events' : null);
    return r.claimed;
  }

  async renewLeases(req: RenewLeasesRequest): Promise<RenewLeasesResult> {
    return this.#call('renewLeases', (c) => renewLeases(c, this.#names, req));
  }

  async recordProgress(req: RecordProgressRequest): Promise<FencedWriteResult> {
    const r = await this.#call('recordProgress', (c) => recordProgress(c, this.#names, req));
    if (r.kind === 'written') this.#notify('events');
    return r;
  }

  async saveCheckpoint(req: SaveCheckpointRequest): Promise<FencedWriteResult> {
    return this.#call('saveCheckpoint', (c) => saveCheckpoint(c, this.#names, req));
  }

  async settleJobs(req: SettleJobsRequest): Promise<SettleOutcome[]> {
    const r = await this.#call('settleJobs', (c) => settleJobs(c, this.#names, req));
    this.#notify(r.queued ? 'jobs' : r.written ? 'events' : null);
    return r.outcomes;
  }

  /**
   * Settles, then claims, in ONE transaction and, usually, one statement: a busy worker pays
   * one commit per cycle instead of two. Settles are judged at `claim.now`.
   */
  async settleAndClaim(req: SettleAndClaimRequest): Promise<SettleAndClaimResult> {
    const r = await this.#call('settleAndClaim', (c) => settleAndClaim(c, this.#names, req));
    // Jobs made claimable here (released, promoted, dependents) may suit other workers.
    const wake = r.promoted > 0 || r.settled.queued;
    this.#notify(wake ? 'jobs' : r.settled.written || r.claimed.length > 0 ? 'events' : null);
    return { settled: r.settled.outcomes, claimed: r.claimed };
  }

  async cancelJob(req: CancelJobRequest): Promise<CancelOutcome> {
    const r = await this.#call('cancelJob', (c) => cancelJob(c, this.#names, req));
    this.#notify(r.written ? 'events' : null);
    return r.outcome;
  }

  async retryJob(req: RetryJobRequest): Promise<RetryOutcome> {
    const r = await this.#call('retryJob', (c) => retryJob(c, this.#names, req));
    this.#notify(r.queued ? 'jobs' : r.outcome.kind === 'requeued' ? 'events' : null);
    return r.outcome;
  }

  async promoteDueJobs(req: DueBatchRequest): Promise<number> {
    const promoted = await this.#call('promoteDueJobs', (c) => promoteDueJobs(c, this.#names, req));
    this.#notify(promoted > 0 ? 'jobs' : null);
    return promoted;
  }

  async findExpiredLeases(req: DueBatchRequest): Promise<ExpiredLease[]> {
    return this.#call('findExpiredLeases', (c) => findExpiredLeases(c, this.#names, req), { read: true });
  }

  async pruneJobs(req: PruneJobsRequest): Promise<number> {
    return this.#call('pruneJobs', (c) => pruneJobs(c, this.#names, req));
  }

  async pruneProgressEvents(req: PruneProgressEventsRequest): Promise<number> {
    return this.#call('pruneProgressEvents', (c) => pruneProgressEvents(c, this.#names, req));
  }

  async deleteJob(req: DeleteJobRequest): Promise<DeleteJobOutcome> {
    return this.#call('deleteJob', (c) => deleteJob(c, this.#names, req));
  }

  async getJob(req: GetJobRequest): Promise<Job | null> {
    return this.#call('getJob', (c) => getJob(c, this.#names, req), { read: true });
  }

  async listJobs(req: ListJobsRequest): Promise<{ items: Job[]; nextCursor: string | null }> {
    return this.#call('listJobs', (c) => listJobs(c, this.#names, req), { read: true });
  }

  async getLease(req: JobIdRequest): Promise<LeaseInfo | null> {
    return this.#call(
      'getLease',
      async (c) => {
        const [row] = await c.query<{ lease_owner: string | null; lease_expires_at: string | null }>({
          sql: `SELECT lease_owner, lease_expires_at FROM ${this.#names.jobs} WHERE id = $1 AND status = 'running'`,
          parameters: [req.jobId],
        });
        return row ? { owner: row.lease_owner, expiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at) } : null;
      },
      { read: true },
    );
  }

  async getRateWindow(req: RateWindowRequest): Promise<RateWindow> {
    return this.#call('getRateWindow', (c) => pgRateWindow(c, this.#names, req.type, req.orgId, req.since), { read: true });
  }

  async listHistory(req: JobIdRequest): Promise<JobHistoryEntry[]> {
    return this.#call('listHistory', (c) => listHistory(c, this.#names, req), { read: true });
  }

  async nextDueAt(): Promise<number | null> {
    return this.#call('nextDueAt', (c) => nextDueAt(c, this.#names), { read: true });
  }

  async collectMetrics(req: CollectMetricsRequest): Promise<Metrics> {
    return this.#call('collectMetrics', (c) => collectMetrics(c, this.#names, req), { read: true });
  }

  async readEvents(req: ReadEventsRequest): Promise<ReadEventsResult> {
    return this.#call('readEvents', (c) => readEvents(c, this.#names, req), { read: true });
  }

  // ── schedules (issue 11) ──
  async loadSchedules(): Promise<StoredSchedule[]> {
    return this.#call('loadSchedules', (c) => loadSchedules(c, this.#names), { read: true });
  }

  async updateSchedule(req: UpdateScheduleRequest): Promise<void> {
    await this.#call('updateSchedule', (c) => updateSchedule(c, this.#names, req));
  }

  async advanceSchedule(req: AdvanceScheduleRequest): Promise<void> {
    await this.#call('advanceSchedule', (c) => advanceSchedule(c, this.#names, req));
  }

  async listScheduleAudit(req: AuditByNameRequest): Promise<ScheduleAuditEntry[]> {
    return this.#call('listScheduleAudit', (c) => listScheduleAudit(c, this.#names, req), { read: true });
  }

  async acquireLeadership(req: AcquireLeadershipRequest): Promise<boolean> {
    return this.#call('acquireLeadership', (c) => acquireLeadership(c, this.#names, req));
  }
}

/**
 * Creates the Postgres store. Validates options at once; loads `pg` and connects lazily on
 * first use (normally `migrate()` from `engine.start()`).
 *
 * capabilities: `multiProcess` (any number of processes on any hosts), `pushWake` (LISTEN/
 * NOTIFY: a submit wakes idle workers everywhere, events reach every engine at once), and
 * `databaseClock` (lease expiry is judged by the database clock, not the `now` of a process).
 *
 * A pool created from `connectionString` is ended by `close()`; a `pool` you pass in is not.
 * Errors on idle pooled connections (a restarted server) never crash the process; a call that
 * fails on a lost connection rejects with a `STORAGE` error saying so.
 *
 * @throws ValidationError naming the bad option (e.g. `schema`, or neither/both of
 *   `connectionString` and `pool`).
 * @example
 * ```ts
 * import { JobEngine } from 'jobwing';
 * import { postgresStorage } from 'jobwing/postgres';
 *
 * const engine = new JobEngine({
 *   jobTypes: [sendReport],
 *   storage: postgresStorage({ connectionString: process.env.DATABASE_URL, schema: 'jobwing', poolSize: 10 }),
 * });
 * await engine.start();
 * ```
 */
export function postgresStorage(options: PostgresStorageOptions): PostgresStorageAdapter {
  return new PostgresStorage(parsePostgresStorageOptions(options));
}
