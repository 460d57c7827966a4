/**
 * JobClient: the verbs users call, scoped to one actor. Every check of org and permission
 * happens here, before the store is touched; a non-admin's view holds only its own org, and
 * another org's job id behaves exactly like an id that does not exist.
 */
import type { AnyJobType, CheckpointOf, InputOf, NameOf, OutputOf, ParsedInputOf, TypeByName } from './define-job-type.js';
import {
  DuplicateJobError,
  InvalidStateError,
  JobNotFoundError,
  PermissionDeniedError,
  ValidationError,
} from './errors.js';
import type { JobwingEvents, SafeEmitter } from './events.js';
import { INSTRUMENTATION, type Instrumentation } from './instrumentation.js';
import type { JobRegistry } from './registry.js';
import type { Clock } from './clock.js';
import { pruneFinishedJobs } from './maintenance/pruner.js';
import type { InsertOutcome, NewJob, StorageAdapter } from './storage/adapter.js';
import { checkString } from './json-faithful.js';
import { prepareSubmission, type Submitter } from './submission.js';
import { explainJob, type JobExplanation } from './explain.js';
import type { ScheduleRunner } from './schedules/schedule-runner.js';
import type { ScheduleChanges, ScheduleInfo } from './schedules/schedule-info.js';
import { waitForJob, waitForOptionsSchema, type WaitForOptions } from './wait-for.js';
import type {
  Actor,
  Job,
  JobEventPage,
  JobEventRecord,
  JobHistoryEntry,
  JobPage,
  JobTypeInfo,
  JobTypeSettings,
  JobTypeSettingsChange,
  ListOptions,
  Metrics,
  MetricsOptions,
  ReadEventsOptions,
  SubmitOptions,
} from './types.js';
import { cleanupOptionsSchema, listOptionsSchema, metricsOptionsSchema, parseOrThrow, readEventsOptionsSchema } from './validation.js';

/** A job id that remembers its job type, so `get(id)` is typed without generics. */
export type JobId<N extends string = string> = string & { readonly __jobType?: N };

/** A job of one of the types in `T`, discriminated by `type`. */
export type TypedJob<T extends AnyJobType> = T extends AnyJobType
  ? Omit<Job<ParsedInputOf<T>, OutputOf<T>, CheckpointOf<T>>, 'id' | 'type'> & { id: JobId<T['name']>; type: T['name'] }
  : never;

/** One entry of `submitMany`. */
export type SubmitManyEntry<T extends AnyJobType> = T extends AnyJobType
  ? { type: T['name']; input: InputOf<T>; options?: SubmitOptions }
  : never;

/** What a client needs from its engine. */
export interface EngineCore {
  readonly storage: StorageAdapter;
  readonly registry: JobRegistry;
  readonly clock: Clock;
  readonly emitter: SafeEmitter;
  readonly payloadLimitBytes: number;
  /** Counters, and spans under jobwing/otel. */
  readonly instrumentation: Instrumentation;
  assertStarted(): void;
  /** Inserts one job through the group-commit queue. */
  insertOne(job: NewJob, actorId: string): Promise<InsertOutcome>;
  /** Aborts the attempt of `jobId` if it runs in this process. */
  abortLocal(jobId: string): void;
  /** Resolves when every claim this engine sent to the store before the call is back. */
  claimsSentBefore(): Promise<void>;
  /** Calls `fn` once when the engine begins to stop; returns an unsubscribe function. */
  onStop(fn: () => void): () => void;
  /** The engine's lease length and whether it is a worker, for `explain()`. */
  readonly leaseMs: number;
  readonly worker: boolean;
  /** The engine's recurring schedules (issue 11). */
  schedules(): ScheduleRunner;
}

const MAX_ID_LENGTH = 100;

