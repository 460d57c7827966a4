/**
 * THE storage seam: the only door to data. Every store (SQLite, Postgres, a third party's)
 * implements {@link StorageAdapter}; the engine never sees SQL, transactions or drivers.
 *
 * Rules every store MUST follow:
 * - Each method is atomic: it commits entirely or not at all.
 * - Every write that changes a job's status appends exactly one history entry per transition,
 *   in the same transaction as the change.
 * - Time comes in as `now` (epoch ms). Stores never read the wall clock, except a store whose
 *   `capabilities.databaseClock` is true, which judges lease expiry by the database clock.
 * - Writes of a running attempt are fenced by `(jobId, attempt)`: `attempt` is the job's
 *   monotonic attempt counter set by the claim. A write whose job is no longer `running` with
 *   that attempt is refused (`lease_lost`) and changes nothing.
 * - Claims order by priority rank, then `runAt`, then submission order (`seq`).
 * - JSON payloads arrive already serialized (`…Json`) and size-checked by the engine.
 *
 * Each method below states its own MUST. The conformance kit (`jobwing/testing/conformance`,
 * src/testing/conformance/) proves them: its group titles quote these MUSTs word for word, so
 * a change of wording here is a change there.
 */
import type { ErrorType, JobStatus, Priority } from '../states.js';
import type { Job, JobError, JobHistoryEntry, JobProgressEvent, JobStatusEvent, JobTypeSettings, Metrics } from '../types.js';

/** What a store can do; the engine (and tests) branch on these, never on a store's name. */
export interface StorageCapabilities {
  // `capabilities` MUST tell the truth about the store: the engine and the kit branch on them, never on a store's name.
  /** Several processes may share this store (SQLite file, Postgres). False for `:memory:`. */
  readonly multiProcess: boolean;
  /** The store calls `subscribe` listeners when another process writes (LISTEN/NOTIFY). */
  readonly pushWake: boolean;
  /** Lease expiry is judged by the database clock instead of the `now` passed in. */
  readonly databaseClock: boolean;
}

/** A job to insert, built and validated by the engine. */
export interface NewJob {
  id: string;
  type: string;
  orgId: string;
  ownerId: string;
  priority: Priority;
  /** The validated input, returned as-is in the inserted {@link Job}. */
  input: unknown;
  /** `JSON.stringify(input)`, stored. */
  inputJson: string;
  maxRetries: number;
  timeoutMs: number;
  /** Due time (epoch ms). `runAt > now` makes the job `scheduled` (or `waiting` on parents). */
  runAt: number;
  /** Parent job ids, deduplicated; every one MUST exist in `orgId`. */
  dependsOn: string[];
  dedupHash: string | null;
  /**
   * When > 0: reject the job as `duplicate` if a job of the same `orgId` with the same
   * `dedupHash` created after `now - dedupWindowMs` exists whose status is not
   * canceled/dead_letter. Within one batch, a later identical job is a duplicate of the
   * earlier one. MUST hold across processes. Org-scoped in the store as well as in the hash
   * (the engine folds the org into it), so dedup never crosses tenants (S4).
   */
  dedupWindowMs: number;
  /**
   * Trace context of the submit that created the job (W3C `traceparent`, optionally followed
   * by a newline and the `tracestate`), set by `jobwing/otel`; stored as is. Optional: stores
   * written before it existed ignore it.
   */
  traceContext?: string | null;
}

/** Request of {@link StorageAdapter.insertJobs}. */
export interface InsertJobsRequest {
  jobs: NewJob[];
  /** Actor recorded in the creation history entries. */
  actorId: string;
  now: number;
  /**
   * true: all or nothing (submitMany). If any job is rejected, nothing is written and every
   * job that would have been inserted reports `{ kind: 'not_written' }`.
   * false: each job stands alone (group commit of independent submits).
   */
  atomic: boolean;
}

/** Per-job result of an insert, in request order. */
export type InsertOutcome =
  /**
   * Written. Initial status: `canceled` (error `dependency_failed`) if a parent is canceled or
   * dead_letter; else `waiting` if a parent is not completed; else `scheduled` if
   * `runAt > now`; else `queued`. One history entry `null → status`, attempt 0.
   */
  | { kind: 'inserted'; job: Job }
  | { kind: 'duplicate'; existingJobId: string }
  /** A parent id does not exist in the job's org. */
  | { kind: 'parent_not_found'; parentId: string }
  /** Atomic batch rejected because of another job in it. */
  | { kind: 'not_written' };

/** Request of the reads of one job by id ({@link StorageAdapter.listHistory}, {@link StorageAdapter.getLease}): no org scope, the engine checked it. */
export interface JobIdRequest {
  jobId: string;
}

/** Request of the audit trails of one job type or schedule ({@link StorageAdapter.listJobTypeAudit}, {@link StorageAdapter.listScheduleAudit}). */
export interface AuditByNameRequest {
  name: string;
}

/** Request of {@link StorageAdapter.claimJobs}. */
export interface ClaimJobsRequest {
  /** Identifies the claiming engine (recorded as `lease_owner` and history actor). */
  workerId: string;
  /** Only jobs of these types are claimed (the types this worker can run). */
  types: readonly string[];
  /** At most this many jobs. */
  limit: number;
  now: number;
  leaseMs: number;
  /**
   * Before claiming, promote up to this many due `scheduled`/`retrying` jobs to `queued`
   * (with history, exactly as {@link StorageAdapter.promoteDueJobs}) in the same transaction,
   * so a job due by `now` can be claimed by this very claim, in claim order, at no extra
   * commit. Absent or 0: the claim promotes nothing.
   */
  promoteDue?: number;
  /**
   * Flow-control settings of the `types` that have any (absent: none). The store MUST enforce
   * them inside the claim, so they hold across every process on the store; see
   * {@link ClaimTypeLimits}. A job held back by them stays `queued` and uses no attempt.
   */
  limits?: readonly ClaimTypeLimits[];
  /**
   * Order among orgs within one priority level (absent: 'none').
   * - 'none': claim order (priority rank, runAt, seq).
   * - 'org': within one priority level, orgs are served in turn (round-robin in org id order,
   *   continuing after the org served last); each org's jobs in runAt, seq order. Priority
   *   still wins across levels. The store MUST keep this an indexed lookup.
   */
  fairness?: 'org' | 'none';
}

/**
 * Limits of one job type, as the claim enforces them. Counts of running attempts MUST come
 * from the jobs table (status 'running'), so a slot comes back as soon as its attempt ends,
 * however it ends (settled, released, or rescued after a crash); and a store MUST serialize
 * claims of a limited type (e.g. a lock) so that concurrent claims never exceed a cap.
 */
export interface ClaimTypeLimits {
  type: string;
  /** Nothing of this type is claimed. */
  paused: boolean;
  /** At most this many of the type `running` at once across the store (null: unlimited). */
  concurrency: number | null;
  /** At most this many of the type `running` at once per org (null: unlimited). */
  concurrencyPerOrg: number | null;
  /**
   * At most `max` attempts START (are claimed) in any `perMs` ending at the claim's `now`, for
   * the type or per org; every start counts, also a second start of one job in the window
   * (the built-in stores keep a start log, see sql/claim-plan.ts `startsToLog`; null: no limit).
   */
  rateLimit?: RateLimit | null;
}

/** Starts per sliding window. */
export interface RateLimit {
  max: number;
  perMs: number;
  scope: 'type' | 'org';
}

/** A job claimed for one attempt. */
export interface ClaimedJob {
  /** The job after the claim: `running`, `startedAt = now`, `attempt` incremented. */
  job: Job;
  /** Fencing token of this attempt: the job's monotonic attempt counter (1 for the first). */
  attempt: number;
  /** The job's stored {@link NewJob.traceContext}, if any. */
  traceContext?: string | null;
}

/** Request of {@link StorageAdapter.renewLeases}. */
export interface RenewLeasesRequest {
  workerId: string;
  leases: { jobId: string; attempt: number }[];
  now: number;
  leaseMs: number;
}

/** Result of a heartbeat: each lease is renewed, canceled (abort the handler), or lost. */
export interface RenewLeasesResult {
  renewed: string[];
  /** The job was canceled while running this attempt. */
  canceled: string[];
  /** The job is no longer running this attempt (rescued, settled elsewhere, deleted). */
  lost: string[];
}