/** The scoped verbs. Get one with `engine.as(actor)` or use `engine.system`. */
// The default is `any` on purpose: a bare `JobClient` annotation (e.g. a function taking any
// engine) must accept an engine of any job types; typed code keeps the inferred `T`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class JobClient<T extends AnyJobType = any> {
  /** The actor every call of this client acts as. */
  readonly actor: Readonly<Actor>;
  readonly #core: EngineCore;
  readonly #submitter: Submitter;

  /** @internal Use `engine.as(actor)` or `engine.system`. */
  constructor(core: EngineCore, actor: Actor, trusted: boolean) {
    this.#core = core;
    this.actor = Object.freeze({ ...actor, permissions: actor.permissions ? Object.freeze([...actor.permissions]) : undefined });
    this.#submitter = { actor: this.actor, trusted };
  }

  /** `null` (every org) for admins, else the actor's org. */
  get #scope(): string | null {
    return this.actor.admin ? null : this.actor.orgId;
  }

  /**
   * Submits a job. Resolves after the job is committed.
   * @throws UnknownJobTypeError, JobTypeDisabledError, PermissionDeniedError, ValidationError,
   *   PayloadTooLargeError, DuplicateJobError (with `existingJobId`), JobNotFoundError (a parent)
   * @example
   * ```ts
   * const job = await alice.submit('send-report', { reportId: 'r1', email: 'a@b.co' }, { priority: 'high' });
   * ```
   */
  async submit<N extends NameOf<T>>(type: N, input: InputOf<TypeByName<T, N>>, options?: SubmitOptions): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    const c = this.#core;
    const newJob = await prepareSubmission({ registry: c.registry, submitter: this.#submitter, type, input, options, now: c.clock.now(), payloadLimitBytes: c.payloadLimitBytes });
    const outcome = await c.instrumentation.sendOne(newJob, () => c.insertOne(newJob, this.actor.userId));
    const job = unwrapInsert(outcome, newJob);
    return job as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Submits several jobs in one transaction: all are written or none.
   * @throws the first error of any entry (paths are prefixed with the entry's index)
   */
  async submitMany(entries: readonly SubmitManyEntry<T>[]): Promise<TypedJob<T>[]> {
    this.#core.assertStarted();
    const c = this.#core;
    if (!Array.isArray(entries)) throw new ValidationError('submitMany takes an array', [{ path: [], message: 'expected an array' }]);
    if (entries.length === 0) return [];
    if (entries.length > SUBMIT_MANY_MAX_ENTRIES) {
      throw new ValidationError(
        `submitMany takes at most ${SUBMIT_MANY_MAX_ENTRIES.toLocaleString('en-US')} entries per call, got ${entries.length.toLocaleString('en-US')}: split the batch into several calls (each call is atomic on its own)`,
        [{ path: [], message: `more than ${SUBMIT_MANY_MAX_ENTRIES} entries` }],
      );
    }
    const now = c.clock.now();
    const prepared: NewJob[] = [];
    for (let i = 0; i < entries.length; i++) {
      // Validation and hashing are synchronous work: give the host's event loop a turn between slices.
      if (i > 0 && i % SUBMIT_MANY_YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
      const e = entries[i] as { type?: unknown; input?: unknown; options?: SubmitOptions } | undefined;
      if (!e || typeof e !== 'object') throw new ValidationError(`submitMany entry ${i} must be an object`, [{ path: [i], message: 'expected an object' }]);
      prepared.push(await prepareSubmission({ registry: c.registry, submitter: this.#submitter, type: e.type, input: e.input, options: e.options, now, payloadLimitBytes: c.payloadLimitBytes, index: i }));
    }
    const outcomes = await c.instrumentation.send(prepared, () => c.storage.insertJobs({ jobs: prepared, actorId: this.actor.userId, now, atomic: true }));
    const failed = outcomes.findIndex((o) => o.kind !== 'inserted' && o.kind !== 'not_written');
    if (failed >= 0) unwrapInsert(outcomes[failed]!, prepared[failed]!);
    const jobs = outcomes.map((o, i) => unwrapInsert(o, prepared[i]!));
    return jobs as TypedJob<T>[];
  }

  /**
   * The job with this id.
   * @throws JobNotFoundError (also for another org's job, for non-admins)
   */
  async get<N extends NameOf<T>>(id: JobId<N>): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    return (await this.#load(id)) as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Jobs matching the filters, newest first, one page at a time.
   * @example
   * ```ts
   * let page = await alice.list({ status: ['queued', 'running'], limit: 100 });
   * while (page.nextCursor) page = await alice.list({ status: ['queued', 'running'], limit: 100, cursor: page.nextCursor });
   * ```
   */
  async list(options: ListOptions = {}): Promise<JobPage<TypedJob<T>>> {
    this.#core.assertStarted();
    const o = parseOrThrow(listOptionsSchema, options, 'list options');
    const orgId = this.#orgFilter(o.orgId);
    const asArray = <V>(v: V | readonly V[] | undefined): V[] | null => (v === undefined ? null : Array.isArray(v) ? [...(v as V[])] : [v as V]);
    const page = await this.#core.storage.listJobs({
      orgId,
      statuses: asArray(o.status),
      types: asArray(o.type),
      ownerId: o.ownerId ?? null,
      createdAfter: o.createdAfter ? o.createdAfter.getTime() : null,
      createdBefore: o.createdBefore ? o.createdBefore.getTime() : null,
      limit: o.limit ?? 50,
      cursor: o.cursor ?? null,
    });
    return page as JobPage<TypedJob<T>>;
  }

  /**
   * Cancels a live job: the owner or an admin. A queued job never runs; a running job's
   * handler sees `signal.reason === 'canceled'` (at once in this process, within one
   * heartbeat elsewhere). Waiting dependents are canceled too.
   * @throws JobNotFoundError, PermissionDeniedError, InvalidStateError
   */
  async cancel<N extends NameOf<T>>(id: JobId<N>): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    const job = await this.#load(id);
    if (!this.actor.admin && job.ownerId !== this.actor.userId) {
      throw new PermissionDeniedError('Only the owner of a job or an admin can cancel it');
    }
    const c = this.#core;
    const r = await c.storage.cancelJob({ jobId: job.id, orgId: this.#scope, actorId: this.actor.userId, now: c.clock.now() });
    if (r.kind === 'not_found') throw new JobNotFoundError(job.id);
    if (r.kind === 'invalid_state') throw new InvalidStateError(`Cannot cancel a ${r.status} job`, r.status);
    c.abortLocal(job.id);
    return r.job as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Admin only: puts a dead_letter or canceled job back to `queued` with its retry budget reset.
   * @throws PermissionDeniedError, JobNotFoundError, InvalidStateError
   */
  async retry<N extends NameOf<T>>(id: JobId<N>): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    this.#requireAdmin('retry');
    const c = this.#core;
    const jobId = this.#checkId(id);
    const r = await c.storage.retryJob({ jobId, orgId: null, actorId: this.actor.userId, now: c.clock.now() });
    if (r.kind === 'not_found') throw new JobNotFoundError(jobId);
    if (r.kind === 'invalid_state') throw new InvalidStateError(`Cannot retry a ${r.status} job: only dead_letter and canceled jobs can be retried`, r.status);
    if (r.kind === 'parent_failed') throw new InvalidStateError(`Cannot retry: parent ${r.parentId} failed; retry the parent first`, 'canceled');
    return r.job as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Resolves with the job once it is completed, dead_letter or canceled, whichever process
   * runs it. Scoped like {@link JobClient.get}. Rejecting leaves the job alone.
   * @throws JobNotFoundError, TimeoutError (code TIMEOUT) after `timeoutMs`, the signal's
   *   reason when `signal` aborts, EngineStoppedError when the engine stops meanwhile
   * @example
   * ```ts
   * const job = await alice.submit('send-report', input);
   * const done = await alice.waitFor(job.id, { timeoutMs: 60_000 });
   * if (done.status === 'completed') console.log(done.output);
   * ```
   */
  async waitFor<N extends NameOf<T>>(id: JobId<N>, options: WaitForOptions = {}): Promise<TypedJob<TypeByName<T, N>>> {
    this.#core.assertStarted();
    const o = parseOrThrow(waitForOptionsSchema, options, 'waitFor options');
    const jobId = this.#checkId(id);
    const c = this.#core;
    const job = await waitForJob({ emitter: c.emitter, clock: c.clock, load: () => this.#load(jobId), onStop: c.onStop }, jobId, o);
    return job as TypedJob<TypeByName<T, N>>;
  }

  /**
   * Admin only: deletes one finished job (completed, canceled or dead_letter) with its history
   * and events, e.g. for a data-erasure request. Live jobs are refused: cancel first.
   * @throws PermissionDeniedError, JobNotFoundError, InvalidStateError (a live job)
   */
  async deleteJob(id: JobId): Promise<void> {
    this.#core.assertStarted();
    this.#requireAdmin('deleteJob');
    const jobId = this.#checkId(id);
    const r = await this.#core.storage.deleteJob({ jobId, orgId: null });
    if (r.kind === 'not_found') throw new JobNotFoundError(jobId);
    if (r.kind === 'invalid_state') {
      throw new InvalidStateError(`Cannot delete a ${r.status} job: only completed, canceled and dead_letter jobs can be deleted (cancel it first)`, r.status);
    }
  }

  /** Every state transition of the job, oldest first. @throws JobNotFoundError */
  /**
   * Why the job is (not) running: `{ jobId, status, reason, detail, since }`, where `detail`
   * names the parent, the limit and its holders, the lease holder and its last heartbeat, or
   * the next run time. Scoped like `get`.
   * @throws JobNotFoundError
   */
  async explain(id: JobId): Promise<JobExplanation> {
    this.#core.assertStarted();
    const job = await this.#load(id);
    const c = this.#core;
    return explainJob({ storage: c.storage, registry: c.registry, leaseMs: c.leaseMs, worker: c.worker, now: () => c.clock.now() }, job);
  }

  async history(id: JobId): Promise<JobHistoryEntry[]> {
    this.#core.assertStarted();
    const job = await this.#load(id);
    return this.#core.storage.listHistory({ jobId: job.id });
  }

  /**
   * Counts, queue depth, processing times and failure rates, computed by the store.
   * Non-admins see their own org; admins all orgs or `{ orgId }`.
   */
  async metrics(options: MetricsOptions = {}): Promise<Metrics> {
    this.#core.assertStarted();
    const o = parseOrThrow(metricsOptionsSchema, options, 'metrics options');
    const now = this.#core.clock.now();
    return this.#core.storage.collectMetrics({
      orgId: this.#orgFilter(o.orgId),
      since: o.since ? o.since.getTime() : now - 86_400_000,
      now,
    });
  }

  // ── schedules (issue 11) ──
  /**
   * Admin only: every recurring schedule of the engine option `schedules`, with its stored
   * state (enabled, next and last run, last job).
   * @throws PermissionDeniedError
   */
  async schedules(): Promise<ScheduleInfo[]> {
    this.#core.assertStarted();
    this.#requireAdmin('schedules');
    return this.#core.schedules().list();
  }

  /**
   * Admin only: enables or disables a schedule. Persisted, audited, and in force on every
   * engine on the store from its next tick. Re-enabling skips the ticks of the disabled time.
   * @throws PermissionDeniedError, ValidationError (unknown schedule, bad changes)
   */
  async updateSchedule(name: string, changes: ScheduleChanges): Promise<ScheduleInfo> {
    this.#core.assertStarted();
    this.#requireAdmin('updateSchedule');
    return this.#core.schedules().update(name, changes, this.actor.userId);
  }

  /** Settings in force of every registered job type. */
  async jobTypes(): Promise<JobTypeInfo[]> {
    this.#core.assertStarted();
    return this.#core.registry.list();
  }

  /**
   * Admin only: changes a job type's settings at run time. Persisted, audited, and in force
   * on every engine on the store within `pollIntervalMs`.
   * @throws PermissionDeniedError, UnknownJobTypeError, ValidationError
   */
  async updateJobType(name: NameOf<T>, changes: JobTypeSettingsChange): Promise<JobTypeInfo> {
    this.#core.assertStarted();
    this.#requireAdmin('updateJobType');
    const c = this.#core;
    const valid = c.registry.validateChange(name, changes);
    await c.storage.updateJobTypeSettings({ ...valid, actorId: this.actor.userId, now: c.clock.now() });
    c.registry.applyOverrides(await c.storage.loadJobTypeSettings());
    // In force on this engine when this resolves: no claim built with the old settings is left.
    await c.claimsSentBefore();
    return c.registry.info(valid.name);
  }

  /**
   * Admin only: deletes completed, canceled and dead_letter jobs that finished more than
   * `olderThanMs` ago, with their history, in batches. Live jobs are never deleted.
   * @returns how many jobs were deleted
   */
  async cleanup(options: { olderThanMs: number }): Promise<number> {
    this.#core.assertStarted();
    this.#requireAdmin('cleanup');
    const o = parseOrThrow(cleanupOptionsSchema, options, 'cleanup options');
    return pruneFinishedJobs(this.#core.storage, this.#core.clock.now() - o.olderThanMs);
  }

  /**
   * Subscribes to job events of this actor's org (admins: every org).
   * @returns a function that unsubscribes
   */
  on<E extends 'job:status' | 'job:progress'>(event: E, listener: JobwingEvents[E]): () => void {
    const scope = this.#scope;
    // Returns the listener's result, so the emitter can report an async listener's rejection.
    const filtered = ((e: { orgId: string }): unknown => {
      if (scope === null || e.orgId === scope) return (listener as (e: unknown) => unknown)(e);
      return undefined;
    }) as JobwingEvents[E];
    this.#core.emitter.on(event, filtered as never);
    return () => {
      this.#core.emitter.off(event, filtered as never);
    };
  }

  /**
   * Reads the store's event tail after a cursor, scoped like `on` (own org; admins: all).
   * Unlike `on`, a reader can stop and resume exactly where it left off (each record's
   * `cursor`), with no gap and no duplicate, as long as the events are retained; this is
   * what Server-Sent Events resume (`Last-Event-ID`) is built on.
   * @throws ValidationError for a malformed cursor or option
   */
  async readEvents(options: ReadEventsOptions = {}): Promise<JobEventPage> {
    this.#core.assertStarted();
    const o = parseOrThrow(readEventsOptionsSchema, options, 'readEvents options');
    const storage = this.#core.storage;
    const limit = o.limit ?? 500;
    const after = o.after ?? null;
    if (after === null) return { items: [], cursor: (await storage.readEvents({ after: null, limit: 0 })).cursor, done: true };
    let read = limit;
    let page = await storage.readEvents({ after, limit: read });
    // A store without per-event positions: read one event at a time, so each has its cursor.
    if (!page.cursors && page.events.length > 1) page = await storage.readEvents({ after, limit: (read = 1) });
    const scope = this.#scope;
    const items: JobEventRecord[] = [];
    page.events.forEach((e, i) => {
      if (scope !== null && e.event.orgId !== scope) return;
      if (o.jobId !== undefined && e.event.jobId !== o.jobId) return;
      const cursor = page.cursors?.[i] ?? page.cursor;
      items.push(e.kind === 'status' ? { name: 'job:status', event: e.event, cursor } : { name: 'job:progress', event: e.event, cursor });
    });
    return { items, cursor: page.cursor, done: page.events.length < read };
  }

  /** @internal The engine's instrumentation slot (jobwing/otel, the Prometheus exposition). */
  get [INSTRUMENTATION](): Instrumentation {
    return this.#core.instrumentation;
  }

  #checkId(id: unknown): string {
    // Not a string, empty or absurdly long: behaves like an id that does not exist.
    // So is one no store could hold (a NUL byte): Postgres would fail the query instead.
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || checkString(id) !== null) {
      throw new JobNotFoundError(String(id));
    }
    return id;
  }

  async #load(id: unknown): Promise<Job> {
    const jobId = this.#checkId(id);
    const job = await this.#core.storage.getJob({ id: jobId, orgId: this.#scope });
    if (!job) throw new JobNotFoundError(jobId);
    return job;
  }

  #orgFilter(orgId: string | undefined): string | null {
    if (this.actor.admin) return orgId ?? null;
    if (orgId !== undefined && orgId !== this.actor.orgId) {
      throw new PermissionDeniedError('Only admins can read across organizations');
    }
    return this.actor.orgId;
  }

  #requireAdmin(verb: string): void {
    if (!this.actor.admin) throw new PermissionDeniedError(`${verb} is for admins only`);
  }
}

/** Maps an insert outcome to the job, or to the error the caller gets. */
/**
 * The largest `submitMany` batch. One batch is one transaction, and on SQLite a transaction
 * runs synchronously: measured on a 2-core machine, 5,000 entries hold the event loop for the
 * insert about 25–50 ms (bench/submit-many-stall.ts); 50,000 held it 2–3 s (review defect 6).
 */
export const SUBMIT_MANY_MAX_ENTRIES = 5_000;
/** Entries prepared between two yields to the event loop (about 5 ms of work). */
const SUBMIT_MANY_YIELD_EVERY = 500;

function unwrapInsert(outcome: InsertOutcome, job: NewJob): Job {
  switch (outcome.kind) {
    case 'inserted':
      return outcome.job;
    case 'duplicate':
      throw new DuplicateJobError(outcome.existingJobId, job.type);
    case 'parent_not_found':
      throw new JobNotFoundError(outcome.parentId);
    case 'not_written':
      throw new InvalidStateError('Not written: another job of the batch was rejected', 'queued');
  }
}