/** Request of {@link StorageAdapter.recordProgress}. */
export interface RecordProgressRequest {
  jobId: string;
  attempt: number;
  progress: number;
  message: string | null;
  now: number;
}

/** Request of {@link StorageAdapter.updateJobTypeSettings}. */
export interface UpdateJobTypeSettingsRequest {
  name: string;
  changes: Partial<JobTypeSettings>;
  actorId: string;
  now: number;
}

/** Request of {@link StorageAdapter.settleJobs}. */
export interface SettleJobsRequest {
  settles: SettleRequest[];
  now: number;
}

/** Request of {@link StorageAdapter.settleAndClaim}. */
export interface SettleAndClaimRequest {
  settles: SettleRequest[];
  claim: ClaimJobsRequest;
}

/** Result of {@link StorageAdapter.settleAndClaim}. */
export interface SettleAndClaimResult {
  settled: SettleOutcome[];
  claimed: ClaimedJob[];
}

/** Request of {@link StorageAdapter.insertAndClaim}. */
export interface InsertAndClaimRequest {
  insert: InsertJobsRequest;
  /** Made after the insert, in its transaction (its `now` is the insert's `now` or later). */
  claim: ClaimJobsRequest;
}

/** Result of {@link StorageAdapter.insertAndClaim}. */
export interface InsertAndClaimResult {
  inserted: InsertOutcome[];
  claimed: ClaimedJob[];
}

/** Request of {@link StorageAdapter.pruneJobs}. */
export interface PruneJobsRequest {
  finishedBefore: number;
  limit: number;
}

/** Request of {@link StorageAdapter.getJob}. */
export interface GetJobRequest {
  id: string;
  orgId: string | null;
}

/** Request of {@link StorageAdapter.getRateWindow}. */
export interface RateWindowRequest {
  type: string;
  orgId: string | null;
  since: number;
}

/** Request of {@link StorageAdapter.collectMetrics}. */
export interface CollectMetricsRequest {
  orgId: string | null;
  since: number;
  now: number;
}

/** Request of {@link StorageAdapter.readEvents}. */
export interface ReadEventsRequest {
  after: EventCursor | null;
  limit: number;
}

/** Result of {@link StorageAdapter.readEvents}. */
export interface ReadEventsResult {
  events: StoreEvent[];
  cursor: EventCursor;
  cursors?: EventCursor[];
}

/** Request of {@link StorageAdapter.acquireLeadership}. */
export interface AcquireLeadershipRequest {
  name: string;
  ownerId: string;
  now: number;
  ttlMs: number;
}

/** Request of {@link StorageAdapter.promoteDueJobs} and {@link StorageAdapter.findExpiredLeases}: `now` and at most `limit` jobs. */
export interface DueBatchRequest {
  now: number;
  limit: number;
}

/** Request of {@link StorageAdapter.updateSchedule}. */
export interface UpdateScheduleRequest {
  name: string;
  enabled: boolean;
  actorId: string;
  now: number;
}

/** Request of {@link StorageAdapter.advanceSchedule}. */
export interface AdvanceScheduleRequest {
  name: string;
  cursorAt: number;
  lastRunAt: number | null;
  lastJobId: string | null;
  now: number;
}

/** Result of {@link StorageAdapter.getLease}: the lease holder and its expiry (epoch ms). */
export interface LeaseInfo {
  owner: string | null;
  expiresAt: number | null;
}

/** Result of {@link StorageAdapter.getRateWindow}: starts in the window and the oldest one. */
export interface RateWindow {
  starts: number;
  oldest: number | null;
}

/** Request of {@link StorageAdapter.pruneProgressEvents}. */
export interface PruneProgressEventsRequest {
  /** Events recorded before this time (epoch ms) go. */
  before: number;
  /** At most this many per call (oldest first). */
  limit: number;
}

/**
 * Result of a fenced write of one running attempt ({@link StorageAdapter.recordProgress},
 * {@link StorageAdapter.saveCheckpoint}): written, or refused because that attempt no longer
 * holds the job (nothing changed).
 */
export type FencedWriteResult = { kind: 'written' } | { kind: 'lease_lost' };

/** The two {@link FencedWriteResult} values (shared, so a hot path allocates nothing). */
export const WRITTEN: FencedWriteResult = Object.freeze({ kind: 'written' });
export const LEASE_LOST: FencedWriteResult = Object.freeze({ kind: 'lease_lost' });

/** Request of {@link StorageAdapter.saveCheckpoint}. */
export interface SaveCheckpointRequest {
  jobId: string;
  attempt: number;
  checkpointJson: string;
  now: number;
}

/** How an attempt ended. */
export type AttemptOutcome =
  /** Completed: → `completed` with `output` and `completedAt = now`; the lease is gone. */
  | { kind: 'completed'; output: unknown; outputJson: string }
  /**
   * Failed. `retryAt` set: → `retrying` (retryCount + 1, nextRetryAt = runAt = retryAt).
   * `retryAt` null: → `dead_letter`, and waiting dependents are canceled (`dependency_failed`).
   */
  | { kind: 'failed'; error: JobError; retryAt: number | null }
  /** Handed back (graceful shutdown): `running → queued`, retryCount unchanged. */
  | { kind: 'released'; message: string }
  // ── snooze (issue 11) ──
  /**
   * The handler threw `SnoozeError`. MUST: `running → scheduled` with `runAt`, always
   * `scheduled` even when `runAt <= now` (the next promotion makes it queued); `retryCount`,
   * `checkpoint`, `progress` and `error` unchanged; `nextRetryAt` cleared; lease cleared; one
   * history entry `running → scheduled` whose message is `message`. Fenced like the others.
   */
  | { kind: 'snoozed'; runAt: number; message: string };

/** One settle of {@link StorageAdapter.settleJobs}. */
export interface SettleRequest {
  jobId: string;
  attempt: number;
  outcome: AttemptOutcome;
  /** History actor, e.g. `engine:<workerId>`. */
  actorId: string;
  /** Rescuer only: settle only if the lease has expired (judged at `now` or by the DB clock). */
  onlyIfLeaseExpired?: boolean;
}

/** Per-settle result, in request order. */
export type SettleOutcome =
  /** `transitions` lists every status change made, the job's own first, then dependents'. */
  | { kind: 'settled'; job: Job; transitions: number }
  | { kind: 'lease_lost' };

/** Request of {@link StorageAdapter.cancelJob}. */
export interface CancelJobRequest {
  jobId: string;
  /** Restrict to one org; `null` for admins. */
  orgId: string | null;
  actorId: string;
  now: number;
}

/** Result of a cancel. A canceled running job keeps its lease fields so its worker learns of it. */
export type CancelOutcome =
  | { kind: 'canceled'; job: Job }
  | { kind: 'invalid_state'; status: JobStatus }
  | { kind: 'not_found' };

/** Request of {@link StorageAdapter.retryJob}. */
export interface RetryJobRequest {
  jobId: string;
  orgId: string | null;
  actorId: string;
  now: number;
}

/**
 * Result of an admin retry: `dead_letter|canceled → queued` (or `waiting` while a parent is
 * not completed), retryCount 0, error/nextRetryAt/canceledAt/canceledBy/completedAt cleared.
 * `parent_failed`: a parent is canceled/dead_letter, retry the parent first.
 */
export type RetryOutcome =
  | { kind: 'requeued'; job: Job }
  | { kind: 'invalid_state'; status: JobStatus }
  | { kind: 'parent_failed'; parentId: string }
  | { kind: 'not_found' };

/** Request of {@link StorageAdapter.deleteJob}. */
export interface DeleteJobRequest {
  jobId: string;
  /** Restrict to one org; `null` for admins. */
  orgId: string | null;
}

/** Result of deleting one job. */
export type DeleteJobOutcome =
  | { kind: 'deleted' }
  /** The job is live (not completed, canceled or dead_letter): nothing was deleted. */
  | { kind: 'invalid_state'; status: JobStatus }
  | { kind: 'not_found' };

/** An attempt whose lease expired, found by {@link StorageAdapter.findExpiredLeases}. */
export interface ExpiredLease {
  job: Job;
  attempt: number;
}

/** Filters of {@link StorageAdapter.listJobs}; `orgId: null` means every org. */
export interface ListJobsRequest {
  orgId: string | null;
  statuses: JobStatus[] | null;
  types: string[] | null;
  ownerId: string | null;
  /** Inclusive lower bound of `createdAt` (epoch ms). */
  createdAfter: number | null;
  /** Exclusive upper bound of `createdAt` (epoch ms). */
  createdBefore: number | null;
  limit: number;
  /**
   * Opaque cursor returned by a previous call. Order: createdAt desc, then seq desc.
   * A malformed cursor is rejected with a `ValidationError` naming `cursor`.
   */
  cursor: string | null;
}

/** Event cursor: opaque to the engine. */
export type EventCursor = string;

/** An event read from the store's event tail. */
export type StoreEvent =
  | { kind: 'status'; event: JobStatusEvent }
  | { kind: 'progress'; event: JobProgressEvent };

/** A stored admin change of a job type. */
export interface JobTypeAuditEntry {
  name: string;
  actorId: string;
  at: Date;
  changes: Partial<JobTypeSettings>;
}

// ── schedules (issue 11) ──
/** The stored state of one recurring schedule (its definition lives in the engine options). */
export interface StoredSchedule {
  name: string;
  /** Set by an admin; `null` means never changed (the definition's default, enabled). */
  enabled: boolean | null;
  /** Every tick at or before this instant (epoch ms) has been handled; `null`: never handled. */
  cursorAt: number | null;
  /** Fire time of the last tick that produced a job, and that job's id. */
  lastRunAt: number | null;
  lastJobId: string | null;
}

/** A stored admin change of a schedule. */
export interface ScheduleAuditEntry {
  name: string;
  actorId: string;
  at: Date;
  changes: { enabled?: boolean };
}

/** The contract every store implements. See the module comment for the rules. */
export interface StorageAdapter {
  readonly capabilities: StorageCapabilities;

  /**
   * Creates or upgrades the schema. Idempotent; safe when many processes call it at once.
   * MUST: `migrate` MUST be idempotent and safe when many processes call it at once.
   */
  migrate(): Promise<void>;
  /** Releases connections and handles. MUST be idempotent and leave no timer or connection behind. */
  close(): Promise<void>;

  // ── job types ────────────────────────────────────────────────────────────────
  /** MUST return every stored override, by type name ({} when none). */
  loadJobTypeSettings(): Promise<Record<string, Partial<JobTypeSettings>>>;
  /** MUST: Merges `changes` into the stored override of `name` and appends an audit entry, atomically. */
  updateJobTypeSettings(req: UpdateJobTypeSettingsRequest): Promise<void>;
  /** MUST return the audit trail of one type, oldest first ([] for an unknown type). */
  listJobTypeAudit(req: AuditByNameRequest): Promise<JobTypeAuditEntry[]>;

  // ── jobs: writes ─────────────────────────────────────────────────────────────
  /**
   * MUST: `insertJobs` MUST write each accepted job with its initial status (see `InsertOutcome`) and one history entry `null → status` (attempt 0, the request's actor), and return it exactly as `getJob` reads it.
   * Outcomes come in request order; see {@link NewJob.dedupWindowMs} and {@link InsertJobsRequest.atomic}.
   */
  insertJobs(req: InsertJobsRequest): Promise<InsertOutcome[]>;
  /**
   * Optional fast path: `insertJobs` then `claimJobs` in ONE transaction, so a submit to an
   * engine with a free slot pays one commit (one fsync) before its handler starts, not two.
   * The claim is an ordinary claim (claim order, limits), so a new job is claimed only when it
   * is next in line. An atomic insert that writes nothing claims nothing.
   * MUST: a store that offers insertAndClaim gives exactly the semantics of the two calls.
   */
  insertAndClaim?(req: InsertAndClaimRequest): Promise<InsertAndClaimResult>;
  /**
   * Claims up to `limit` `queued` jobs of `types` in claim order: `running`, attempt + 1,
   * `startedAt = now`, lease owner `workerId`, lease expiry `now + leaseMs`. No job is ever
   * claimed twice. Promotes due jobs first only when asked ({@link ClaimJobsRequest.promoteDue}).
   * MUST: all of the above, in claim order (see the module rules), across processes.
   */
  claimJobs(req: ClaimJobsRequest): Promise<ClaimedJob[]>;
  /**
   * MUST extend to `now + leaseMs` each lease whose job is still running that attempt, and
   * report each lease as renewed, canceled or lost (see {@link RenewLeasesResult}). Fenced.
   */
  renewLeases(req: RenewLeasesRequest): Promise<RenewLeasesResult>;
  /**
   * Stores progress on the job and appends a progress event. Fenced.
   * MUST: `recordProgress` MUST store progress on the job and append a progress event; `saveCheckpoint` MUST store the checkpoint on the job, durable when it resolves. Both fenced.
   */
  recordProgress(req: RecordProgressRequest): Promise<FencedWriteResult>;
  /** Stores the checkpoint on the job. Fenced; durable when it resolves. MUST: as {@link recordProgress} states. */
  saveCheckpoint(req: SaveCheckpointRequest): Promise<FencedWriteResult>;
  /**
   * Ends attempts, one transaction for the batch, each settle fenced on its own. Completion
   * releases `waiting` dependents whose parents are now all completed (to `scheduled` if their
   * runAt is later than now, else `queued`); dead_letter cascades cancel to waiting dependents.
   * MUST: all of the above; outcomes in request order (see {@link AttemptOutcome}).
   */
  settleJobs(req: SettleJobsRequest): Promise<SettleOutcome[]>;
  /**
   * Optional fast path: `settleJobs` then `claimJobs` in ONE transaction, so a busy worker
   * pays one commit (one fsync) per cycle instead of two. Same semantics as the two calls.
   * MUST: a store that offers it gives exactly that.
   */
  settleAndClaim?(req: SettleAndClaimRequest): Promise<SettleAndClaimResult>;
  /**
   * Cancels a live job (and, transitively, its waiting dependents with `dependency_failed`).
   * MUST: `cancelJob` MUST cancel a live job (waiting, scheduled, queued, retrying or running) with one history entry, and refuse a finished one (`invalid_state`, nothing changed).
   */
  cancelJob(req: CancelJobRequest): Promise<CancelOutcome>;
  /** MUST requeue as {@link RetryOutcome} states, org-scoped like {@link cancelJob}. */
  retryJob(req: RetryJobRequest): Promise<RetryOutcome>;
  /**
   * Promotes due scheduled/retrying jobs to queued; returns how many. For non-worker engines.
   * MUST: `promoteDueJobs` MUST promote only due scheduled/retrying jobs to queued, at most `limit`, and return how many; `nextDueAt` MUST return the earliest `runAt` of a scheduled/retrying job, or null.
   */
  promoteDueJobs(req: DueBatchRequest): Promise<number>;
  /** MUST return: Running attempts whose lease expired before `now` (or the DB clock), oldest first. At most `limit`. */
  findExpiredLeases(req: DueBatchRequest): Promise<ExpiredLease[]>;
  /**
   * Deletes up to `limit` completed/canceled/dead_letter jobs whose `updatedAt` is before
   * `finishedBefore`, with their history, dependency rows and progress events. Never a live
   * job. Returns how many jobs were deleted.
   * MUST: all of the above; a parent pruned while dependents wait counts as completed.
   */
  pruneJobs(req: PruneJobsRequest): Promise<number>;
  /**
   * Trims the progress-event tail (the cross-process feed of `job:progress`): deletes up to
   * `limit` progress events recorded before `before`, oldest first; returns how many.
   * MUST: delete only progress events older than `before`, at most `limit`, oldest first; never a job, its history or its stored progress value.
   */
  pruneProgressEvents(req: PruneProgressEventsRequest): Promise<number>;
  /**
   * Deletes one finished job (e.g. a data-erasure request). MUST: in one transaction, check
   * the job's status and, only if it is completed, canceled or dead_letter, delete the job
   * with its history, progress events and dependency rows (as child and as parent), so no
   * trace of it is left in reads or the event tail. A live job is never deleted
   * (`invalid_state`, nothing changed), including one that a concurrent retry is requeuing.
   */
  deleteJob(req: DeleteJobRequest): Promise<DeleteJobOutcome>;

  // ── jobs: reads ──────────────────────────────────────────────────────────────
  /** MUST return the job as stored, or null when it does not exist in `orgId` (`null`: any org). */
  getJob(req: GetJobRequest): Promise<Job | null>;
  /** MUST apply every filter of {@link ListJobsRequest}, in its order, with a cursor that stays stable under inserts. */
  listJobs(req: ListJobsRequest): Promise<{ items: Job[]; nextCursor: string | null }>;
  /**
   * Optional (MAY be omitted). When present it MUST return the lease of a running job (owner,
   * expiry in epoch ms; on a databaseClock store, by the database clock), or null.
   * `explain()` reports the holder and its last heartbeat.
   */
  getLease?(req: JobIdRequest): Promise<LeaseInfo | null>;
  /**
   * Optional (MAY be omitted). When present it MUST return the starts a rate limit counts:
   * claims of `type` (and `orgId` when given) at or after `since`, and the earliest of them.
   * `explain()` reports when the window resets.
   */
  getRateWindow?(req: RateWindowRequest): Promise<RateWindow>;
  /** MUST return: Every transition of a job, oldest first. None for an unknown job. */
  listHistory(req: JobIdRequest): Promise<JobHistoryEntry[]>;
  /** MUST return the earliest `runAt` of a scheduled/retrying job (epoch ms), or null. Lets the scheduler sleep exactly. */
  nextDueAt(): Promise<number | null>;
  /**
   * MUST: `collectMetrics` MUST report every status and priority (zeros included) for `orgId` (every org when null) as of `now`, and processing times (nearest-rank p95) and failure rates by type of the attempts that ended since `since`.
   */
  collectMetrics(req: CollectMetricsRequest): Promise<Metrics>;

  // ── schedules (issue 11) ─────────────────────────────────────────────────────
  // Optional so stores written before them keep compiling; an engine given `schedules`
  // refuses (ValidationError) a store without all four.
  /** MUST return every stored schedule state (also of schedules no longer defined; the engine ignores those). */
  loadSchedules?(): Promise<StoredSchedule[]>;
  /**
   * Admin change. MUST, atomically: upsert `enabled` of `name` and append an audit entry; when
   * the schedule goes from disabled to enabled, also set `cursorAt = now`, so the ticks of the
   * disabled time are skipped, not caught up.
   */
  updateSchedule?(req: UpdateScheduleRequest): Promise<void>;
  /**
   * Records handled ticks. MUST, atomically and across processes: create the row if absent;
   * `cursorAt` only moves forward (`max(stored, given)`); `lastRunAt`/`lastJobId` are replaced
   * only when `lastRunAt` is given and later than the stored one. So a late writer (an engine
   * that lost the schedules lease mid-tick) can never move a schedule back.
   */
  advanceSchedule?(req: AdvanceScheduleRequest): Promise<void>;
  /** MUST return the audit trail of one schedule, oldest first. */
  listScheduleAudit?(req: AuditByNameRequest): Promise<ScheduleAuditEntry[]>;

  // ── cross-process ────────────────────────────────────────────────────────────
  /**
   * Events committed after `after`, in commit order (status events of one job in the order of
   * its transitions), at most `limit`. `after: null` returns no events and the cursor of the
   * current end, so a new engine starts from now. `cursors[i]`, when given, is the position
   * right after `events[i]` (resuming there yields exactly the events after it): Server-Sent
   * Events use it as each event's id. Without it, readers that need per-event positions read
   * one event at a time.
   * MUST: all of the above; the events of a deleted or pruned job are gone with it.
   */
  readEvents(req: ReadEventsRequest): Promise<ReadEventsResult>;
  /**
   * pushWake stores only: calls `onNotice` soon after another process commits a new job or an
   * event. Returns an unsubscribe function.
   * MUST: a store whose `capabilities.pushWake` is true implements it as stated.
   */
  subscribe?(onNotice: () => void): Promise<() => Promise<void>>;
  /**
   * Maintenance leadership: returns true when `ownerId` holds (or now acquires, or renews)
   * the named lease until `now + ttlMs`.
   * MUST: `acquireLeadership` MUST be exclusive: while one owner holds a name's unexpired lease, no other owner acquires it, even from another process; its holder renews it.
   */
  acquireLeadership(req: AcquireLeadershipRequest): Promise<boolean>;
}

/** Re-exported for stores. */
export type { ErrorType, JobStatus, Priority };
